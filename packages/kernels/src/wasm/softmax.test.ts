import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelInputError } from "../backend";
import { rng } from "../conformance-helpers";
import { causalAttentionImpl } from "../js/attention";
import { softmaxImpl } from "../js/softmax";
import { kernelExports } from "./abi";
import { causalAttention, softmaxRows } from "./attention-ops";
import type { WasmContext } from "./context";
import { Heap } from "./heap";
import { LutTuner } from "./lut-tuner";
import { ThreadPool } from "./thread-pool";
import { kernelsModule } from "./wasm-module";

async function wasmContext(threads: number): Promise<WasmContext & { dispose(): void }> {
  const module = kernelsModule("baseline");
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const exports = kernelExports(new WebAssembly.Instance(module, { env: { memory } }), false);
  const pool = await ThreadPool.create(threads, module, memory);
  return { heap: new Heap(memory), pool, exports, relaxed: false, alive: () => {}, f32Weights: new WeakMap(), lutTuner: new LutTuner(), dispose: () => pool.dispose() };
}

/** Bit for bit, ±0 told apart (NaN payloads aside). */
function sameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`${what}: element ${i} is ${got[i]}, the reference gives ${want[i]}`);
}

const f32 = fc.float({ noNaN: true });
const score = fc.oneof(fc.float({ min: -50, max: 50, noNaN: true }), f32, fc.constantFrom(Number.NEGATIVE_INFINITY, 0, -0, 3.4e38, -3.4e38, 1e-45));

describe("wasm softmax: Math.exp's bits (fdlibm) and the reference row softmax", () => {
  let one: WasmContext & { dispose(): void };
  let two: WasmContext & { dispose(): void };
  beforeAll(async () => {
    one = await wasmContext(1);
    two = await wasmContext(2);
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });

  it("exp_f64 returns Math.exp's bits: every branch of the algorithm, and random doubles", () => {
    const exp = one.exports.exp_f64;
    // the branches: |x| < 2⁻²⁸, the 0.5·ln2 and 1.5·ln2 edges, x = 1, k = 0, k ≤ −1021 (subnormal results), overflow and
    // underflow thresholds, ±∞, NaN
    const edges = [0, -0, 1e-300, -1e-300, 2 ** -29, 0.3465, 0.3466, -0.3466, 1, -1, 1.0397, 1.0398, -1.0398, 0.5, -0.5, 709.78, 709.7827128933841, 709.79, -708.4, -708.5, -744.4, -745.13, -745.14, -800, 800, Infinity, -Infinity, NaN];
    for (const x of edges) expect(Object.is(exp(x), Math.exp(x)), `exp(${x})`).toBe(true);
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -750, max: 750, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ noNaN: true })), (x) => Object.is(exp(x), Math.exp(x))),
      { numRuns: 20000 },
    );
  });

  it("exp_f64x2 (the softmax's two-lane exp) returns Math.exp's bits in each lane: every region, edges, random pairs", () => {
    const at = one.heap.alloc(16);
    const out = () => new Float64Array(one.heap.buffer, at, 2);
    const pair = (a: number, b: number) => {
      one.exports.exp_f64x2(a, b, at);
      const [ea, eb] = out();
      if (!Object.is(ea, Math.exp(a)) || !Object.is(eb, Math.exp(b))) throw new Error(`exp_f64x2(${a}, ${b}) = ${ea}, ${eb}; Math.exp gives ${Math.exp(a)}, ${Math.exp(b)}`);
    };
    // k = 0 (|x| ≤ 0.5·ln2), k = ±1 (to 1.5·ln2), the general reduction, |x| < 2⁻²⁸, the 704 edge of the pair path,
    // and what it hands to the scalar path (x = 1, k ≤ −1021, overflow, ±∞, NaN) beside an ordinary lane
    const edges = [0, -0, 2 ** -29, -(2 ** -28), 2 ** -28, 0.3465735902799726, 0.34657359027997264, -0.3466, 1.0397207708399179, -1.03972077083991, -1.0398, 0.5, -0.5, 1, -1, 703.99, -703.99, 704, -704, -708.5, -745.14, 709.8, Infinity, -Infinity, NaN];
    for (const a of edges) for (const b of [-3.7, a]) pair(a, b);
    fc.assert(
      fc.property(fc.double({ min: -750, max: 750, noNaN: true }), fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -720, max: 0, noNaN: true }), fc.double()), (a, b) => {
        pair(a, b);
        pair(b, a);
      }),
      { numRuns: 20000 },
    );
    one.heap.release(at);
  });

  it("softmax_rows gives softmaxImpl's bits, −∞ entries and all −∞ rows included", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 40 }), fc.infiniteStream(score), (rows, cols, values) => {
        const x = Float32Array.from({ length: rows * cols }, () => values.next().value as number);
        if (rows > 1) x.fill(Number.NEGATIVE_INFINITY, 0, cols); // a dead row
        const want = x.slice();
        softmaxImpl(want, rows, cols);
        const got = x.slice();
        softmaxRows(one, got, rows, cols);
        sameBits(got, want, `softmax ${rows}×${cols}`);
      }),
      { numRuns: 300 },
    );
    const nan = Float32Array.of(1, Number.NaN, 2);
    softmaxRows(one, nan, 1, 3);
    expect(Array.from(nan).every(Number.isNaN)).toBe(true);
    expect(() => softmaxRows(one, new Float32Array(5), 2, 3)).toThrow(KernelInputError);
  });

  it("causalAttention: the composition's bits on 1 and 2 threads, GQA groups, stores in the heap and outside it", () => {
    fc.assert(
      fc.property(
        fc.record({
          tokens: fc.integer({ min: 1, max: 6 }),
          start: fc.integer({ min: 0, max: 9 }),
          kvHeads: fc.integer({ min: 1, max: 3 }),
          group: fc.integer({ min: 1, max: 4 }),
          headDim: fc.constantFrom(4, 16, 20, 37),
          seed: fc.integer(),
          inHeap: fc.boolean(),
        }),
        ({ tokens, start, kvHeads, group, headDim, seed, inHeap }) => {
          const u = rng(seed);
          const r = () => u() * 4 - 2;
          const heads = kvHeads * group;
          const storeLen = (start + tokens + 2) * kvHeads * headDim;
          const q = Float32Array.from({ length: tokens * heads * headDim }, r);
          const keysHost = Float32Array.from({ length: storeLen }, r);
          const valuesHost = Float32Array.from({ length: storeLen }, r);
          const scale = 1 / Math.sqrt(headDim);
          const want = causalAttentionImpl(q, tokens, heads, keysHost, valuesHost, kvHeads, headDim, start, scale);
          for (const ctx of [one, two]) {
            let keys: Float32Array = keysHost;
            let values: Float32Array = valuesHost;
            if (inHeap) {
              keys = new Float32Array(ctx.heap.buffer, ctx.heap.alloc(storeLen * 4), storeLen);
              values = new Float32Array(ctx.heap.buffer, ctx.heap.alloc(storeLen * 4), storeLen);
              keys.set(keysHost);
              values.set(valuesHost);
            }
            const got = causalAttention(ctx, q, tokens, heads, keys, values, kvHeads, headDim, start, scale);
            sameBits(got, want, `causalAttention ${tokens} tokens from ${start}, ${heads}/${kvHeads} heads × ${headDim} (${ctx.pool.threads} threads${inHeap ? ", store in the heap" : ""})`);
            if (inHeap) {
              ctx.heap.release(keys.byteOffset);
              ctx.heap.release(values.byteOffset);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("causalAttention names what is wrong with its input", () => {
    const q = new Float32Array(2 * 4 * 8);
    const kv = new Float32Array(40);
    expect(() => causalAttention(one, q, 2, 4, kv, kv, 2, 8, 1, 1)).toThrow("causalAttention keys: has 40 values, fewer than (start + tokens)·kvHeads·headDim = 48");
    expect(() => causalAttention(one, q, 2, 3, kv, kv, 2, 8, 0, 1)).toThrow("causalAttention: heads 3 is not a multiple of kvHeads 2");
    expect(() => causalAttention(one, q, 2, 4, kv, kv, 2, 8, -1, 1)).toThrow("causalAttention start: expected an integer ≥ 0, got -1");
  });
});
