/**
 * Fake quantizers for training: the forward pass computes exactly what @onebit/quant computes (round half to
 * even — tf.round is banker's rounding — in float32, same order of operations); the backward pass is the
 * straight-through estimator: the gradient of round/clip/sign/Top-K is taken as identity (x_q = x + sg(q(x) − x)).
 * Shapes: weights [out, in]; activations [..., features] quantized per token (last axis), per group when G > 1.
 */
import type { ActivationQuant, WeightQuant } from "@onebit/layers";
import { tf } from "./tf-backend";
import { TrainConfigError } from "./train-errors";

type Tensor = tf.Tensor;
const EPS = 1e-5;

/** q(x) forward, identity backward. */
export function straightThrough(x: Tensor, q: (x: Tensor) => Tensor): Tensor {
  const f = tf.customGrad(((input: Tensor) => ({ value: q(input), gradFunc: (dy: Tensor) => dy })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (f as unknown as (t: Tensor) => Tensor)(x);
}

/** Statistic over the last axis, per token (and per group of features when groups > 1), keepDims. */
function perGroup(x: Tensor, groups: number, stat: (t: Tensor) => Tensor): { stat: Tensor; reshape: (t: Tensor) => Tensor; back: (t: Tensor) => Tensor } {
  if (groups === 1) return { stat: stat(x), reshape: (t) => t, back: (t) => t };
  const shape = x.shape;
  const n = shape[shape.length - 1]!;
  const grouped = [...shape.slice(0, -1), groups, n / groups];
  return { stat: stat(x.reshape(grouped)), reshape: (t) => t.reshape(grouped), back: (t) => t.reshape(shape) };
}

/** mean|x| for int4, max|x| for every other activation quantizer, over the last axis, keepDims. */
const activationStat = (kind: ActivationQuant) => (t: Tensor) => (kind === "int4" ? t.abs().mean(-1, true) : t.abs().max(-1, true));

/**
 * The statistic an activation quantizer scales by, computed exactly as fakeQuantActivation computes it (exposed so
 * tests can tell a difference in the statistic from one in the quantizer): per token and group,
 * x [..., F] → [..., 1] (groups = 1) or [..., G, 1]. (Top-K keeps the largest |x|, so its max is x's.)
 */
export function activationStatistic(x: Tensor, kind: Exclude<ActivationQuant, "none">, groups = 1): Tensor {
  return tf.tidy(() => perGroup(x, groups, activationStat(kind)).stat);
}

/** The k-th largest |x| along the last axis, keepDims: the threshold Top-K keeps (K = ⌈fraction·n⌉). */
function topKThreshold(absX: Tensor, fraction: number): Tensor {
  const n = absX.shape[absX.shape.length - 1]!;
  const k = Math.max(1, Math.ceil(fraction * n - 1e-9));
  return tf.topk(absX, k).values.slice([...new Array(absX.rank - 1).fill(0), k - 1], [...absX.shape.slice(0, -1), 1]);
}

/**
 * Int8-topk keeps the top K of each token's features — of each group of them when groups > 1 (as @onebit/quant's
 * quantizeTopKInt8 with G groups: a tensor-parallel shard ranks only its own features, no statistic crosses shards).
 */
export function fakeQuantActivation(x: Tensor, kind: ActivationQuant, options: { groups?: number; topKFraction?: number; epsMode?: "clamp" | "add" } = {}): Tensor {
  if (kind === "none") return x;
  const groups = options.groups ?? 1;
  const guard = (s: Tensor) => (options.epsMode === "add" ? s.add(EPS) : s.maximum(EPS));
  return straightThrough(x, (input) =>
    tf.tidy(() => {
      let v = input;
      if (kind === "int8-topk") {
        const t = perGroup(v, groups, (a) => a);
        const a = t.reshape(v).abs();
        v = t.back(t.reshape(v).mul(a.greaterEqual(topKThreshold(a, options.topKFraction ?? 0.5)).cast("float32")));
      }
      const g = perGroup(v, groups, activationStat(kind));
      const vg = g.reshape(v);
      if (kind === "int8" || kind === "int8-topk") {
        const s = tf.scalar(127).div(guard(g.stat));
        return g.back(vg.mul(s).round().clipByValue(-128, 127).div(s));
      }
      if (kind === "int4") {
        const s = tf.scalar(Math.fround(Math.sqrt(7))).div(guard(g.stat));
        return g.back(vg.mul(s).round().clipByValue(-8, 7).div(s));
      }
      if (kind === "absmax8") {
        const s = tf.scalar(128).div(g.stat.maximum(1e-30));
        return g.back(vg.mul(s).round().clipByValue(-128, 127).div(s));
      }
      if (kind === "fp4") {
        const max = g.stat;
        const toGrid = tf.scalar(12).div(max.maximum(1e-30));
        const xp = vg.mul(toGrid);
        const a = xp.abs();
        const step = tf.where(a.less(4), tf.onesLike(a), tf.where(a.less(8), tf.onesLike(a).mul(2), tf.onesLike(a).mul(4)));
        const q = a.div(step).round().mul(step).minimum(12).mul(xp.sign());
        return g.back(q.mul(max.div(12)));
      }
      throw new TrainConfigError(`fakeQuantActivation: unknown activation quantizer "${kind}"`);
    }),
  );
}

/** A weight [out, in] as G slabs, one per group: [G, out/G, in] ("out": row blocks) or [G, out, in/G] ("in": column blocks); and back. */
function weightGroups(w: Tensor, groups: number, groupAxis: "out" | "in" = "out"): { grouped: Tensor; restore: (t: Tensor) => Tensor } {
  const [out, inF] = w.shape as [number, number];
  if (groups === 1) return { grouped: w.reshape([1, out, inF]), restore: (t) => t.reshape([out, inF]) };
  if (groupAxis === "in") return { grouped: w.reshape([out, groups, inF / groups]).transpose([1, 0, 2]), restore: (t) => t.transpose([1, 0, 2]).reshape([out, inF]) };
  return { grouped: w.reshape([groups, out / groups, inF]), restore: (t) => t.reshape([out, inF]) };
}

/**
 * The statistics weight quantizers scale by, computed exactly as fakeQuantWeight computes them (exposed for tests):
 * per group [G, 1, 1], absMean = mean|W| (ternary γ, binary β) and mean = mean(W) (binary α).
 */
export function weightStatistics(w: Tensor, options: { groups?: number; groupAxis?: "out" | "in" } = {}): { absMean: Tensor; mean: Tensor } {
  return tf.tidy(() => {
    const { grouped } = weightGroups(w, options.groups ?? 1, options.groupAxis);
    return { absMean: grouped.abs().mean([1, 2], true), mean: grouped.mean([1, 2], true) };
  });
}

/**
 * Weight fake quantization with statistics per tensor or per group: "out" splits rows in G groups (column-
 * parallel), "in" splits columns (row-parallel).
 */
export function fakeQuantWeight(w: Tensor, kind: WeightQuant, options: { groups?: number; groupAxis?: "out" | "in"; epsMode?: "clamp" | "add" } = {}): Tensor {
  if (kind === "none") return w;
  const groups = options.groups ?? 1;
  return straightThrough(w, (input) =>
    tf.tidy(() => {
      const { grouped, restore } = weightGroups(input, groups, options.groupAxis); // [G, rowsPer, colsPer]
      if (kind === "ternary") {
        const gamma = grouped.abs().mean([1, 2], true);
        const denom = options.epsMode === "add" ? gamma.add(EPS) : gamma.maximum(EPS);
        const s = tf.scalar(1).div(denom);
        const codes = grouped.mul(s).round().clipByValue(-1, 1);
        return restore(options.epsMode === "add" ? codes.mul(gamma) : codes.div(s));
      }
      // binary: Sign(W − α)·β, Sign(0) = −1
      const alpha = grouped.mean([1, 2], true);
      const beta = grouped.abs().mean([1, 2], true);
      const sign = tf.where(grouped.sub(alpha).greater(0), tf.onesLike(grouped), tf.onesLike(grouped).neg());
      return restore(sign.mul(beta));
    }),
  );
}
