/**
 * Dense (non-ternary) layers on the wasm backend: f32 matmul (JOB_OP.MATMUL_F32) for embeddings / LM head and
 * prepared f32 weights, W8A16 (JOB_OP.W8A16_DENSE): int8 weight rows × int16 activations, and W4A8
 * (JOB_OP.W4A8_DENSE, dense-int4.wat.ts): Q4_0 rows × per-block int8 activations — one token per job, rows split
 * across threads. prepareDense reads its weight a chunk of rows at a time (js/dense.ts forEachDenseChunk) and writes
 * each chunk's codes straight into wasm memory: no whole-table copy on the JS side; int4's are quantized there by a
 * job too (JOB_OP.INT4_QUANTIZE, int4-quantize.wat.ts).
 */
import type { DenseFormat, DenseRowEncoding, DenseRowSource, DenseWeight, PreparedDense } from "../backend";
import { KernelInputError } from "../backend";
import { copyBytes } from "../contract/byte-range";
import { checkDense, denseBlockLen, denseChunkRows, denseF32Weight, forEachDenseChunk, INT4_BLOCK, quantizeDenseInt8Rows, quantizeInt16Rows } from "../js/dense";
import { int4Plain, quantizeInt4Rows, quantizeInt8Blocks } from "../js/dense-int4";
import { denseRowsOutput } from "../js/dense-rows";
import { checkMatmulF32, outputBuffer } from "../validate-inputs";
import { DENSE_DECODERS, DENSE_F32, type DenseDecoderFormat, JOB_OP, JOB_SLOT } from "./abi";
import type { WasmContext } from "./context";
import { INT4_GROUP_BYTES, INT4_X, int4CodeOffset, int4GroupOffset, int4MatrixBytes, int4XOffset } from "./dense-int4.wat";

const f = Math.fround;

interface WasmPreparedDense extends PreparedDense {
  /** f32 weights [out, in], int8 codes [out, in], or int4 rows [out, rowStride bytes] */
  ptr: number;
  /** int8: f32 scales [out, blocks] */
  scalesPtr: number;
  blocks: number;
  blockLen: number;
  /** int4: 128-column groups per row, bytes per row (groups·INT4_GROUP_BYTES) */
  groups: number;
  rowStride: number;
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

/**
 * Place a dense weight [out, in]: f32 as is (an array shared with matmulF32's cache; a row source read into wasm
 * memory chunk by chunk), int8 as codes [out, in] + f32 scales [out, blocks], int4 in dense-int4.wat.ts's layout.
 */
export function prepareDense(ctx: WasmContext, w: DenseWeight, outFeatures: number, inFeatures: number, format: DenseFormat): PreparedDense {
  ctx.alive();
  const { heap } = ctx;
  checkDense(w, outFeatures, inFeatures, format);
  const base = { backend: "wasm", format, outFeatures, inFeatures, scalesPtr: 0, blocks: 1, blockLen: inFeatures, groups: 0, rowStride: 0 };
  if (format === "f32") {
    let ptr: number;
    if (w instanceof Float32Array) ptr = placeF32(ctx, w);
    else {
      ptr = heap.alloc(outFeatures * inFeatures * 4);
      const place = ptr;
      filling(ctx, [ptr], () => denseF32Weight(w, outFeatures, inFeatures, new Float32Array(heap.buffer, place, outFeatures * inFeatures)));
    }
    const prepared: WasmPreparedDense = { ...base, bytes: outFeatures * inFeatures * 4, ptr };
    return prepared;
  }
  if (format === "int4") return prepareInt4(ctx, w, outFeatures, inFeatures);
  const blockLen = denseBlockLen(inFeatures);
  const blocks = inFeatures / blockLen;
  const ptr = heap.alloc(outFeatures * inFeatures);
  const scalesPtr = heap.alloc(outFeatures * blocks * 4);
  const codes = new Int8Array(heap.buffer, ptr, outFeatures * inFeatures);
  const scales = new Float32Array(heap.buffer, scalesPtr, outFeatures * blocks);
  filling(ctx, [ptr, scalesPtr], () =>
    forEachDenseChunk(w, outFeatures, inFeatures, (r, n, rows) =>
      quantizeDenseInt8Rows(rows, n, inFeatures, codes.subarray(r * inFeatures, (r + n) * inFeatures), scales.subarray(r * blocks, (r + n) * blocks)),
    ),
  );
  const prepared: WasmPreparedDense = { ...base, bytes: codes.byteLength + scales.byteLength, ptr, scalesPtr, blocks, blockLen };
  return prepared;
}

/** forEachDenseChunk's rows a chunk, made even: an int4 chunk starts on a row pair (dense-int4.wat.ts). */
const evenChunkRows = (inFeatures: number): number => Math.max(2, denseChunkRows(inFeatures) & ~1);

/**
 * int4: each chunk of f32 rows [n, in] quantized in wasm memory by q4_quantize (int4-quantize.wat.ts, bit for bit
 * js/dense-int4.ts; rows split across threads) straight into its rows of the 68-byte groups, padded blocks included.
 * A row source reads its chunk into the scratch the kernel reads; an array's chunk is copied there. On a non-finite
 * value the JS reference re-reads the chunk to throw its error (which names the element).
 */
function prepareInt4(ctx: WasmContext, w: DenseWeight, outFeatures: number, inFeatures: number): WasmPreparedDense {
  const { heap, pool } = ctx;
  const c = pool.control;
  const a = JOB_SLOT.INT4_QUANTIZE;
  const blocks = inFeatures / INT4_BLOCK;
  const groups = Math.ceil(blocks / 4);
  const rowStride = groups * INT4_GROUP_BYTES;
  const bytes = int4MatrixBytes(outFeatures, rowStride);
  const ptr = heap.alloc(bytes);
  const scratchRows = (values: number) => {
    const at = heap.scratch(values * 4); // (before heap.buffer: it may grow the memory)
    return new Float32Array(heap.buffer, at, values);
  };
  const job = (src: number, r0: number, n: number, encoding: number, encPtr: number, encRowBytes: number) => {
    // rows sit in pairs (dense-int4.wat.ts): q4_quantize and the threads' splits of a chunk count pairs from its first row
    if (r0 % 2 !== 0) throw new Error(`int4 quantize: a chunk starts at row ${r0}; chunks start on even rows (the layout's pairs)`);
    c[JOB_SLOT.OP] = JOB_OP.INT4_QUANTIZE;
    c[a.SRC_PTR] = src;
    c[a.BLOCKS] = blocks;
    c[a.DST_PTR] = ptr + r0 * rowStride;
    c[a.ROW_STRIDE] = rowStride;
    c[a.NON_FINITE] = 0;
    c[a.ENCODING] = encoding;
    c[a.ENC_PTR] = encPtr;
    c[a.ENC_ROW_BYTES] = encRowBytes;
    c[JOB_SLOT.ROWS] = n;
    pool.run(ctx.exports);
    return c[a.NON_FINITE] === 0;
  };
  // the reference on rows it was given, to throw the error it names (the kernels only flag the chunk)
  const refuse = (rows: Float32Array, r0: number, n: number) => {
    quantizeInt4Rows(rows, n, inFeatures, int4Plain(new Uint8Array(n * blocks * 16), new Float32Array(n * blocks), blocks), r0);
    throw new Error(`wasm q4_quantize found a non-finite value in rows [${r0}, ${r0 + n}) that the js reference did not`);
  };
  const encoded = w instanceof Float32Array ? undefined : encodedRows(w, outFeatures, inFeatures);
  if (encoded) {
    // the rows' own bytes (F16, BF16, Q6_K) copied into scratch and decoded there by each thread before it quantizes its
    // rows: no float32 row in JS (ggml-decode.wat.ts). scratch: [f32 rows: n·in·4][encoded rows: n·rowBytes]
    const step = Math.max(8, Math.floor(ENCODED_CHUNK_F32_BYTES / (inFeatures * 8)) * 2); // even: chunks start on pairs
    filling(ctx, [ptr], () => {
      for (let r0 = 0; r0 < outFeatures; r0 += step) {
        const n = Math.min(step, outFeatures - r0);
        const f32Bytes = n * inFeatures * 4;
        const base = heap.scratch(f32Bytes + n * encoded.rowBytes);
        copyBytes(encoded.bytes, r0 * encoded.rowBytes, new Uint8Array(heap.buffer, base + f32Bytes, n * encoded.rowBytes));
        if (job(base, r0, n, encoded.code, base + f32Bytes, encoded.rowBytes)) continue;
        const rows = new Float32Array(n * inFeatures);
        (w as DenseRowSource).readRows(r0, n, rows);
        refuse(rows, r0, n);
      }
    });
    return { backend: "wasm", format: "int4", outFeatures, inFeatures, bytes, ptr, scalesPtr: 0, blocks, blockLen: INT4_BLOCK, groups, rowStride };
  }
  filling(ctx, [ptr], () =>
    forEachDenseChunk(
      w,
      outFeatures,
      inFeatures,
      (r0, n, rows) => {
        let src = rows.byteOffset;
        if (!heap.owns(rows)) {
          src = heap.scratch(rows.byteLength);
          new Float32Array(heap.buffer, src, rows.length).set(rows);
        }
        if (!job(src, r0, n, DENSE_F32, 0, 0)) refuse(rows, r0, n);
      },
      scratchRows,
      evenChunkRows(inFeatures),
    ),
  );
  return { backend: "wasm", format: "int4", outFeatures, inFeatures, bytes, ptr, scalesPtr: 0, blocks, blockLen: INT4_BLOCK, groups, rowStride };
}

/**
 * Decoded rows per int4 job from an encoded row source: small enough that each thread's share of the float32 rows stays
 * in its L2 between decoding and quantizing (measured, 32768×2560 Q6_K on 2 threads: 409 rows a job 90 ms, 128 rows
 * 70 ms, 48 rows 85–100 ms: the jobs' hand-offs start to count).
 */
const ENCODED_CHUNK_F32_BYTES = 1.25 * 2 ** 20;

/** A row source's own encoding, if the wasm threads decode it (abi.ts DENSE_DECODERS): its code and bytes per row. */
function encodedRows(w: DenseRowSource, outFeatures: number, inFeatures: number): { code: number; rowBytes: number; bytes: DenseRowEncoding["bytes"] } | undefined {
  const e = w.encoded;
  if (!e || !Object.hasOwn(DENSE_DECODERS, e.format)) return undefined; // none, or one these kernels do not decode: readRows
  const d = DENSE_DECODERS[e.format as DenseDecoderFormat];
  if (inFeatures % d.unit !== 0) throw new KernelInputError(`prepareDense row source: ${e.format} rows need a multiple of ${d.unit} columns, got ${inFeatures}`);
  const rowBytes = (inFeatures / d.unit) * d.unitBytes;
  if (e.bytes.length !== outFeatures * rowBytes)
    throw new KernelInputError(`prepareDense row source: its ${e.format} bytes are ${e.bytes.length}, expected ${outFeatures} rows × ${rowBytes} = ${outFeatures * rowBytes}`);
  return { code: d.code, rowBytes, bytes: e.bytes };
}

/** Fill freshly allocated blocks; if reading or quantizing the weight throws (a non-finite value, a failing row source), give them back. */
function filling(ctx: WasmContext, ptrs: number[], fill: () => void): void {
  try {
    fill();
  } catch (e) {
    for (const p of ptrs) ctx.heap.release(p);
    throw e;
  }
}

function wasmDense(pw: PreparedDense, kernel: string): WasmPreparedDense {
  if (pw.backend !== "wasm") throw new KernelInputError(`${kernel}: weight was prepared by the ${pw.backend} backend, not wasm`);
  return pw as WasmPreparedDense;
}

/** y [tokens, out] for x [tokens, in] and a prepared dense weight; the quantized formats run one job per token. */
export function dense(ctx: WasmContext, pw: PreparedDense, x: Float32Array, tokens: number, outBuf?: Float32Array): Float32Array {
  ctx.alive();
  const w = wasmDense(pw, "dense");
  const { outFeatures: outF, inFeatures: inF } = w;
  if (x.length !== tokens * inF) throw new KernelInputError(`dense x: has ${x.length} elements, expected tokens·in = ${tokens * inF}`);
  const y = outputBuffer(outBuf, tokens * outF);
  if (w.format === "f32") return runMatmulF32(ctx, w.ptr, x, tokens, outF, inF, y);
  if (w.format === "int4") return runInt4(ctx, w, x, tokens, y);
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

/** W4A8: x quantized per (token, 32-block) to int8 in JS, laid out a group at a time (INT4_X: x, 8·Σcodes, scales); the kernel writes y. */
function runInt4(ctx: WasmContext, w: WasmPreparedDense, x: Float32Array, tokens: number, y: Float32Array): Float32Array {
  const { heap, pool } = ctx;
  const c = pool.control;
  const { outFeatures: outF, inFeatures: inF, blocks, groups } = w;
  const xq = quantizeInt8Blocks(x, tokens, inF);
  // the codes four at a time, as int32 (in % 32 = 0 and the codes are a fresh array, so every run of four starts on
  // a multiple of 4), where 640 four-byte subarrays a 2560-wide token had cost ≈ 0.1 ms
  const codes32 = new Int32Array(xq.codes.buffer, xq.codes.byteOffset, xq.codes.length >> 2);
  const xBytes = groups * INT4_X.group + INT4_X.mask;
  const base = heap.scratch(xBytes + outF * 4);
  const a = JOB_SLOT.W4A8_DENSE;
  for (let t = 0; t < tokens; t++) {
    const buf = heap.buffer;
    const x8 = new Int8Array(buf, base, xBytes);
    const x32 = new Int32Array(buf, base, xBytes / 4);
    const xf = new Float32Array(buf, base, xBytes / 4);
    x8.fill(0); // padded blocks: x 0, sums 0, scales 0
    x8.fill(15, xBytes - INT4_X.mask); // the kernels' nibble mask
    for (let b = 0; b < blocks; b++) {
      const group = (b >> 2) * INT4_X.group;
      const src = t * inF + b * INT4_BLOCK;
      // each x beside the code it multiplies: block k's x_j at int4XOffset(k, j), four consecutive j at a time
      for (let j = 0; j < INT4_BLOCK; j += 4) x32[(group + int4XOffset(b & 3, j)) >> 2] = codes32[(src + j) >> 2]!;
      x32[(group + INT4_X.sums) / 4 + (b & 3)] = 8 * xq.sums[t * blocks + b]!;
      xf[(group + INT4_X.scales) / 4 + (b & 3)] = xq.scales[t * blocks + b]!;
    }
    c[JOB_SLOT.OP] = JOB_OP.W4A8_DENSE;
    c[a.W_PTR] = w.ptr;
    c[a.ROW_STRIDE] = w.rowStride;
    c[a.GROUPS] = groups;
    c[JOB_SLOT.ROWS] = outF;
    c[a.X_PTR] = base;
    c[a.OUT_PTR] = base + xBytes;
    c[a.RELAXED] = ctx.relaxed ? 1 : 0;
    pool.run(ctx.exports);
    y.set(new Float32Array(heap.buffer, base + xBytes, outF), t * outF);
  }
  return y;
}

/** Rows [start, start + count) of a prepared weight, dequantized from wasm memory as js/dense-rows.ts defines. */
export function denseRows(ctx: WasmContext, pw: PreparedDense, start: number, count: number, outBuf?: Float32Array): Float32Array {
  ctx.alive();
  const w = wasmDense(pw, "denseRows");
  const y = denseRowsOutput(w, start, count, outBuf);
  const inF = w.inFeatures;
  const buf = ctx.heap.buffer;
  if (w.format === "f32") y.set(new Float32Array(buf, w.ptr + start * inF * 4, count * inF));
  else if (w.format === "int8") {
    const codes = new Int8Array(buf, w.ptr + start * inF, count * inF);
    const scales = new Float32Array(buf, w.scalesPtr + start * w.blocks * 4, count * w.blocks);
    for (let r = 0; r < count; r++)
      for (let i = 0; i < inF; i++) y[r * inF + i] = f(codes[r * inF + i]! * scales[r * w.blocks + Math.floor(i / w.blockLen)]!);
  } else {
    // rows in pairs, group by group (int4GroupOffset); d: bf16 at 64 + 2j of its group for its blocks 2j and 2j + 1,
    // widened to float32 by its bits
    const rows = new Uint8Array(buf, w.ptr, int4MatrixBytes(w.outFeatures, w.rowStride));
    const halves = new Uint16Array(buf, w.ptr, rows.length / 2);
    const bits = new Uint32Array(1);
    const widened = new Float32Array(bits.buffer);
    for (let r = 0; r < count; r++)
      for (let b = 0; b < w.blocks; b++) {
        const at = int4GroupOffset(start + r, b >> 2, w.rowStride);
        bits[0] = halves[(at + 64) / 2 + ((b % 4) >> 1)]! << 16;
        const scale = widened[0]!;
        const o = r * inF + b * INT4_BLOCK;
        for (let j = 0; j < 16; j++) {
          const byte = rows[at + int4CodeOffset(b % 4, j)]!;
          y[o + j] = f(((byte & 15) - 8) * scale);
          y[o + 16 + j] = f(((byte >> 4) - 8) * scale);
        }
      }
  }
  return y;
}
