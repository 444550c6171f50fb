import { setFlagsFromString } from "node:v8";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelInputError } from "../backend";
import { addImpl, gateActivationImpl, multiplyImpl } from "../js/elementwise";
import { quantizeRowsImpl } from "../js/quantize-rows";
import { rmsNormImpl } from "../js/rms-norm-quantize";
import { kernelExports } from "./abi";
import type { WasmContext } from "./context";
import { binary, gateActivation, rmsNorm } from "./elementwise-ops";
import { quantizeRows } from "./quantize-ops";
import { Heap } from "./heap";
import { LutTuner } from "./lut-tuner";
import { ThreadPool } from "./thread-pool";
import { kernelsModule, type WasmSimd } from "./wasm-module";

setFlagsFromString("--experimental-wasm-relaxed-simd");

async function wasmContext(simd: WasmSimd): Promise<WasmContext & { dispose(): void }> {
  const module = kernelsModule(simd);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const exports = kernelExports(new WebAssembly.Instance(module, { env: { memory } }), simd === "relaxed");
  const pool = await ThreadPool.create(1, module, memory);
  return { heap: new Heap(memory), pool, exports, relaxed: simd === "relaxed", alive: () => {}, f32Weights: new WeakMap(), lutTuner: new LutTuner(), dispose: () => pool.dispose() };
}

/** Bit for bit, ±0 told apart. */
function sameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < g.length; i++) if (g[i] !== w[i]) throw new Error(`${what}: element ${i} is ${got[i]}, the reference gives ${want[i]}`);
}

// any finite float32, with the edges spelled out: ±0, subnormals, the expf clamps, huge values
const value = fc.oneof(
  fc.float({ noNaN: true, noDefaultInfinity: true }),
  fc.float({ min: -100, max: 100, noNaN: true }),
  fc.constantFrom(0, -0, 1e-45, -1e-45, 1e-38, -87, 88, -87.5, 88.5, 3.4e38, -3.4e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);
/** Enough rows for ew_rms_norm's four-row sums and a remainder. */
const shape = fc.record({ tokens: fc.integer({ min: 1, max: 9 }), features: fc.integer({ min: 1, max: 37 }) });
/** As `shape` with up to 3 rows, half the time with features a multiple of 16 (ew_relu2 marks sixteen at a time then). */
const gateShape = fc.record({ tokens: fc.integer({ min: 1, max: 3 }), features: fc.oneof(fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 8 }).map((k) => 16 * k)) });

describe("wasm element-wise kernels against the js reference, bit for bit", () => {
  const contexts: Record<string, WasmContext & { dispose(): void }> = {};
  beforeAll(async () => {
    contexts.baseline = await wasmContext("baseline");
    contexts.relaxed = await wasmContext("relaxed");
  });
  afterAll(() => {
    for (const c of Object.values(contexts)) c.dispose();
  });

  for (const simd of ["baseline", "relaxed"] as const) {
    it(`${simd}: sum_i8 is the exact Σ of any int8 codes (BitLinear's Σx), extremes and 2B4T widths included`, () => {
      const ctx = contexts[simd]!;
      const codes = fc.oneof(fc.integer({ min: -128, max: 127 }), fc.constantFrom(-128, 127));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 440 }), fc.array(codes, { minLength: 1, maxLength: 64 }), (sixteens, pool) => {
          const n = 16 * sixteens;
          const at = ctx.heap.scratch(n + 16);
          const x = new Int8Array(ctx.heap.buffer, at, n);
          for (let i = 0; i < n; i++) x[i] = pool[(i * 7) % pool.length]!;
          let want = 0;
          for (let i = 0; i < n; i++) want += x[i]!;
          expect(ctx.exports.sum_i8(at, n)).toBe(want);
        }),
        { numRuns: 200 },
      );
      const at = ctx.heap.scratch(6912);
      new Int8Array(ctx.heap.buffer, at, 6912).fill(-128);
      expect(ctx.exports.sum_i8(at, 6912)).toBe(-128 * 6912);
    });

    it(`${simd}: SiLU and ReLU² (with active rows) over any float32`, () => {
      const ctx = contexts[simd]!;
      fc.assert(
        fc.property(gateShape, fc.array(value, { minLength: 111, maxLength: 111 }), ({ tokens, features }, pool) => {
          const x = Float32Array.from({ length: tokens * features }, (_, i) => pool[i % pool.length]!);
          for (const activation of ["silu", "relu2"] as const) {
            const want = x.slice();
            const got = x.slice();
            const marking = activation === "relu2" && features % 4 === 0;
            const wantRows = marking ? new Uint8Array(features) : undefined;
            const gotRows = marking ? new Uint8Array(features).fill(7) : undefined;
            const wantOn = gateActivationImpl(want, tokens, features, activation, wantRows);
            const gotOn = gateActivation(ctx, got, tokens, features, activation, gotRows);
            sameBits(got, want, `${activation} ${tokens}×${features}`);
            expect(gotOn).toBe(wantOn);
            if (marking) expect(Array.from(gotRows!)).toEqual(Array.from(wantRows!));
          }
        }),
        { numRuns: 300 },
      );
    });

    it(`${simd}: add, multiply and RMSNorm (any width, the float64 sum in order; rows four at a time and the rest)`, () => {
      const ctx = contexts[simd]!;
      fc.assert(
        fc.property(shape, fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 111, maxLength: 111 }), fc.constantFrom(1e-5, 1e-6, 0.1), ({ tokens, features }, pool, eps) => {
          const n = tokens * features;
          const x = Float32Array.from({ length: n }, (_, i) => pool[i % pool.length]!);
          const y = Float32Array.from({ length: n }, (_, i) => pool[(i * 7 + 3) % pool.length]!);
          const gain = Float32Array.from({ length: features }, (_, i) => pool[(i * 5 + 1) % pool.length]! / 1e6 + 0.5);
          for (const op of ["add", "multiply"] as const) {
            const want = x.slice();
            (op === "add" ? addImpl : multiplyImpl)(want, y);
            const got = x.slice();
            binary(ctx, op, got, y);
            sameBits(got, want, op);
          }
          const want = rmsNormImpl(x, tokens, features, gain, eps);
          sameBits(rmsNorm(ctx, x, tokens, features, gain, eps), want, `rmsNorm ${tokens}×${features}`);
          // x, the gain and out in wasm memory, read and written in place (a model's workspace and norms)
          const ptrs = [n, features, n].map((len) => ctx.heap.alloc(len * 4));
          const [xw, gw, ow] = ptrs.map((p, i) => new Float32Array(ctx.heap.buffer, p, [n, features, n][i]!));
          xw!.set(x);
          gw!.set(gain);
          ow!.fill(Number.NaN);
          expect(rmsNorm(ctx, xw!, tokens, features, gw!, eps, ow!)).toBe(ow);
          sameBits(ow!, want, `rmsNorm in place ${tokens}×${features}`);
          for (const p of ptrs) ctx.heap.release(p);
        }),
        { numRuns: 300 },
      );
    });
  }

  for (const simd of ["baseline", "relaxed"] as WasmSimd[]) {
    it(`${simd}: the activation quantizer (integer-bit absmax, clamp-then-round codes) gives the reference's codes and scales, and rejects what it rejects`, () => {
      const ctx = contexts[simd]!;
      // any float32 (infinities included, NaN too), widths across the 16-wide steps and their tails
      const anyValue = fc.oneof({ arbitrary: value, weight: 30 }, { arbitrary: fc.constant(Number.NaN), weight: 1 });
      let finite = 0;
      const quantShape = fc.record({ tokens: fc.integer({ min: 1, max: 3 }), features: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 6 }).map((k) => 16 * k)) });
      fc.assert(
        fc.property(quantShape, fc.array(anyValue, { minLength: 97, maxLength: 97 }), fc.constantFrom("int8", "int4"), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), ({ tokens, features }, pool, kind, spread) => {
          const n = tokens * features;
          // mostly moderate values (every code in play), a pool value every fifth element (edges, huge, non-finite)
          const x = Float32Array.from({ length: n }, (_, i) => (i % 5 === 2 ? pool[i % pool.length]! : Math.fround(Math.sin(i * 12.9898 + spread) * spread)));
          let want: ReturnType<typeof quantizeRowsImpl> | Error;
          try {
            want = quantizeRowsImpl(x, tokens, features, kind);
          } catch (e) {
            want = e as Error;
          }
          if (want instanceof Error) {
            // the same element named (the message's prefix is each layer's own: quantizeInt8 input / quantizeRows x)
            const clause = /element \d+ is \S+; expected a finite number/.exec(want.message)?.[0];
            expect(clause).toBeDefined();
            expect(() => quantizeRows(ctx, x, tokens, features, kind)).toThrow(clause!);
            return;
          }
          finite++;
          const got = quantizeRows(ctx, x, tokens, features, kind);
          expect(Array.from(got.codes)).toEqual(Array.from(want.codes));
          sameBits(got.scales, want.scales, `quantize ${kind} ${tokens}×${features} scales`);
          expect(got.zeros).toBe(Array.from(want.codes).filter((c) => c === 0).length);
        }),
        { numRuns: 400 },
      );
      expect(finite).toBeGreaterThan(100); // most runs compare codes, not errors
    });
  }

  it("refuses what the reference refuses, and active rows of a width that is not a multiple of 4", () => {
    const ctx = contexts.baseline!;
    expect(() => gateActivation(ctx, new Float32Array(5), 2, 3, "silu")).toThrow(/expected tokens·features = 6/);
    expect(() => gateActivation(ctx, new Float32Array(6), 2, 3, "relu2", new Uint8Array(3))).toThrow(KernelInputError);
    expect(() => gateActivation(ctx, new Float32Array(6), 2, 3, "gelu" as "silu")).toThrow(/expected "relu2" or "silu"/);
    expect(() => binary(ctx, "add", new Float32Array(3), new Float32Array(4))).toThrow(/x has 3 values, y has 4/);
  });
});
