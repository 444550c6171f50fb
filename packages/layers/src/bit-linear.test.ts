/**
 * BitLinear against a float computation on the same quantized values: the test dequantizes weights and activations
 * with @onebit/quant and multiplies in float64 — independent of the packed kernels.
 */
import { dequantize, quantizeAbsmaxBitnet, quantizeBinary, quantizeFp4, quantizeInt4, quantizeInt8, quantizeTernary, quantizeTopKInt8 } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { BitLinear, type BitLinearSpec, forwardShared, projectionsOfOneInput } from "./bit-linear";
import { linearQuantFor, type Projection, type Variant } from "./bitlinear-variant";
import { LayerSpecError } from "./layer-spec-error";
import { backend, close, floatMatmul, rng } from "./testing/float-reference";

const cases: Array<[Variant, Projection]> = [
  ["bitnet", "q"], ["b1.58", "q"], ["a4.8", "q"], ["a4.8", "o"], ["a4.8", "down"], ["a4.8-fp4", "gate"], ["fp", "up"],
];

describe("BitLinear", () => {
  for (const [variant, projection] of cases) {
    it(`${variant} ${projection}: equals a float matmul of the dequantized weight and input`, () => {
      const r = rng(variant.length * 7 + projection.length);
      const [out, inF, tokens] = [9, 40, 3];
      const w = Float32Array.from({ length: out * inF }, r);
      const x = Float32Array.from({ length: tokens * inF }, () => r() * 4);
      const quant = linearQuantFor(variant, projection);
      const spec: BitLinearSpec = { inFeatures: inF, outFeatures: out, quant, groups: 1, groupAxis: "out", epsMode: "clamp" };
      const layer = new BitLinear(spec, w, backend);
      const wd =
        quant.weight === "ternary" ? dequantize(quantizeTernary(w, [out, inF])) : quant.weight === "binary" ? dequantize(quantizeBinary(w, [out, inF])) : w;
      const shape = [tokens, inF] as const;
      const xd = {
        none: () => x,
        int8: () => dequantize(quantizeInt8(x, shape)),
        absmax8: () => dequantize(quantizeAbsmaxBitnet(x, shape, { bits: 8 })),
        int4: () => dequantize(quantizeInt4(x, shape)),
        fp4: () => dequantize(quantizeFp4(x, shape)),
        "int8-topk": () => dequantize(quantizeTopKInt8(x, shape)),
      }[quant.activation]();
      close(layer.forward(x, tokens), floatMatmul(xd, wd, tokens, out, inF));
    });
  }
  it("group quantization: per-group weight statistics (column-parallel) and per-group activations (row-parallel)", () => {
    const r = rng(99);
    const [out, inF] = [8, 32];
    const w = Float32Array.from({ length: out * inF }, r);
    const x = Float32Array.from({ length: 2 * inF }, r);
    const quant = linearQuantFor("b1.58", "q");
    const col = new BitLinear({ inFeatures: inF, outFeatures: out, quant, groups: 2, groupAxis: "out", epsMode: "clamp" }, w, backend);
    const wdCol = dequantize(quantizeTernary(w, [out, inF], { granularity: { groups: 2, axis: "rows" } }));
    close(col.forward(x, 2), floatMatmul(dequantize(quantizeInt8(x, [2, inF])), wdCol, 2, out, inF));
    const row = new BitLinear({ inFeatures: inF, outFeatures: out, quant, groups: 4, groupAxis: "in", epsMode: "clamp" }, w, backend);
    const wdRow = dequantize(quantizeTernary(w, [out, inF], { granularity: { groups: 4, axis: "cols" } }));
    const xdRow = dequantize(quantizeInt8(x, [2, inF], { granularity: { groups: 4, axis: "row-cols" } }));
    close(row.forward(x, 2), floatMatmul(xdRow, wdRow, 2, out, inF));
  });
  it("counts zero inputs and validates its spec", () => {
    const quant = linearQuantFor("a4.8", "o");
    const layer = new BitLinear({ inFeatures: 8, outFeatures: 2, quant, groups: 1, groupAxis: "out", epsMode: "clamp" }, new Float32Array(16).fill(0.1), backend);
    layer.forward(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 1);
    expect(layer.sparsity.zeros / layer.sparsity.inputs).toBe(0.5); // Top-K 50 %
    expect(() => new BitLinear({ inFeatures: 8, outFeatures: 2, quant, groups: 3, groupAxis: "out", epsMode: "clamp" }, new Float32Array(16), backend)).toThrow(
      "bitLinear.groups: 3 does not divide outFeatures 2",
    );
    expect(() => layer.forward(new Float32Array(7), 1)).toThrow("bitLinear input: has 7 values, expected tokens·in = 1·8");
    expect(() => layer.forward(new Float32Array(7), 1)).toThrow(LayerSpecError);
  });
});

describe("projectionsOfOneInput", () => {
  const spec = (out: number, inF = 192): BitLinearSpec => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor("b1.58", "q"), groups: 1, groupAxis: "out", epsMode: "clamp" });
  const latent = (n: number, seed: number) => Float32Array.from({ length: n }, rng(seed));

  it("on wasm: one weight over q, k and v, forwardShared's outputs those of each projection run apart on js, bit for bit", async () => {
    const { createBackend } = await import("@onebit/kernels");
    const wasm = await createBackend("wasm", { threads: 2, simd: "baseline" });
    const js = await createBackend("js");
    try {
      const specs = [spec(128), spec(32), spec(32)];
      const weights = specs.map((s, i) => latent(s.outFeatures * s.inFeatures, 10 + i));
      const joined = projectionsOfOneInput(specs, weights, wasm);
      const apart = specs.map((s, i) => new BitLinear(s, weights[i]!, js));
      expect(joined[0]!.joined).toBeDefined();
      expect(joined.every((l) => l.joined === joined[0]!.joined)).toBe(true);
      const bitLinears = () => wasm.kernels().find((k) => k.kernel === "bitLinear")!.calls.native;
      for (const tokens of [1, 20]) {
        const x = latent(tokens * 192, 20 + tokens);
        const before = bitLinears();
        const got = forwardShared(joined, x, tokens);
        expect(bitLinears()).toBe(before + 1);
        const want = forwardShared(apart, x, tokens);
        for (let i = 0; i < 3; i++) expect([...(got[i] as Float32Array)]).toEqual([...(want[i] as Float32Array)]);
      }
      // every projection counted the input's codes, as a projection run apart does
      expect(joined.map((l) => l.sparsity.inputs)).toEqual(apart.map((l) => l.sparsity.inputs));
      // projections that quantize their input differently are placed apart
      const mixed = projectionsOfOneInput([spec(32), { ...spec(32), epsMode: "add" }], [latent(32 * 192, 30), latent(32 * 192, 31)], wasm);
      expect(mixed.some((l) => l.joined)).toBe(false);
    } finally {
      wasm.dispose();
      js.dispose();
    }
  });
});
