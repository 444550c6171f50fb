/**
 * Dense (non-ternary) layers on the wasm backend: f32 matmul (JOB_OP.MATMUL_F32) for embeddings / LM head and
 * prepared f32 weights, and W8A16 (JOB_OP.W8A16_DENSE): int8 weight rows × int16 activations, one token per job.
 */
import type { DenseFormat, PreparedDense } from "../backend";
import { KernelInputError } from "../backend";
import { checkDense, quantizeDenseInt8, quantizeInt16Rows } from "../js/dense";
import { checkMatmulF32, outputBuffer } from "../validate-inputs";
import { JOB_OP, JOB_SLOT } from "./abi";
import type { WasmContext } from "./context";

interface WasmPreparedDense extends PreparedDense {
  /** f32 weights or int8 codes [out, in] */
  ptr: number;
  /** int8: f32 scales [out, blocks] */
  scalesPtr: number;
  blocks: number;
  blockLen: number;
}

/** The wasm address of an f32 weight, copied in on first use and kept (ctx.f32Weights). */
function placeF32(ctx: WasmContext, w: Float32Array): number {
  const cached = ctx.f32Weights.get(w);
  if (cached !== undefined) return cached;
  const ptr = ctx.heap.alloc(w.length * 4);
  new Float32Array(ctx.heap.buffer, ptr, w.length).set(w);
  ctx.f32Weights.set(w, ptr);
  return ptr;
}

/** y [tokens, out] = x [tokens, in] · wᵀ, w [out, in] f32 (placed on first use). */
export function matmulF32(ctx: WasmContext, x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, outBuf?: Float32Array): Float32Array {
  checkMatmulF32(x, tokens, w, outFeatures, inFeatures);
  return runMatmulF32(ctx, placeF32(ctx, w), x, tokens, outFeatures, inFeatures, outputBuffer(outBuf, tokens * outFeatures));
}

/** The f32 matmul job over a placed weight: x goes to scratch, then y [tokens, out] is copied out. */
function runMatmulF32(ctx: WasmContext, wPtr: number, x: Float32Array, tokens: number, outFeatures: number, inFeatures: number, y: Float32Array): Float32Array {
  ctx.alive();
  const { heap, pool } = ctx;
  const c = pool.control;
  const base = heap.scratch((x.length + y.length) * 4 + 32);
  new Float32Array(heap.buffer, base, x.length).set(x);
  const outPtr = base + ((x.length * 4 + 15) & ~15);
  const a = JOB_SLOT.MATMUL_F32;
  c[JOB_SLOT.OP] = JOB_OP.MATMUL_F32;
  c[a.W_PTR] = wPtr;
  c[a.IN_FEATURES] = inFeatures;
  c[JOB_SLOT.ROWS] = outFeatures;
  c[a.X_PTR] = base;
  c[a.TOKENS] = tokens;
  c[a.OUT_PTR] = outPtr;
  pool.run(ctx.exports);
  y.set(new Float32Array(heap.buffer, outPtr, y.length));
  return y;
}

/** Place a dense weight [out, in]: f32 as is (shared with matmulF32's cache), int8 as codes [out, in] + f32 scales [out, blocks]. */
export function prepareDense(ctx: WasmContext, w: Float32Array, outFeatures: number, inFeatures: number, format: DenseFormat): PreparedDense {
  ctx.alive();
  const { heap } = ctx;
  checkDense(w, outFeatures, inFeatures, format);
  if (format === "f32") {
    const prepared: WasmPreparedDense = { backend: "wasm", format, outFeatures, inFeatures, bytes: w.byteLength, ptr: placeF32(ctx, w), scalesPtr: 0, blocks: 1, blockLen: inFeatures };
    return prepared;
  }
  const q = quantizeDenseInt8(w, outFeatures, inFeatures);
  const ptr = heap.alloc(q.codes.byteLength);
  new Int8Array(heap.buffer, ptr, q.codes.length).set(q.codes);
  const scalesPtr = heap.alloc(q.scales.byteLength);
  new Float32Array(heap.buffer, scalesPtr, q.scales.length).set(q.scales);
  const prepared: WasmPreparedDense = { backend: "wasm", format, outFeatures, inFeatures, bytes: q.codes.byteLength + q.scales.byteLength, ptr, scalesPtr, blocks: q.blocks, blockLen: q.blockLen };
  return prepared;
}

/** y [tokens, out] for x [tokens, in] and a prepared dense weight; W8A16 quantizes x per token to int16 and runs one job per token. */
export function dense(ctx: WasmContext, pw: PreparedDense, x: Float32Array, tokens: number, outBuf?: Float32Array): Float32Array {
  ctx.alive();
  if (pw.backend !== "wasm") throw new KernelInputError(`dense: weight was prepared by the ${pw.backend} backend, not wasm`);
  const w = pw as WasmPreparedDense;
  const { outFeatures: outF, inFeatures: inF } = w;
  if (x.length !== tokens * inF) throw new KernelInputError(`dense x: has ${x.length} elements, expected tokens·in = ${tokens * inF}`);
  const y = outputBuffer(outBuf, tokens * outF);
  if (w.format === "f32") return runMatmulF32(ctx, w.ptr, x, tokens, outF, inF, y);
  const { heap, pool } = ctx;
  const c = pool.control;
  const xq = quantizeInt16Rows(x, tokens, inF);
  // scratch: [x: int16 in, padded to 16 bytes][out: f32 out]
  const xBytes = (inF * 2 + 15) & ~15;
  const base = heap.scratch(xBytes + outF * 4);
  const a = JOB_SLOT.W8A16_DENSE;
  for (let t = 0; t < tokens; t++) {
    new Int16Array(heap.buffer, base, inF).set(xq.codes.subarray(t * inF, (t + 1) * inF));
    c[JOB_SLOT.OP] = JOB_OP.W8A16_DENSE;
    c[a.W_PTR] = w.ptr;
    c[a.IN_FEATURES] = inF;
    c[a.SCALES_PTR] = w.scalesPtr;
    c[JOB_SLOT.ROWS] = outF;
    c[a.BLOCKS] = w.blocks;
    c[a.BLOCK_LEN] = w.blockLen;
    c[a.X_PTR] = base;
    c[a.OUT_PTR] = base + xBytes;
    pool.run(ctx.exports);
    const raw = new Float32Array(heap.buffer, base + xBytes, outF);
    const xs = xq.scales[t]!;
    for (let o = 0; o < outF; o++) y[t * outF + o] = raw[o]! * xs;
  }
  return y;
}
