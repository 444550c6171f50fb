/**
 * a4.8 Top-K sparsification of the attention output projection's input: per token keep the K = ⌈fraction·n⌉
 * entries of largest |x| (ties: the lower index wins, so the result is deterministic), zero the rest, then
 * INT8-quantize:  Y = (Q_INT8(X) ⊙ M) · Q_w(W)ᵀ,  M = TopK(|X|).
 * With group quantization (G groups of features, granularity {groups: G, axis: "row-cols"}) the Top-K, like every
 * other statistic, is taken in each group alone: K = ⌈fraction·n/G⌉ per token and group, so a tensor-parallel
 * shard ranks only its own features (BitNet arXiv 2310.11453 §2.3: no statistics cross devices).
 */
import { type ActivationQuantOptions, quantizeInt8 } from "./int-absmax";
import type { QuantizedTensor } from "./quantized-tensor";
import { assertFinite, assertLength, assertShape, QuantInputError, type Shape2D } from "./validate";

export function topKCount(features: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new QuantInputError(`topK fraction: expected a number in (0, 1], got ${fraction}`);
  return Math.max(1, Math.ceil(fraction * features - 1e-9));
}

/** Mask [rows, cols] with 1 where an entry is kept: the top K of each row, or of each of a row's `groups` groups. */
export function topKMask(x: ArrayLike<number>, shape: Shape2D, fraction = 0.5, groups = 1): Uint8Array {
  assertShape("topKMask shape", shape);
  const [rows, cols] = shape;
  assertLength("topKMask input", x, rows * cols);
  assertFinite("topKMask input", x);
  if (!Number.isInteger(groups) || groups < 1 || cols % groups !== 0) throw new QuantInputError(`topKMask groups: ${groups} does not divide ${cols} features`);
  const per = cols / groups;
  const k = topKCount(per, fraction);
  const mask = new Uint8Array(rows * cols);
  const idx = new Int32Array(per);
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < groups; g++) {
      const base = r * cols + g * per;
      for (let c = 0; c < per; c++) idx[c] = c;
      idx.sort((a, b) => Math.abs(x[base + b]!) - Math.abs(x[base + a]!) || a - b);
      for (let j = 0; j < k; j++) mask[base + idx[j]!] = 1;
    }
  return mask;
}

export function sparsifyTopK(x: ArrayLike<number>, shape: Shape2D, fraction = 0.5): Float32Array {
  const mask = topKMask(x, shape, fraction);
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? x[i]! : 0;
  return out;
}

export interface TopKQuantized extends QuantizedTensor<Int8Array> {
  mask: Uint8Array;
}

/**
 * Top-K then INT8 absmax (per token by default; per token and group with granularity {groups, axis: "row-cols"},
 * the Top-K then per group too). γ = max|x| is unchanged by the sparsification.
 */
export function quantizeTopKInt8(
  x: ArrayLike<number>,
  shape: Shape2D,
  options: ActivationQuantOptions & { fraction?: number } = {},
): TopKQuantized {
  const g = options.granularity;
  const groups = typeof g === "object" && g !== null && g.axis === "row-cols" ? g.groups : 1;
  const mask = topKMask(x, shape, options.fraction ?? 0.5, groups);
  const sparse = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) sparse[i] = mask[i] ? x[i]! : 0;
  const q = quantizeInt8(sparse, shape, options);
  return { ...q, scheme: "int8-topk", mask };
}
