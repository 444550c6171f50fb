/**
 * Dense weights for the kernel benches: a sum of four uniforms (xorshift32), centred and scaled to about a trained
 * LM head's spread (σ ≈ 0.02), with every 997th value 8× larger (outlier blocks). Deterministic from the seed.
 */
export function fillDenseWeights(out: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    let u = 0;
    for (let k = 0; k < 4; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      u += (s >>> 0) / 2 ** 32;
    }
    out[i] = (u - 2) * 0.035 * (i % 997 === 0 ? 8 : 1);
  }
  return out;
}
