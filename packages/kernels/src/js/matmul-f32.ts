import { KernelInputError } from "../backend";
import { outputBuffer } from "../validate-inputs";

/** Reference f32 matmul: out[t, o] = Σ_i x[t, i]·w[o, i] (float64 accumulation, rounded once). */
export function matmulF32Impl(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, out?: Float32Array): Float32Array {
  if (x.length !== tokens * inFeatures) throw new KernelInputError(`matmulF32 x: has ${x.length} elements, expected tokens·in = ${tokens * inFeatures}`);
  if (w.length !== outFeatures * inFeatures) throw new KernelInputError(`matmulF32 w: has ${w.length} elements, expected out·in = ${outFeatures * inFeatures}`);
  const y = outputBuffer(out, tokens * outFeatures);
  for (let t = 0; t < tokens; t++)
    for (let o = 0; o < outFeatures; o++) {
      let s = 0;
      for (let i = 0; i < inFeatures; i++) s += x[t * inFeatures + i]! * w[o * inFeatures + i]!;
      y[t * outFeatures + o] = s;
    }
  return y;
}
