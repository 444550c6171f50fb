/**
 * The conformance suite, re-run for every backend: BitLinear results identical to the js reference (integer dot
 * products are exact and the float epilogue is the same expression), floats within stated tolerances, odd sizes,
 * 1 to many tokens, 1 and 2 threads. The js backend itself is checked against a naive computation on codes
 * unpacked by @onebit/quant.
 */
import { packBinaryB1, packTernaryT2, quantizeInt8, unpackTernaryT2 } from "@onebit/quant";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, PackedLinearWeight, QuantizedActivations } from "./backend";
import { createBackend } from "./backends";
import { createJsBackend } from "./js/js-backend";

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function ternaryWeight(out: number, inF: number, seed: number, scaleAxis: PackedLinearWeight["scaleAxis"] = "tensor", groups = 1): PackedLinearWeight {
  const r = rng(seed);
  const values = Int8Array.from({ length: out * inF }, () => Math.floor(r() * 3) - 1);
  const scales = Float32Array.from({ length: scaleAxis === "tensor" ? 1 : groups }, () => 0.01 + r() * 0.1);
  return { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(values, out, inF), scales, scaleAxis };
}

function binaryWeight(out: number, inF: number, seed: number): PackedLinearWeight {
  const r = rng(seed);
  const values = Int8Array.from({ length: out * inF }, () => (r() < 0.5 ? -1 : 1));
  return { kind: "binary", outFeatures: out, inFeatures: inF, data: packBinaryB1(values, out, inF), scales: Float32Array.of(0.05), scaleAxis: "tensor" };
}

function activations(tokens: number, features: number, seed: number, opts: { bits?: 8 | 4; groups?: number; zeroFraction?: number } = {}): QuantizedActivations {
  const r = rng(seed);
  const lo = opts.bits === 4 ? -8 : -128;
  const hi = opts.bits === 4 ? 7 : 127;
  const codes = Int8Array.from({ length: tokens * features }, () => (r() < (opts.zeroFraction ?? 0) ? 0 : lo + Math.floor(r() * (hi - lo + 1))));
  const groups = opts.groups ?? 1;
  const scales = Float32Array.from({ length: tokens * groups }, () => 0.001 + r() * 0.01);
  return { tokens, features, codes, scales, groups, bits: opts.bits ?? 8, sparse: (opts.zeroFraction ?? 0) > 0.5 };
}

describe("js reference BitLinear", () => {
  it("equals a naive float computation on codes unpacked by @onebit/quant", () => {
    const js = createJsBackend();
    const w = ternaryWeight(5, 70, 1);
    const x = activations(3, 70, 2);
    const y = js.bitLinear(js.prepareWeight(w), x);
    const codes = unpackTernaryT2(w.data, 5, 70);
    for (let t = 0; t < 3; t++)
      for (let o = 0; o < 5; o++) {
        let dot = 0;
        for (let i = 0; i < 70; i++) dot += codes[o * 70 + i]! * x.codes[t * 70 + i]!;
        expect(y[t * 5 + o]).toBe(Math.fround(dot * w.scales[0]! * x.scales[t]!));
      }
  });
  it("applies per-group weight and activation scales segment by segment", () => {
    const js = createJsBackend();
    const w = ternaryWeight(4, 8, 3, "in", 2);
    const x = activations(1, 8, 4, { groups: 2 });
    const y = js.bitLinear(js.prepareWeight(w), x);
    const codes = unpackTernaryT2(w.data, 4, 8);
    for (let o = 0; o < 4; o++) {
      let want = 0;
      for (let g = 0; g < 2; g++) {
        let dot = 0;
        for (let i = 4 * g; i < 4 * g + 4; i++) dot += codes[o * 8 + i]! * x.codes[i]!;
        want += dot * w.scales[g]! * x.scales[g]!;
      }
      expect(y[o]).toBe(Math.fround(want));
    }
  });
  it("computes real RMSNorm + INT8 like @onebit/quant on the normalised values", () => {
    const js = createJsBackend();
    const xs = Float32Array.from([1, -2, 3, -4, 0.5, 0.25, -0.125, 8]);
    const q = js.rmsNormQuantize(xs, 2, 4, null, 1e-5, { kind: "int8" });
    const rms0 = Math.sqrt((1 + 4 + 9 + 16) / 4 + 1e-5);
    const want = quantizeInt8(Float32Array.from([1, -2, 3, -4].map((v) => Math.fround(v * Math.fround(1 / rms0)))), [1, 4]);
    expect([...q.codes.subarray(0, 4)]).toEqual([...want.codes]);
  });
});

const configs: Array<{ name: string; make: () => Promise<Backend> }> = [
  { name: "wasm, 1 thread", make: () => createBackend("wasm", { threads: 1 }) },
  { name: "wasm, 2 threads", make: () => createBackend("wasm", { threads: 2 }) },
];

for (const config of configs) {
  describe(`conformance: ${config.name}`, () => {
    let backend: Backend;
    const ref = createJsBackend();
    beforeAll(async () => {
      backend = await config.make();
    });
    afterAll(() => backend?.dispose());

    const same = (w: PackedLinearWeight, x: QuantizedActivations, rowMask?: Uint8Array) => {
      const want = ref.bitLinear(ref.prepareWeight(w), x, { rowMask });
      const got = backend.bitLinear(backend.prepareWeight(w), x, { rowMask });
      expect([...got]).toEqual([...want]);
    };

    it("ternary × int8, odd sizes, 1..9 tokens", () => {
      for (const [out, inF, tokens] of [
        [1, 1, 1], [3, 63, 1], [7, 65, 2], [13, 200, 5], [33, 130, 9], [64, 256, 4], [17, 1000, 3],
      ] as const)
        same(ternaryWeight(out, inF, out * 31 + inF), activations(tokens, inF, tokens * 7 + inF));
    });
    it("binary × int8", () => {
      for (const [out, inF, tokens] of [[5, 100, 1], [9, 300, 6]] as const) same(binaryWeight(out, inF, inF), activations(tokens, inF, out));
    });
    it("ternary × int4", () => same(ternaryWeight(11, 150, 5), activations(5, 150, 6, { bits: 4 })));
    it("ternary × sparse int8 (85 % zeros, the sparse kernel) and 30 % zeros (dense)", () => {
      same(ternaryWeight(21, 300, 7), activations(1, 300, 8, { zeroFraction: 0.85 }));
      same(ternaryWeight(21, 300, 9), activations(1, 300, 10, { zeroFraction: 0.3 }));
    });
    it("gated rows: only rows the mask selects are computed, the rest are 0", () => {
      const mask = Uint8Array.from({ length: 19 }, (_, i) => (i % 3 === 0 ? 1 : 0));
      same(ternaryWeight(19, 77, 11), activations(3, 77, 12), mask);
      same(ternaryWeight(19, 77, 13), activations(1, 77, 14, { zeroFraction: 0.9 }), mask);
    });
    it("group-quantized weights: per-row-group and per-column-group scales", () => {
      same(ternaryWeight(12, 96, 15, "out", 3), activations(2, 96, 16));
      same(ternaryWeight(6, 100, 17, "in", 2), activations(3, 100, 18, { groups: 2 }));
      same(ternaryWeight(6, 100, 19, "in", 4), activations(2, 100, 20));
    });
    it("f32 matmul identical to the reference (same float32 summation order)", () => {
      const r = rng(21);
      const x = Float32Array.from({ length: 3 * 37 }, () => r() - 0.5);
      const w = Float32Array.from({ length: 11 * 37 }, () => r() - 0.5);
      const want = ref.matmulF32(x, 3, w, 11, 37);
      const got = backend.matmulF32(x, 3, w, 11, 37);
      expect([...got]).toEqual([...want]);
      // and the reference is a correct matmul: within float32 rounding of a float64 computation
      for (let o = 0; o < 11; o++) {
        let s = 0;
        for (let i = 0; i < 37; i++) s += x[i]! * w[o * 37 + i]!;
        expect(Math.abs(want[o]! - s)).toBeLessThanOrEqual(1e-5);
      }
    });
    it("refuses bad shapes, naming the argument", () => {
      const w = backend.prepareWeight(ternaryWeight(4, 10, 1));
      expect(() => backend.bitLinear(w, activations(1, 11, 1))).toThrow("activations.features: 11 does not match the weight's inFeatures 10");
      expect(() => backend.bitLinear(w, activations(1, 10, 1), { rowMask: new Uint8Array(3) })).toThrow("rowMask: has 3 entries, expected outFeatures 4");
      expect(() => backend.prepareWeight({ ...ternaryWeight(4, 10, 1), data: new Uint8Array(5) })).toThrow(/weight.data: has 5 bytes, expected 64/);
      expect(() => backend.bitLinear(ref.prepareWeight(ternaryWeight(4, 10, 1)), activations(1, 10, 1))).toThrow(/prepared by the js backend/);
    });
  });
}

describe("backend registry", () => {
  it("names the available backends when asked for a missing one", async () => {
    await expect(createBackend("cuda")).rejects.toThrow('unknown backend "cuda"; backends: js, wasm, webgl (available here: js, wasm)');
    await expect(createBackend("webgl")).rejects.toThrow(/not available.*available backends: js, wasm/);
  });
});
