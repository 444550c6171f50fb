/** Equal-width histogram of values (e.g. one layer's activations), the data behind `onebit inspect`'s charts. */
export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
  /** Count of exact zeros (activation sparsity), reported separately because ReLU²/Top-K make them a spike. */
  zeros: number;
  total: number;
}

export function histogram(values: ArrayLike<number>, bins = 40): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, got ${bins}`);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`histogram: value ${i} is ${v}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v === 0) zeros++;
  }
  if (values.length === 0) return { edges: [0, 1], counts: [0], zeros: 0, total: 0 };
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(bins - 1, Math.floor((values[i]! - lo) / width));
    counts[b]!++;
  }
  return { edges, counts, zeros, total: values.length };
}
