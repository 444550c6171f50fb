/** Dense weights held in JS memory and run with the reference ops (the js backend; webgl for the int8 format). */
import type { BackendName, DenseFormat, PreparedDense } from "../backend";
import { checkDense, denseF32Impl, denseInt8Impl, type Int8DenseWeight, quantizeDenseInt8 } from "./dense";

export interface JsPreparedDense extends PreparedDense {
  f32?: Float32Array;
  int8?: Int8DenseWeight;
}

export function prepareDenseJs(backend: BackendName, w: Float32Array, outFeatures: number, inFeatures: number, format: DenseFormat): JsPreparedDense {
  checkDense(w, outFeatures, inFeatures, format);
  // f32: the js backend reads the caller's array in place; webgl uploads it to a texture on first use
  if (format === "f32") return { backend, format, outFeatures, inFeatures, bytes: backend === "js" ? 0 : w.byteLength, f32: w };
  const int8 = quantizeDenseInt8(w, outFeatures, inFeatures);
  return { backend, format, outFeatures, inFeatures, bytes: int8.codes.byteLength + int8.scales.byteLength, int8 };
}

export function denseJs(w: JsPreparedDense, x: Float32Array, tokens: number, out?: Float32Array): Float32Array {
  return w.int8 ? denseInt8Impl(w.int8, x, tokens, out) : denseF32Impl(w.f32!, w.outFeatures, w.inFeatures, x, tokens, out);
}
