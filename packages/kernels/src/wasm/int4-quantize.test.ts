import { setFlagsFromString } from "node:v8";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DenseRowSource, type DenseWeight, KernelInputError } from "../backend";
import { rng } from "../conformance-helpers";
import { dequantizeRows, quantizeGgml } from "@onebit/quant";
import { INT4_BLOCK } from "../js/dense";
import { quantizeDenseInt4 } from "../js/dense-int4";
import { kernelExports } from "./abi";
import type { WasmContext } from "./context";
import { prepareDense } from "./dense-ops";
import { int4CodeOffset, int4GroupOffset, int4MatrixBytes } from "./dense-int4.wat";
import { Heap } from "./heap";
import { LutTuner } from "./lut-tuner";
import { ThreadPool } from "./thread-pool";
import { kernelsModule, type WasmSimd } from "./wasm-module";

// Node 20's V8 has relaxed SIMD behind a flag: the quantizer must be in the relaxed module too.
setFlagsFromString("--experimental-wasm-relaxed-simd");

const f = Math.fround;

/** A wasm context over a fresh memory (what wasm-backend.ts builds), so the test can read the prepared bytes. */
async function wasmContext(simd: WasmSimd, threads: number): Promise<WasmContext & { dispose(): void }> {
  const module = kernelsModule(simd);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const exports = kernelExports(new WebAssembly.Instance(module, { env: { memory } }), simd === "relaxed");
  const pool = await ThreadPool.create(threads, module, memory);
  return { heap: new Heap(memory), pool, exports, relaxed: simd === "relaxed", alive: () => {}, f32Weights: new WeakMap(), lutTuner: new LutTuner(), dispose: () => pool.dispose() };
}

interface PreparedInt4 {
  ptr: number;
  rowStride: number;
  groups: number;
}

/**
 * The wasm-prepared weight [out, in] as the reference's plain codes [out, blocks·16] and d bits [out, blocks], read
 * through the 68-byte-group layout (dense-int4.wat.ts: rows in pairs, group by group, int4GroupOffset; int4CodeOffset; a pair
 * of blocks' d as bf16, the top half of its float32 bits);
 * checks the padded blocks are codes 0x88, and d = +0 where the whole pair is padding (a padded block paired with a
 * row's last block shares its d: its codes are 0 all the same).
 */
function readPrepared(ctx: WasmContext, w: DenseWeight, out: number, inF: number): { codes: Uint8Array; dBits: Uint32Array } {
  const pw = prepareDense(ctx, w, out, inF, "int4") as unknown as PreparedInt4;
  const blocks = inF / INT4_BLOCK;
  const bytes = new Uint8Array(ctx.heap.buffer, pw.ptr, int4MatrixBytes(out, pw.rowStride));
  const halves = new Uint16Array(ctx.heap.buffer, pw.ptr, bytes.length / 2);
  const codes = new Uint8Array(out * blocks * 16);
  const dBits = new Uint32Array(out * blocks);
  for (let r = 0; r < out; r++)
    for (let b = 0; b < pw.groups * 4; b++) {
      const group = int4GroupOffset(r, b >> 2, pw.rowStride);
      const c = Uint8Array.from({ length: 16 }, (_, j) => bytes[group + int4CodeOffset(b & 3, j)]!);
      const d = (halves[(group + 64) / 2 + ((b & 3) >> 1)]! << 16) >>> 0;
      if (b < blocks) {
        codes.set(c, (r * blocks + b) * 16);
        dBits[r * blocks + b] = d;
      } else if (!c.every((v) => v === 0x88) || (d !== 0 && (b & ~1) >= blocks))
        throw new Error(`row ${r}, padded block ${b}: codes ${[...c]}, d bits ${d}; expected 0x88${(b & ~1) >= blocks ? " and +0" : ""}`);
      else if ((b & 1) === 1 && b - 1 < blocks && d !== dBits[r * blocks + b - 1]) throw new Error(`row ${r}, padded block ${b}: d bits ${d}, its pair's ${dBits[r * blocks + b - 1]}`);
    }
  ctx.heap.release(pw.ptr);
  return { codes, dBits };
}

/** A row source over an array (prepareDense reads it into wasm scratch, not through a JS chunk). */
function rowSource(w: Float32Array, rows: number, cols: number): DenseRowSource {
  return { rows, cols, readRows: (start, count, out) => out.set(w.subarray(start * cols, (start + count) * cols)) };
}

/** Throws unless the wasm backend's int4 weight, from the array or from a row source, is the reference's, byte for byte and d bit for bit. */
function expectIdentical(ctx: WasmContext, w: Float32Array, out: number, inF: number, fromSource = false): void {
  const want = quantizeDenseInt4(w, out, inF);
  const got = readPrepared(ctx, fromSource ? rowSource(w, out, inF) : w, out, inF);
  const wantBits = new Uint32Array(want.scales.buffer, want.scales.byteOffset, want.scales.length);
  for (let k = 0; k < want.codes.length; k++)
    if (got.codes[k] !== want.codes[k]) {
      const block = Math.floor(k / 16);
      const o = Math.floor(block / want.blocks);
      const b = block % want.blocks;
      throw new Error(`[${out}×${inF}] row ${o} block ${b} code byte ${k % 16}: wasm ${got.codes[k]}, reference ${want.codes[k]}; block ${[...w.subarray(o * inF + b * 32, o * inF + b * 32 + 32)]}`);
    }
  for (let k = 0; k < wantBits.length; k++)
    if (got.dBits[k] !== wantBits[k]) throw new Error(`[${out}×${inF}] block ${k}: wasm d bits ${got.dBits[k]}, reference ${wantBits[k]} (${want.scales[k]})`);
}

/** The reference's error for a weight (its message names the element). */
function referenceError(w: Float32Array, out: number, inF: number): Error {
  try {
    quantizeDenseInt4(w, out, inF);
  } catch (e) {
    return e as Error;
  }
  throw new Error("the reference accepted the weight");
}

const MIN = 2 ** -120; // the reference's cutoff: a block with |m| below it is stored as zeros
const below = (x: number) => x * (1 - 2 ** -24);
const above = (x: number) => x * (1 + 2 ** -23);

/**
 * One adversarial 32-weight block: a block-wide scale 2^e (e from the subnormal range to 2¹²⁰) times values that
 * make ties — half-integers against m = ±8 (w·id exactly x.5 when d = ∓1), +m and −m both present (the first wins),
 * −m (clamped at code 15) — mixed with any float32 at all (subnormals, ±0, ±max) and values at the 2⁻¹²⁰ cutoff.
 */
const blockArb = fc
  .tuple(
    fc.integer({ min: -150, max: 120 }),
    fc.array(
      fc.oneof(
        fc.integer({ min: -17, max: 17 }).map((k) => ({ scaled: k / 2 })),
        fc.constantFrom(8, -8, 7.5, -7.5, 0.5, -0.5, 1.5, 2.5, 3, -3).map((k) => ({ scaled: k })),
        fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ raw: v })),
        fc.double({ min: -1, max: 1, noNaN: true }).map((v) => ({ scaled: v * 8 })),
        fc.constantFrom(0, -0, 2 ** -149, -(2 ** -149), 2 ** -126, MIN, -MIN, f(below(MIN)), -f(below(MIN)), f(above(MIN)), -f(above(MIN))).map((v) => ({ raw: v })),
      ),
      { minLength: 32, maxLength: 32 },
    ),
  )
  .map(([e, vs]) => vs.map((v) => ("raw" in v ? v.raw : f(v.scaled * 2 ** e))));

describe.each([
  ["baseline", 1],
  ["relaxed", 1],
  ["baseline", 2],
] as const)("q4_quantize (int4-quantize.wat.ts), %s module, %i thread(s): bit for bit quantizeInt4Rows", (simd, threads) => {
  let ctx: WasmContext & { dispose(): void };
  beforeAll(async () => {
    ctx = await wasmContext(simd, threads);
  });
  afterAll(() => ctx.dispose());

  it("on random rows: 1 to 5 groups, padded groups, and 2B4T's width over several chunks", () => {
    const r = rng(7);
    for (const [out, inF] of [[1, 32], [3, 64], [2, 96], [5, 128], [4, 160], [3, 224], [7, 256], [1000, 2560]] as const) {
      const w = Float32Array.from({ length: out * inF }, () => (r() - 0.5) * (r() < 0.02 ? 20 : 1) * 2 ** Math.floor(r() * 8 - 4));
      if (inF >= 64) w.fill(0, 32, 64); // an all-zero block
      expectIdentical(ctx, w, out, inF);
      expectIdentical(ctx, w, out, inF, true);
    }
  });

  it("from F16 and Q6_K rows decoded by the threads themselves (ggml-decode.wat.ts): readRows is never called", () => {
    const r = rng(13);
    const out = 37;
    const inF = 512;
    const w = Float32Array.from({ length: out * inF }, () => (r() - 0.5) * (r() < 0.02 ? 20 : 1));
    w.set([2 ** -20, -(2 ** -24), 0, -0, 65504, -65504, 6e-8], 5);
    for (const format of ["F16", "Q6_K"] as const) {
      const bytes = quantizeGgml(format, w);
      const rows = dequantizeRows(format, bytes, out, inF, 0, out);
      const want = readPrepared(ctx, rows, out, inF);
      const got = readPrepared(ctx, { rows: out, cols: inF, readRows: () => { throw new Error("readRows called"); }, encoded: { format, bytes } }, out, inF);
      expect(Buffer.from(got.codes).equals(Buffer.from(want.codes)), `${format} codes`).toBe(true);
      expect([...got.dBits]).toEqual([...want.dBits]);
    }
    expect(() => readPrepared(ctx, { rows: out, cols: inF, readRows: () => {}, encoded: { format: "Q6_K", bytes: new Uint8Array(10) } }, out, inF)).toThrow(
      /its Q6_K bytes are 10, expected 37 rows × 420 = 15540/,
    );
  });

  it("from a row source read straight into wasm scratch, the memory growing for it", async () => {
    const fresh = await wasmContext(simd, threads); // 4 MiB of memory: the chunk's scratch must grow it
    try {
      const r = rng(11);
      const w = Float32Array.from({ length: 1000 * 2560 }, () => r() - 0.5);
      expectIdentical(fresh, w, 1000, 2560, true);
    } finally {
      fresh.dispose();
    }
  });

  it("on adversarial blocks: ties in |w| and in rounding, ±0, subnormals, the 2⁻¹²⁰ cutoff, clamping at 7", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.array(blockArb, { minLength: 18, maxLength: 18 }), (out, blocks, pool) => {
        const w = Float32Array.from(pool.slice(0, out * blocks).flat());
        expectIdentical(ctx, w, out, blocks * INT4_BLOCK);
      }),
      { numRuns: 400 },
    );
  });

  it("on hand-picked blocks: +m before −m and after it, rounding ties, the cutoff from both sides", () => {
    const blocks: number[][] = [
      [3, -3, ...Array(30).fill(1)], // +m first: d = −0.375
      [-3, 3, ...Array(30).fill(1)], // −m first
      [...Array(31).fill(0.25), -8], // −8 last: d = 1, id = 1; 0.25 → 0
      Array.from({ length: 32 }, (_, j) => (j === 0 ? 8 : (j - 16) / 2)), // d = −1: every k/2 a tie, −8 clamps to 7
      Array.from({ length: 32 }, (_, j) => (j === 5 ? -8 : (j - 16) / 2 + 0.25)),
      [MIN, ...Array(31).fill(-MIN / 3)], // at the cutoff: quantized
      [f(below(MIN)), ...Array(31).fill(f(below(MIN) / 2))], // just below: zeros
      [-0, 0, -0, ...Array(29).fill(0)],
      [2 ** -149, -(2 ** -149), ...Array(30).fill(0)], // subnormal amax: zeros
      [f(3.4e38), -f(3.4e38), ...Array.from({ length: 30 }, (_, j) => f(j * 1e37))],
      Array.from({ length: 32 }, (_, j) => f(2 ** -126 * (j + 1) * 0.37)), // subnormal and tiny normal weights
    ];
    expectIdentical(ctx, Float32Array.from(blocks.flat()), blocks.length, INT4_BLOCK);
    expectIdentical(ctx, Float32Array.from(blocks.flat()), 1, blocks.length * INT4_BLOCK);
  });

  it("throws the reference's error for a non-finite value, and releases the weight's memory", () => {
    const out = 1000;
    const inF = 2560; // three chunks: the bad value in the last
    const w = Float32Array.from({ length: out * inF }, (_, i) => Math.sin(i));
    const first = prepareDense(ctx, w, out, inF, "int4") as unknown as PreparedInt4;
    ctx.heap.release(first.ptr);
    for (const [at, v] of [[0, Number.NaN], [900 * inF + 2000, Number.POSITIVE_INFINITY], [out * inF - 1, Number.NEGATIVE_INFINITY]] as const) {
      const bad = w.slice();
      bad[at] = v;
      const want = referenceError(bad, out, inF);
      expect(want).toBeInstanceOf(KernelInputError);
      expect(() => prepareDense(ctx, bad, out, inF, "int4")).toThrow(want.message);
      expect(() => prepareDense(ctx, rowSource(bad, out, inF), out, inF, "int4")).toThrow(want.message);
      // released: the next weight of the same size gets the same address back
      const again = prepareDense(ctx, w, out, inF, "int4") as unknown as PreparedInt4;
      expect(again.ptr).toBe(first.ptr);
      ctx.heap.release(again.ptr);
    }
  });
});
