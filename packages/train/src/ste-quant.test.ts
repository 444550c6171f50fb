/**
 * The forward quantization of training equals @onebit/quant's bit for bit (codes), and the straight-through
 * estimator passes gradients unchanged.
 */
import { quantizeBinary, quantizeFp4, quantizeInt4, quantizeInt8, quantizeTernary, quantizeTopKInt8, dequantize } from "@onebit/quant";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeQuantActivation, fakeQuantWeight } from "./ste-quant";
import { tf, useTrainBackend } from "./tf-backend";

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}

const ulps = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(b[i]!) * 2.5e-7 + 1e-30);
};

describe.each(["cpu", "wasm"] as const)("fake quantization on tfjs-%s", (backend) => {
  beforeAll(async () => {
    await useTrainBackend(backend);
  });
  const r = rng(3);
  const x = Float32Array.from({ length: 6 * 40 }, () => r() * 6);
  x[5] = 0.5; // ties stay ties
  const shape = [6, 40] as const;
  const act = (kind: Parameters<typeof fakeQuantActivation>[1], groups = 1) => fakeQuantActivation(tf.tensor(x, [...shape]), kind, { groups }).dataSync();

  it("INT8, INT4, FP4 and Top-K activations equal @onebit/quant", () => {
    ulps(act("int8"), dequantize(quantizeInt8(x, shape)));
    ulps(act("int8", 4), dequantize(quantizeInt8(x, shape, { granularity: { groups: 4, axis: "row-cols" } })));
    ulps(act("int4"), dequantize(quantizeInt4(x, shape)));
    ulps(act("fp4"), dequantize(quantizeFp4(x, shape)));
    ulps(act("int8-topk"), dequantize(quantizeTopKInt8(x, shape)));
    ulps(act("int8-topk", 4), dequantize(quantizeTopKInt8(x, shape, { granularity: { groups: 4, axis: "row-cols" } })));
  });
  it("ternary and binary weights equal @onebit/quant, per tensor and per group", () => {
    const w = tf.tensor(x, [...shape]);
    ulps(fakeQuantWeight(w, "ternary").dataSync(), dequantize(quantizeTernary(x, shape)));
    ulps(fakeQuantWeight(w, "ternary", { groups: 2, groupAxis: "out" }).dataSync(), dequantize(quantizeTernary(x, shape, { granularity: { groups: 2, axis: "rows" } })));
    ulps(fakeQuantWeight(w, "ternary", { groups: 4, groupAxis: "in" }).dataSync(), dequantize(quantizeTernary(x, shape, { granularity: { groups: 4, axis: "cols" } })));
    ulps(fakeQuantWeight(w, "binary").dataSync(), dequantize(quantizeBinary(x, shape)));
  });
  it("passes gradients straight through round, clip, sign and Top-K", () => {
    const w = tf.tensor(x, [...shape]);
    const dy = tf.tensor(Float32Array.from({ length: x.length }, (_, i) => i), [...shape]);
    for (const f of [(t: tf.Tensor) => fakeQuantWeight(t, "ternary"), (t: tf.Tensor) => fakeQuantWeight(t, "binary"), (t: tf.Tensor) => fakeQuantActivation(t, "int8-topk")]) {
      const g = tf.grad((t: tf.Tensor) => f(t).mul(dy).sum())(w);
      expect([...g.dataSync()]).toEqual([...dy.dataSync()]);
    }
  });
});
