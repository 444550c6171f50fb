/**
 * The conformance suite, re-run for every backend: BitLinear results identical to the js reference (integer dot
 * products are exact and the float epilogue is the same expression), floats within stated tolerances, odd sizes,
 * 1 to many tokens, 1 and 2 threads. The js backend itself is checked against a naive computation on codes
 * unpacked by @onebit/quant.
 */
import { setFlagsFromString } from "node:v8";
import { quantizeInt8, unpackTernaryT2 } from "@onebit/quant";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "./backend";
import { createBackend } from "./backends";
import { activations, CONFORMANCE_CASES, ternaryWeight } from "./conformance-cases";
import { hostArray } from "./contract/tensors";
import { createJsBackend } from "./js/js-backend";
import { createDeviceDouble } from "./testing/device-double";

describe("js reference BitLinear", () => {
  it("equals a naive float computation on codes unpacked by @onebit/quant", () => {
    const js = createJsBackend();
    const w = ternaryWeight(5, 70, 1);
    const x = activations(3, 70, 2);
    const y = hostArray(js.bitLinear({ weight: js.prepareWeight({ weight: w }), input: x }), "y");
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
    const y = hostArray(js.bitLinear({ weight: js.prepareWeight({ weight: w }), input: x }), "y");
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
    const q = js.rmsNormQuantize({ x: xs, tokens: 2, features: 4, gain: null, eps: 1e-5, kind: "int8" });
    const rms0 = Math.sqrt((1 + 4 + 9 + 16) / 4 + 1e-5);
    const want = quantizeInt8(Float32Array.from([1, -2, 3, -4].map((v) => Math.fround(v * Math.fround(1 / rms0)))), [1, 4]);
    expect([...q.codes.subarray(0, 4)]).toEqual([...want.codes]);
  });
});

// Node 20's V8 has relaxed SIMD behind a flag (on by default from Node 22 and Chrome 114): turn it on so the
// relaxed kernels are tested here too. The flag only adds instructions; the baseline runs are unaffected.
setFlagsFromString("--experimental-wasm-relaxed-simd");

const configs: Array<{ name: string; make: () => Promise<Backend> }> = [
  { name: "wasm baseline SIMD, 1 thread", make: () => createBackend("wasm", { threads: 1, simd: "baseline" }) },
  { name: "wasm baseline SIMD, 2 threads", make: () => createBackend("wasm", { threads: 2, simd: "baseline" }) },
  { name: "wasm relaxed SIMD, 1 thread", make: () => createBackend("wasm", { threads: 1, simd: "relaxed" }) },
  { name: "wasm relaxed SIMD, 2 threads", make: () => createBackend("wasm", { threads: 2, simd: "relaxed" }) },
  // weights placed as onebit-t1 (1.6 bits/weight) and read by the t1 kernels
  { name: "wasm baseline SIMD, t1 weights, 2 threads", make: () => createBackend("wasm", { threads: 2, simd: "baseline", ternaryLayout: "t1" }) },
  { name: "wasm relaxed SIMD, t1 weights, 1 thread", make: () => createBackend("wasm", { threads: 1, simd: "relaxed", ternaryLayout: "t1" }) },
  { name: "wasm relaxed SIMD, t1 weights, 2 threads", make: () => createBackend("wasm", { threads: 2, simd: "relaxed", ternaryLayout: "t1" }) },
];

// The webgl backend and the browser wasm runs go through the same cases in Chromium: browser-conformance.test.ts.
for (const config of configs) {
  describe(`conformance: ${config.name}`, () => {
    let backend: Backend;
    const ref = createJsBackend();
    beforeAll(async () => {
      backend = await config.make();
    });
    afterAll(() => backend?.dispose());
    for (const c of CONFORMANCE_CASES) it(c.name, () => c.run(backend, ref));
  });
}

// The contract's device side: a test double whose activations are opaque handles read back only with `read`.
describe("conformance: device test double (activations behind handles)", () => {
  const ref = createJsBackend();
  const device = createDeviceDouble();
  for (const c of CONFORMANCE_CASES) it(c.name, () => c.run(device, ref));
  it("declares the kernels it does not offer, and refuses a host array where activations belong", async () => {
    const info = device.kernels().find((k) => k.kernel === "rmsNormQuantize")!;
    expect(info.source).toBe("unsupported");
    expect(() => device.add({ x: new Float32Array(2), y: device.upload(new Float32Array(2)) })).toThrow("device-double: a kernel was handed host activations; upload them first");
  });
});

describe("wasm kernel sets", () => {
  it("reports the kernel set it runs and rejects an unknown one", async () => {
    for (const simd of ["baseline", "relaxed"] as const) {
      const b = await createBackend("wasm", { threads: 1, simd });
      expect(b.simd).toBe(simd);
      b.dispose();
    }
    await expect(createBackend("wasm", { simd: "avx" as "auto" })).rejects.toThrow('wasm backend simd: expected "auto", "baseline" or "relaxed", got "avx"');
    await expect(createBackend("wasm", { ternaryLayout: "t3" as "t1" })).rejects.toThrow('wasm backend ternaryLayout: expected "t1" or "t2", got "t3"');
  });
});

describe("backend registry", () => {
  it("names the available backends when asked for a missing one", async () => {
    await expect(createBackend("cuda")).rejects.toThrow('unknown backend "cuda"; backends: js, wasm, webgl, webgpu (available here: js, wasm)');
    await expect(createBackend("webgl")).rejects.toThrow(/backend "webgl" is not available here: gpu.js found no headless GL in Node.*available backends: js, wasm/);
  });
});
