/**
 * Rows back out of a prepared dense weight (the denseRows kernel): a tied embedding looked up from the LM head's
 * own storage instead of a second table. Each format's rows are its dequantized values, exactly:
 *   f32: the weight;  int8: fround(code · scale[o, b]);  int4: fround(q · d[o, b]), q = code − 8
 * (one float32 rounding of an exact product: the codes are small integers).
 */
import { KernelInputError, type PreparedDense } from "../backend";
import { outputBuffer } from "../validate-inputs";
import { INT4_BLOCK, type Int8DenseWeight } from "./dense";
import type { Int4DenseWeight } from "./dense-int4";

const f = Math.fround;

/** Checks that rows [start, start + count) are whole rows of the prepared weight. */
export function checkDenseRows(w: PreparedDense, start: number, count: number): void {
  if (!Number.isInteger(start) || start < 0 || !Number.isInteger(count) || count < 0 || start + count > w.outFeatures)
    throw new KernelInputError(`denseRows: rows [${start}, ${start}+${count}) are not integers within the weight's ${w.outFeatures} rows`);
}

/** Checks the rows; returns the output [count, in] (`out` or a new array). */
export function denseRowsOutput(w: PreparedDense, start: number, count: number, out: Float32Array | undefined): Float32Array {
  checkDenseRows(w, start, count);
  return outputBuffer(out, count * w.inFeatures, "denseRows out");
}

/** f32 rows [start, start + count) of an [out, in] float32 weight into y. */
export function f32Rows(w: Float32Array, inFeatures: number, start: number, count: number, y: Float32Array): void {
  y.set(w.subarray(start * inFeatures, (start + count) * inFeatures));
}

export function int8Rows(w: Int8DenseWeight, start: number, count: number, y: Float32Array): void {
  const { inFeatures: inF, blockLen, blocks, codes, scales } = w;
  for (let r = 0; r < count; r++)
    for (let i = 0; i < inF; i++) y[r * inF + i] = f(codes[(start + r) * inF + i]! * scales[(start + r) * blocks + Math.floor(i / blockLen)]!);
}

export function int4Rows(w: Int4DenseWeight, start: number, count: number, y: Float32Array): void {
  const { inFeatures: inF, blocks, codes, scales } = w;
  for (let r = 0; r < count; r++)
    for (let b = 0; b < blocks; b++) {
      const d = scales[(start + r) * blocks + b]!;
      const c = ((start + r) * blocks + b) * 16;
      const at = r * inF + b * INT4_BLOCK;
      for (let j = 0; j < 16; j++) {
        const byte = codes[c + j]!;
        y[at + j] = f(((byte & 15) - 8) * d);
        y[at + 16 + j] = f(((byte >> 4) - 8) * d);
      }
    }
}
