/**
 * Dense (full-, 8- or 4-bit-precision) weights: the LM head / tied embedding and FP projections. Three storage
 * formats:
 *
 * - "f32": the weight as given; y = matmulF32 (matmul-f32.ts's summation order). 32 bits/weight.
 * - "int8": W8A16 — the weight [out, in] quantized once by @onebit/quant's INT8 absmax per row and per block of
 *   `blockLen` columns (≤ 256; scale = γ/127 per (row, block)), the activations per token to int16 absmax at run
 *   time (|error| ≤ γ_x/65534 — negligible beside the weight's 8 bits). Exact integer dot per block, then float32:
 *     acc = Σ_b fround(fround(dot_b) · wScale[o, b])   (blocks in order, each sum rounded to float32)
 *     y[t, o] = fround(acc · xScale[t])
 *   8 + 32/blockLen bits/weight (8.125 at 2B4T's 2560 = 10·256): a quarter of f32's bytes. The LM head of a
 *   128k-vocabulary model is the largest single read of a decode step (1.3 GB in f32 at 2B4T's shape).
 * - "int4": W4A8, ggml's Q4_0 weight blocks with Q8_0-style activations (js/dense-int4.ts has the arithmetic).
 *   4.25 bits/weight: 16 bytes of codes per 32 weights + a bfloat16 scale per 64 (174 MB for 2B4T's LM head, beside
 *   llama.cpp's Q6_K output matrix at 6.5625 bits/weight, 269 MB).
 *
 * prepareDense takes the weight as a Float32Array or as a DenseRowSource (backend.ts), read `denseChunkRows` rows at
 * a time: the quantized formats are built chunk by chunk (a row's codes and scales depend on that row alone), so
 * the extra memory of preparing a table kept in a file's block format is one chunk, not a float32 copy.
 */
import { quantizeInt8 } from "@onebit/quant";
import { type DenseFormat, type DenseWeight, KernelInputError } from "../backend";
import { outputBuffer } from "../validate-inputs";
import { matmulF32Impl } from "./matmul-f32";

export type { DenseFormat } from "../backend";

const f = Math.fround;

export const DENSE_FORMATS: readonly DenseFormat[] = ["f32", "int8", "int4"];

/** Columns per int4 block (ggml's QK4_0): one float32 scale per 32 weights. */
export const INT4_BLOCK = 32;

/** Values per chunk when a dense weight is read piecewise (4 MiB of float32). */
const CHUNK_VALUES = 1 << 20;

/** Rows per chunk for a weight of `cols` columns: the unit prepareDense reads, quantizes and places at a time. */
export function denseChunkRows(cols: number): number {
  return Math.max(1, Math.floor(CHUNK_VALUES / cols));
}

/** The int8 format's quantized weight (also what the wasm backend copies into its memory). */
export interface Int8DenseWeight {
  outFeatures: number;
  inFeatures: number;
  /** columns per scale block */
  blockLen: number;
  blocks: number;
  /** [out, in] */
  codes: Int8Array;
  /** [out, blocks] */
  scales: Float32Array;
}

/**
 * Columns per scale block: the longest block of at most 256 columns that divides `inFeatures` evenly (at least
 * 16), else the whole row up to 512 columns (so a block's integer dot, ≤ 512·127·32767 < 2³¹, never overflows).
 */
export function denseBlockLen(inFeatures: number): number {
  for (let len = Math.min(256, inFeatures); len >= 16; len--) if (inFeatures % len === 0) return len;
  if (inFeatures <= 512) return inFeatures;
  throw new KernelInputError(`dense int8: inFeatures ${inFeatures} has no divisor in [16, 256] to block its scales by; use the f32 format`);
}

function isRowSource(w: unknown): w is { rows: unknown; cols: unknown; readRows: unknown } {
  return typeof w === "object" && w !== null && typeof (w as { readRows?: unknown }).readRows === "function";
}

/** Checks a prepareDense call's weight (an array or a row source), shape and format. */
export function checkDense(w: DenseWeight, outFeatures: number, inFeatures: number, format: DenseFormat): void {
  if (!DENSE_FORMATS.includes(format)) throw new KernelInputError(`dense format: expected one of ${DENSE_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  if (!Number.isInteger(outFeatures) || outFeatures <= 0 || !Number.isInteger(inFeatures) || inFeatures <= 0)
    throw new KernelInputError(`dense weight: outFeatures/inFeatures must be positive integers, got ${outFeatures}×${inFeatures}`);
  if (w instanceof Float32Array) {
    if (w.length !== outFeatures * inFeatures) throw new KernelInputError(`dense weight: has ${w.length} values, expected out·in = ${outFeatures * inFeatures}`);
  } else if (isRowSource(w)) {
    if (w.rows !== outFeatures || w.cols !== inFeatures)
      throw new KernelInputError(`dense weight: the row source is ${String(w.rows)}×${String(w.cols)}, expected out×in = ${outFeatures}×${inFeatures}`);
  } else throw new KernelInputError(`dense weight: expected a Float32Array or a row source { rows, cols, readRows(start, count, out) }, got ${describe(w)}`);
  if (format === "int8") denseBlockLen(inFeatures);
  if (format === "int4" && inFeatures % INT4_BLOCK !== 0)
    throw new KernelInputError(`dense int4: inFeatures ${inFeatures} is not a multiple of the ${INT4_BLOCK}-column block; use the int8 or f32 format`);
}

function describe(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  return v.constructor?.name ?? "an object";
}

/**
 * Visit a dense weight [out, in] in chunks of `step` rows (default denseChunkRows), in order: fn(start, count, rows
 * [count, in]).
 * An array is visited through subarrays (no copy); a row source is read into one reused chunk buffer, which fn
 * must not keep: `chunkBuffer(values)` if given (a backend's own memory, so the rows land where its kernel reads
 * them: wasm/dense-ops.ts), else a new array.
 */
export function forEachDenseChunk(
  w: DenseWeight,
  outFeatures: number,
  inFeatures: number,
  fn: (start: number, count: number, rows: Float32Array) => void,
  chunkBuffer: (values: number) => Float32Array = (values) => new Float32Array(values),
  step = denseChunkRows(inFeatures),
): void {
  const buf = w instanceof Float32Array ? null : chunkBuffer(Math.min(step, outFeatures) * inFeatures);
  for (let r = 0; r < outFeatures; r += step) {
    const n = Math.min(step, outFeatures - r);
    if (w instanceof Float32Array) fn(r, n, w.subarray(r * inFeatures, (r + n) * inFeatures));
    else {
      const rows = buf!.subarray(0, n * inFeatures);
      w.readRows(r, n, rows);
      fn(r, n, rows);
    }
  }
}

/** The f32 format's weight: the array itself, or the row source read chunk by chunk into `into` (a new array by default). */
export function denseF32Weight(w: DenseWeight, outFeatures: number, inFeatures: number, into?: Float32Array): Float32Array {
  if (w instanceof Float32Array && !into) return w;
  const out = into ?? new Float32Array(outFeatures * inFeatures);
  if (w instanceof Float32Array) {
    out.set(w);
    return out;
  }
  const step = denseChunkRows(inFeatures);
  for (let r = 0; r < outFeatures; r += step) {
    const n = Math.min(step, outFeatures - r);
    w.readRows(r, n, out.subarray(r * inFeatures, (r + n) * inFeatures));
  }
  return out;
}

/** Rows [count, in] (one chunk) quantized in the int8 format into codes [count, in] and scales [count, blocks]. */
export function quantizeDenseInt8Rows(rows: Float32Array, count: number, inFeatures: number, codes: Int8Array, scales: Float32Array): void {
  const blocks = inFeatures / denseBlockLen(inFeatures);
  const q = quantizeInt8(rows, [count, inFeatures], { granularity: { groups: blocks, axis: "row-cols" } });
  codes.set(q.codes);
  scales.set(q.scales);
}

export function quantizeDenseInt8(w: DenseWeight, outFeatures: number, inFeatures: number): Int8DenseWeight {
  const blockLen = denseBlockLen(inFeatures);
  const blocks = inFeatures / blockLen;
  const codes = new Int8Array(outFeatures * inFeatures);
  const scales = new Float32Array(outFeatures * blocks);
  forEachDenseChunk(w, outFeatures, inFeatures, (r, n, rows) =>
    quantizeDenseInt8Rows(rows, n, inFeatures, codes.subarray(r * inFeatures, (r + n) * inFeatures), scales.subarray(r * blocks, (r + n) * blocks)),
  );
  return { outFeatures, inFeatures, blockLen, blocks, codes, scales };
}

/** Per-token int16 absmax: codes [tokens, features] in [−32767, 32767], scales [tokens] (value ≈ code · scale). */
export function quantizeInt16Rows(x: Float32Array, tokens: number, features: number): { codes: Int16Array; scales: Float32Array } {
  const codes = new Int16Array(tokens * features);
  const scales = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    const base = t * features;
    let max = 0;
    for (let i = 0; i < features; i++) {
      const a = Math.abs(x[base + i]!);
      if (!(a < Number.POSITIVE_INFINITY)) throw new KernelInputError(`dense x: element ${base + i} is ${x[base + i]}; expected a finite number`);
      if (a > max) max = a;
    }
    if (max === 0) continue; // all-zero token: codes 0, scale 0
    const s = f(32767 / f(max));
    scales[t] = f(f(max) / 32767);
    for (let i = 0; i < features; i++) {
      const v = f(x[base + i]! * s);
      let q = Math.round(v);
      if (q - v === 0.5 && (q & 1) !== 0) q -= 1; // ties to even
      codes[base + i] = q > 32767 ? 32767 : q < -32767 ? -32767 : q;
    }
  }
  return { codes, scales };
}

/** The int8 format's reference matmul: x [tokens, in] → y [tokens, out] in the order documented above. */
export function denseInt8Impl(w: Int8DenseWeight, x: Float32Array, tokens: number, out?: Float32Array): Float32Array {
  const { outFeatures: outF, inFeatures: inF, blockLen, blocks, codes, scales } = w;
  if (x.length !== tokens * inF) throw new KernelInputError(`dense x: has ${x.length} elements, expected tokens·in = ${tokens * inF}`);
  const y = outputBuffer(out, tokens * outF);
  const xq = quantizeInt16Rows(x, tokens, inF);
  for (let t = 0; t < tokens; t++) {
    const xb = t * inF;
    for (let o = 0; o < outF; o++) {
      let acc = 0;
      for (let b = 0; b < blocks; b++) {
        let dot = 0;
        const wb = o * inF + b * blockLen;
        for (let i = 0; i < blockLen; i++) dot += codes[wb + i]! * xq.codes[xb + b * blockLen + i]!;
        acc = f(acc + f(f(dot) * scales[o * blocks + b]!));
      }
      y[t * outF + o] = f(acc * xq.scales[t]!);
    }
  }
  return y;
}

/** The f32 format's reference is matmulF32. */
export function denseF32Impl(w: Float32Array, outFeatures: number, inFeatures: number, x: Float32Array, tokens: number, out?: Float32Array): Float32Array {
  return matmulF32Impl(x, tokens, w, outFeatures, inFeatures, out);
}
