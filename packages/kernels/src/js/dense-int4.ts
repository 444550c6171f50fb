/**
 * The "int4" dense format (W4A8): ggml's Q4_0 weights × Q8_0-style activations (ggml-quants.c,
 * quantize_row_q4_0_ref / quantize_row_q8_0_ref, ggml_vec_dot_q4_0_q8_0), with a float32 epilogue whose summation
 * order is fixed so that every backend gives the same bits.
 *
 * Weight [out, in], in % 32 = 0, per row and block b of 32 columns (Q4_0's codes), with one bfloat16 scale d per pair
 * of blocks (2k, 2k + 1) — 64 columns; a row's last block alone when it has an odd number: m = the pair's value of
 * largest |w| (the first if tied), d = bf16(m / −8) (m / −8 is exact in float32; bf16 rounds it to 8 significant
 * bits, to nearest, ties to even: a relative error ≤ 2⁻⁹), q = clamp(roundHalfEven(fround(w · fround(1/d))), −8,
 * 7); stored as offset codes q + 8 ∈ [0, 15], two per byte — byte j of a block holds weight j (low nibble) and weight
 * j + 16 (high nibble), Q4_0's order — plus d as bfloat16 once per pair: 32 + 2 bytes per 64 weights = 4.25
 * bits/weight (bfloat16 because it widens to float32 by a shift: ggml's float16 needs several instructions in wasm).
 * `scales` below still holds a d per block (the pair's twice), so every consumer reads block b's d as before; the
 * wasm layout stores it once. Why 64 columns: the 2B4T head (128256 × 2560) is the second largest read of a decode
 * step, and 4.25 bits read 5.6 % fewer bytes than Q4_0's 4.5, for +0.16 % perplexity on the shipped tiny model
 * (docs/kernels.md, "Dense formats"). The extreme value maps to code −8 (|m·fround(1/d)| = 8·(1 ± 2⁻⁸) at most);
 * |w − q·d| ≤ |d|/2 ≈ γ_w/16 except a value near −m, clamped at 7, off by ≤ |d|. (A pair whose |m| < 2⁻¹²⁰ is stored
 * as zeros: 1/d would overflow float32.)
 *
 * Activations x [tokens, in], per token and block of 32 (as Q8_0, not per token: a per-token int8 scale would
 * lose an outlier block's neighbours, and it costs one extra multiply per block): γ = max|x|, s = fround(127/γ),
 * code = clamp(roundHalfEven(fround(x·s)), −127, 127), scale = fround(γ/127) (γ = 0: codes 0, scale 0);
 * |x − code·scale| ≤ scale/2 = γ/254. int8 rather than int16: the wasm kernel multiplies 16 int8 pairs per
 * instruction (relaxed SIMD's i16x8.relaxed_dot_i8x16_i7x16_s, ggml's maddubs), and int16 activations would halve
 * that beside a weight error already 16× larger than int8's.
 *
 * Dot, per (token t, row o): dot_b = Σ_{i ∈ b} q[o, i]·code[t, i] exactly (|dot_b| ≤ 32·8·127 < 2²⁴, so float32(dot_b)
 * is exact), then four float32 accumulators, block b into lane b mod 4, in block order:
 *   acc[b mod 4] = fround(acc[b mod 4] + fround(fround(dot_b · d[o, b]) · scale[t, b]))
 *   y[t, o] = fround(fround(acc[0] + acc[1]) + fround(acc[2] + acc[3]))
 * — the lanes of the wasm kernel's f32x4 accumulator (four blocks, 128 columns, per step).
 */
import { type DenseWeight, KernelInputError } from "../backend";
import { outputBuffer } from "../validate-inputs";
import { forEachDenseChunk, INT4_BLOCK } from "./dense";

const f = Math.fround;
/** Blocks that share one d: a pair, 64 columns (the wasm layout and kernels are written for pairs). */
const INT4_SCALE_BLOCKS = 2;
/** Below this block absmax, 1/d = −8/m overflows float32: the block is stored as zeros. */
const MIN_INT4_ABSMAX = 2 ** -120;

const bf16Bits = new Float32Array(1);
const bf16Word = new Uint32Array(bf16Bits.buffer);
/** A finite float32 rounded to bfloat16 (its top 16 bits; to nearest, ties to even), as a float32. */
export function bf16Round(x: number): number {
  bf16Bits[0] = x;
  const b = bf16Word[0]!;
  bf16Word[0] = (b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000;
  return bf16Bits[0]!;
}

/** The int4 format's quantized weight (the wasm backend lays it out in its own order, dense-ops.ts). */
export interface Int4DenseWeight {
  outFeatures: number;
  inFeatures: number;
  /** in / 32 */
  blocks: number;
  /** [out, blocks, 16] bytes: code q + 8 of weight j in the low nibble of byte j, of weight j + 16 in the high nibble */
  codes: Uint8Array;
  /** [out, blocks] d, bfloat16 values as float32 (signed: the extreme value is code −8); blocks 2k and 2k + 1 share theirs */
  scales: Float32Array;
}

/**
 * Where quantizeInt4Rows writes block b of chunk row r: its 16 code bytes at codes[codeAt(r, b)…] and its d at
 * scales[scaleAt(r, b)] — the reference's plain [rows, blocks] order (int4Plain), or a backend's own layout in its
 * memory, so no chunk is copied twice. (The wasm backend quantizes in wasm instead: wasm/int4-quantize.wat.ts.)
 */
export interface Int4Sink {
  codes: Uint8Array;
  scales: Float32Array;
  codeAt(r: number, b: number): number;
  scaleAt(r: number, b: number): number;
}

/** The plain layout from index 0 of codes [count, blocks·16] and scales [count, blocks]. */
export function int4Plain(codes: Uint8Array, scales: Float32Array, blocks: number): Int4Sink {
  return { codes, scales, codeAt: (r, b) => (r * blocks + b) * 16, scaleAt: (r, b) => r * blocks + b };
}

/** Rows [count, in] (one chunk, its first row `firstRow` of the weight: error messages) quantized to Q4_0 blocks, written through the sink. */
export function quantizeInt4Rows(rows: Float32Array, count: number, inFeatures: number, sink: Int4Sink, firstRow = 0): void {
  const blocks = inFeatures / INT4_BLOCK;
  const { codes, scales } = sink;
  for (let r = 0; r < count; r++)
    for (let p = 0; p < blocks; p += INT4_SCALE_BLOCKS) {
      // one d for the pair of blocks p, p + 1 (the last block alone when blocks is odd): m over their 64 columns
      const pairEnd = Math.min(blocks, p + INT4_SCALE_BLOCKS);
      const from = r * inFeatures + p * INT4_BLOCK;
      const to = r * inFeatures + pairEnd * INT4_BLOCK;
      let amax = 0;
      let m = 0;
      for (let i = from; i < to; i++) {
        const v = rows[i]!;
        const a = Math.abs(v);
        if (!(a < Number.POSITIVE_INFINITY)) throw new KernelInputError(`dense int4 weight: element [${firstRow + r}, ${i - r * inFeatures}] is ${v}; expected a finite number`);
        if (a > amax) {
          amax = a;
          m = v;
        }
      }
      const d = amax < MIN_INT4_ABSMAX ? 0 : bf16Round(f(m / -8));
      const id = d === 0 ? 0 : f(1 / d);
      for (let b = p; b < pairEnd; b++) {
        const at = r * inFeatures + b * INT4_BLOCK;
        scales[sink.scaleAt(r, b)] = d;
        const c = sink.codeAt(r, b);
        for (let j = 0; j < 16; j++) codes[c + j] = int4Code(f(rows[at + j]! * id)) | (int4Code(f(rows[at + 16 + j]! * id)) << 4);
      }
    }
}

/**
 * Adding and subtracting 1.5·2⁵² rounds a float64 |v| < 2⁵¹ to the nearest integer, ties to even (the sum's unit in
 * the last place is 1): @onebit/quant's roundHalfEven without a branch. Load time matters: 328 M weights in a
 * 128k-vocabulary LM head.
 */
const ROUND_HALF_EVEN = 6755399441055744;

/** The stored code of a scaled weight: clamp(roundHalfEven(v), −8, 7) + 8. */
function int4Code(v: number): number {
  const q = v + ROUND_HALF_EVEN - ROUND_HALF_EVEN;
  return q >= 7 ? 15 : q <= -8 ? 0 : q + 8;
}

/** The whole weight in the int4 format, read chunk by chunk from an array or a row source. */
export function quantizeDenseInt4(w: DenseWeight, outFeatures: number, inFeatures: number): Int4DenseWeight {
  const blocks = inFeatures / INT4_BLOCK;
  const codes = new Uint8Array(outFeatures * blocks * 16);
  const scales = new Float32Array(outFeatures * blocks);
  forEachDenseChunk(w, outFeatures, inFeatures, (r, n, rows) => quantizeInt4Rows(rows, n, inFeatures, int4Plain(codes.subarray(r * blocks * 16), scales.subarray(r * blocks), blocks), r));
  return { outFeatures, inFeatures, blocks, codes, scales };
}

/** Activations quantized per token and 32-column block to int8 (the Q8_0 side of the int4 format). */
export interface Int8BlockActivations {
  /** [tokens, in] in [−127, 127] */
  codes: Int8Array;
  /** [tokens, in/32] float32 (value ≈ code · scale) */
  scales: Float32Array;
  /** [tokens, in/32] Σ of the block's codes (the wasm kernel stores codes + 8 and subtracts 8·Σ) */
  sums: Int32Array;
}

/** x [tokens, features] (features % 32 = 0) → per-(token, block) int8 absmax codes, scales and code sums. */
export function quantizeInt8Blocks(x: Float32Array, tokens: number, features: number): Int8BlockActivations {
  if (x.length !== tokens * features) throw new KernelInputError(`dense x: has ${x.length} elements, expected tokens·in = ${tokens * features}`);
  const blocks = tokens * (features / INT4_BLOCK);
  const codes = new Int8Array(tokens * features);
  const scales = new Float32Array(blocks);
  const sums = new Int32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const at = b * INT4_BLOCK;
    let max = 0;
    for (let i = at; i < at + INT4_BLOCK; i++) {
      const a = Math.abs(x[i]!);
      if (!(a < Number.POSITIVE_INFINITY)) throw new KernelInputError(`dense x: element ${i} is ${x[i]}; expected a finite number`);
      if (a > max) max = a;
    }
    if (max === 0) continue; // codes 0, scale 0, sum 0
    const s = f(127 / f(max));
    scales[b] = f(f(max) / 127);
    let sum = 0;
    for (let i = at; i < at + INT4_BLOCK; i++) {
      const v = f(x[i]! * s);
      let q = Math.round(v);
      if (q - v === 0.5 && (q & 1) !== 0) q -= 1; // ties to even
      q = Math.min(127, Math.max(-127, q));
      codes[i] = q;
      sum += q;
    }
    sums[b] = sum;
  }
  return { codes, scales, sums };
}

/** The int4 format's reference matmul: x [tokens, in] → y [tokens, out], in the order documented above. */
export function denseInt4Impl(w: Int4DenseWeight, x: Float32Array, tokens: number, out?: Float32Array): Float32Array {
  const { outFeatures: outF, inFeatures: inF, blocks, codes, scales } = w;
  const xq = quantizeInt8Blocks(x, tokens, inF);
  const y = outputBuffer(out, tokens * outF);
  const acc = new Float32Array(4);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < outF; o++) {
      acc.fill(0);
      for (let b = 0; b < blocks; b++) {
        const c = (o * blocks + b) * 16;
        const xb = t * inF + b * INT4_BLOCK;
        let dot = 0;
        for (let j = 0; j < 16; j++) {
          const byte = codes[c + j]!;
          dot += ((byte & 15) - 8) * xq.codes[xb + j]! + ((byte >> 4) - 8) * xq.codes[xb + 16 + j]!;
        }
        acc[b & 3] = acc[b & 3]! + f(f(dot * scales[o * blocks + b]!) * xq.scales[t * blocks + b]!); // the store rounds
      }
      y[t * outF + o] = f(f(acc[0]! + acc[1]!) + f(acc[2]! + acc[3]!));
    }
  }
  return y;
}
