/**
 * Dense (full- or 8-bit-precision) weights: the LM head / tied embedding and FP projections. Two storage formats:
 *
 * - "f32": the float weight as given; y = matmulF32 (matmul-f32.ts's summation order).
 * - "int8": W8A16 — the weight [out, in] quantized once by @onebit/quant's INT8 absmax per row and per block of
 *   `blockLen` columns (≤ 256; scale = γ/127 per (row, block)), the activations per token to int16 absmax at run
 *   time (|error| ≤ γ_x/65534 — negligible beside the weight's 8 bits). Exact integer dot per block, then float32:
 *     acc = Σ_b fround(fround(dot_b) · wScale[o, b])   (blocks in order, each sum rounded to float32)
 *     y[t, o] = fround(acc · xScale[t])
 *   A quarter of f32's bytes: the LM head of a 128k-vocabulary model is the largest single read of a decode step
 *   (1.3 GB in f32 at 2B4T's shape), so this is what llama.cpp's Q8_0/Q6_K output matrices buy too.
 */
import { quantizeInt8 } from "@onebit/quant";
import { KernelInputError } from "../backend";
import { outputBuffer } from "../validate-inputs";
import { matmulF32Impl } from "./matmul-f32";

const f = Math.fround;

export type DenseFormat = "f32" | "int8";
export const DENSE_FORMATS: readonly DenseFormat[] = ["f32", "int8"];

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

export function checkDense(w: Float32Array, outFeatures: number, inFeatures: number, format: DenseFormat): void {
  if (!DENSE_FORMATS.includes(format)) throw new KernelInputError(`dense format: expected one of ${DENSE_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  if (!Number.isInteger(outFeatures) || outFeatures <= 0 || !Number.isInteger(inFeatures) || inFeatures <= 0)
    throw new KernelInputError(`dense weight: outFeatures/inFeatures must be positive integers, got ${outFeatures}×${inFeatures}`);
  if (w.length !== outFeatures * inFeatures) throw new KernelInputError(`dense weight: has ${w.length} values, expected out·in = ${outFeatures * inFeatures}`);
}

export function quantizeDenseInt8(w: Float32Array, outFeatures: number, inFeatures: number): Int8DenseWeight {
  const blockLen = denseBlockLen(inFeatures);
  const blocks = inFeatures / blockLen;
  const q = quantizeInt8(w, [outFeatures, inFeatures], { granularity: { groups: blocks, axis: "row-cols" } });
  return { outFeatures, inFeatures, blockLen, blocks, codes: q.codes, scales: q.scales };
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
