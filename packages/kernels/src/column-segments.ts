/**
 * The columns of a BitLinear split where either the weight's column group ("in" scale axis) or the
 * activations' feature group changes: inside a segment one integer dot product is scaled by one
 * (weight scale × activation scale) pair.
 */
export interface ColumnSegment {
  start: number;
  end: number;
  /** Weight column group (0 unless the weight's scaleAxis is "in"). */
  wGroup: number;
  /** Activation feature group. */
  xGroup: number;
}

export function columnSegments(inFeatures: number, weightColumnGroups: number, activationGroups: number): ColumnSegment[] {
  const wPer = inFeatures / weightColumnGroups;
  const xPer = inFeatures / activationGroups;
  const cuts = new Set<number>([0, inFeatures]);
  for (let g = 1; g < weightColumnGroups; g++) cuts.add(g * wPer);
  for (let g = 1; g < activationGroups; g++) cuts.add(g * xPer);
  const sorted = [...cuts].sort((a, b) => a - b);
  const segments: ColumnSegment[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const start = sorted[i]!;
    segments.push({ start, end: sorted[i + 1]!, wGroup: Math.floor(start / wPer), xGroup: Math.floor(start / xPer) });
  }
  return segments;
}
