/**
 * Fake quantizers for training: the forward pass computes exactly what @onebit/quant computes (round half to
 * even — tf.round is banker's rounding — in float32, same order of operations); the backward pass is the
 * straight-through estimator: the gradient of round/clip/sign/Top-K is taken as identity (x_q = x + sg(q(x) − x)).
 * Shapes: weights [out, in]; activations [..., features] quantized per token (last axis), per group when G > 1.
 */
import type { ActivationQuant, WeightQuant } from "@onebit/layers";
import { tf } from "./tf-backend";

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

export function fakeQuantActivation(x: Tensor, kind: ActivationQuant, options: { groups?: number; topKFraction?: number; epsMode?: "clamp" | "add" } = {}): Tensor {
  if (kind === "none") return x;
  const groups = options.groups ?? 1;
  const guard = (s: Tensor) => (options.epsMode === "add" ? s.add(EPS) : s.maximum(EPS));
  return straightThrough(x, (input) =>
    tf.tidy(() => {
      let v = input;
      if (kind === "int8-topk") {
        const n = v.shape[v.shape.length - 1]!;
        const k = Math.max(1, Math.ceil((options.topKFraction ?? 0.5) * n - 1e-9));
        const a = v.abs();
        const kth = tf.topk(a, k).values.slice([...new Array(v.rank - 1).fill(0), k - 1], [...v.shape.slice(0, -1), 1]);
        v = v.mul(a.greaterEqual(kth).cast("float32"));
      }
      const g = perGroup(v, groups, (t) => (kind === "int4" ? t.abs().mean(-1, true) : t.abs().max(-1, true)));
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
      throw new Error(`fakeQuantActivation: unknown activation quantizer "${kind}"`);
    }),
  );
}

/**
 * Weight fake quantization with statistics per tensor or per group: "out" splits rows in G groups (column-
 * parallel), "in" splits columns (row-parallel).
 */
export function fakeQuantWeight(w: Tensor, kind: WeightQuant, options: { groups?: number; groupAxis?: "out" | "in"; epsMode?: "clamp" | "add" } = {}): Tensor {
  if (kind === "none") return w;
  const groups = options.groups ?? 1;
  const [out, inF] = w.shape as [number, number];
  return straightThrough(w, (input) =>
    tf.tidy(() => {
      // [G, rowsPer, colsPer] view where every group is one slab
      const grouped =
        groups === 1 ? input.reshape([1, out, inF]) : options.groupAxis === "in" ? input.reshape([out, groups, inF / groups]).transpose([1, 0, 2]) : input.reshape([groups, out / groups, inF]);
      const restore = (t: Tensor) => (groups === 1 ? t.reshape([out, inF]) : options.groupAxis === "in" ? t.transpose([1, 0, 2]).reshape([out, inF]) : t.reshape([out, inF]));
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
