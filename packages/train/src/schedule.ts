/**
 * Learning-rate and weight-decay schedules.
 * - "linear": warm-up then linear decay to 10 % of the peak.
 * - "two-stage" (b1.58 recipe): the same shape, but at the midpoint the learning rate steps down to
 *   `secondStageLr` (default 2/3 of the peak: 1.5e-3 → 1e-3, 1.2e-3 → 8e-4) and weight decay goes to 0.
 */
export type ScheduleKind = "linear" | "two-stage";

export interface ScheduleOptions {
  kind: ScheduleKind;
  peakLr: number;
  totalSteps: number;
  warmupSteps: number;
  weightDecay: number;
  secondStageLr?: number;
}

export function scheduleAt(step: number, o: ScheduleOptions): { lr: number; weightDecay: number } {
  const { peakLr, totalSteps, warmupSteps } = o;
  if (step < warmupSteps) return { lr: (peakLr * (step + 1)) / warmupSteps, weightDecay: o.weightDecay };
  const mid = Math.floor(totalSteps / 2);
  const decay = (from: number, start: number, end: number) => {
    const t = Math.min(1, Math.max(0, (step - start) / Math.max(1, end - start)));
    return from * (1 - 0.9 * t);
  };
  if (o.kind === "linear") return { lr: decay(peakLr, warmupSteps, totalSteps), weightDecay: o.weightDecay };
  if (step < mid) return { lr: decay(peakLr, warmupSteps, totalSteps), weightDecay: o.weightDecay };
  return { lr: decay(o.secondStageLr ?? (peakLr * 2) / 3, warmupSteps, totalSteps), weightDecay: 0 };
}
