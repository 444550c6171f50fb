/** Dense weights held in JS memory and run with the reference ops (the js backend; webgl for the quantized formats). */
import type { BackendName, DenseFormat, DenseWeight, PreparedDense } from "../backend";
import { KernelInputError } from "../backend";
import { checkDense, denseF32Impl, denseF32Weight, denseInt8Impl, type Int8DenseWeight, quantizeDenseInt8 } from "./dense";
import { denseInt4Impl, type Int4DenseWeight, quantizeDenseInt4 } from "./dense-int4";
import { denseRowsOutput, f32Rows, int4Rows, int8Rows } from "./dense-rows";

export interface JsPreparedDense extends PreparedDense {
  f32?: Float32Array;
  int8?: Int8DenseWeight;
  int4?: Int4DenseWeight;
}

export function prepareDenseJs(backend: BackendName, w: DenseWeight, outFeatures: number, inFeatures: number, format: DenseFormat): JsPreparedDense {
  checkDense(w, outFeatures, inFeatures, format);
  const dims = { backend, format, outFeatures, inFeatures };
  if (format === "f32") {
    // the js backend reads the caller's array in place (webgl uploads it to a texture on first use); a row source is
    // read into a new array, which this weight then holds
    const f32 = denseF32Weight(w, outFeatures, inFeatures);
    return { ...dims, bytes: backend === "js" && f32 === w ? 0 : f32.byteLength, f32 };
  }
  if (format === "int4") {
    const int4 = quantizeDenseInt4(w, outFeatures, inFeatures);
    return { ...dims, bytes: int4.codes.byteLength + int4.scales.byteLength, int4 };
  }
  const int8 = quantizeDenseInt8(w, outFeatures, inFeatures);
  return { ...dims, bytes: int8.codes.byteLength + int8.scales.byteLength, int8 };
}

export function denseJs(w: JsPreparedDense, x: Float32Array, tokens: number, out?: Float32Array): Float32Array {
  if (w.int8) return denseInt8Impl(w.int8, x, tokens, out);
  if (w.int4) return denseInt4Impl(w.int4, x, tokens, out);
  return denseF32Impl(w.f32!, w.outFeatures, w.inFeatures, x, tokens, out);
}

/** Rows [start, start + count) of a weight prepared here, dequantized (js/dense-rows.ts). */
export function denseRowsJs(w: JsPreparedDense, start: number, count: number, out?: Float32Array): Float32Array {
  const y = denseRowsOutput(w, start, count, out);
  if (w.int8) int8Rows(w.int8, start, count, y);
  else if (w.int4) int4Rows(w.int4, start, count, y);
  else if (w.f32) f32Rows(w.f32, w.inFeatures, start, count, y);
  else throw new KernelInputError(`denseRows: the ${w.backend} weight holds no ${w.format} data`);
  return y;
}
