import { KernelInputError } from "../backend";
import { checkMatmulF32, outputBuffer } from "../validate-inputs";

const f = Math.fround;

/**
 * Reference f32 matmul: out[t, o] = Σ_i x[t, i]·w[o, i], in float32 with a FIXED summation order — four partial
 * sums over i ≡ 0,1,2,3 (mod 4), combined as (s0 + s1) + (s2 + s3), then the remainder in order. That is the
 * order a 4-lane SIMD kernel uses, so faster backends can (and must) match it bit for bit.
 */
export function matmulF32Impl(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, out?: Float32Array): Float32Array {
  checkMatmulF32(x, tokens, w, outFeatures, inFeatures);
  const y = outputBuffer(out, tokens * outFeatures);
  const in4 = inFeatures & ~3;
  for (let t = 0; t < tokens; t++) {
    const xb = t * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const wb = o * inFeatures;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < in4; i += 4) {
        s0 = f(s0 + f(w[wb + i]! * x[xb + i]!));
        s1 = f(s1 + f(w[wb + i + 1]! * x[xb + i + 1]!));
        s2 = f(s2 + f(w[wb + i + 2]! * x[xb + i + 2]!));
        s3 = f(s3 + f(w[wb + i + 3]! * x[xb + i + 3]!));
      }
      let s = f(f(s0 + s1) + f(s2 + s3));
      for (let i = in4; i < inFeatures; i++) s = f(s + f(w[wb + i]! * x[xb + i]!));
      y[t * outFeatures + o] = s;
    }
  }
  return y;
}
