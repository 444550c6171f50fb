/**
 * e^x in float32 by a fixed sequence of float32 operations, so that a SIMD kernel (wasm f32x4, one lane per value)
 * computes the same bits as this reference: SiLU's exponential (`gateActivation`).
 *
 * The method is Cephes' `expf` (S. L. Moshier, Cephes Math Library, expf.c): n = round(x·log₂e), r = x − n·ln 2 in two
 * parts (C1 has 9 significant bits, so n·C1 is exact), e^r by a degree-7 polynomial whose first two terms are exact
 * (1 + r + r²·P(r)), then × 2ⁿ. Relative error below 2·10⁻⁷ over the clamped range (expf.test.ts checks it against
 * Math.exp). Every step is one float32 operation rounded to nearest (Math.fround here; f32x4 ops in the kernel, no
 * fused multiply-add), which makes the two bit-identical.
 *
 * Inputs are clamped to [EXPF_MIN, EXPF_MAX] first (NaN stays NaN): e^x for x below is e^−87 ≈ 1.6·10⁻³⁸
 * rather than a subnormal or 0, and for x above e^88 ≈ 1.7·10³⁸ rather than Infinity — exact enough for SiLU,
 * x / (1 + e^−x), whose value there is x·(≤ 10⁻³⁸) or x.
 */

const f = Math.fround;

/** The clamp: n = round(x·log₂e) stays in [−126, 127] and y·2ⁿ is a normal float32 (≈ 1.6·10⁻³⁸ to 1.7·10³⁸). */
export const EXPF_MIN = -87;
export const EXPF_MAX = 88;
export const EXPF_LOG2E = f(Math.LOG2E);
export const EXPF_C1 = f(0.693359375);
export const EXPF_C2 = f(-2.12194440e-4);
/** P(r), highest power first (Cephes expf.c). */
export const EXPF_P = [f(1.9875691500e-4), f(1.3981999507e-3), f(8.3334519073e-3), f(4.1665795894e-2), f(1.6666665459e-1), f(5.0000001201e-1)] as const;

/** Round half to even, as f32x4.nearest: v is a float32 value below 2²² in magnitude. */
function nearestEven(v: number): number {
  const r = Math.round(v); // half up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** e^x, x a float32 value; the result is a float32 value. */
export function expf(x: number): number {
  x = Math.min(Math.max(x, EXPF_MIN), EXPF_MAX); // NaN propagates through both, as f32x4.min/max
  const n = nearestEven(f(x * EXPF_LOG2E));
  const r = f(f(x - f(n * EXPF_C1)) - f(n * EXPF_C2));
  const z = f(r * r);
  let y = EXPF_P[0];
  for (let k = 1; k < EXPF_P.length; k++) y = f(f(y * r) + EXPF_P[k]!);
  y = f(f(f(y * z) + r) + 1);
  return f(y * 2 ** n); // 2ⁿ exact and the product a normal float32: exact too
}

/** SiLU(x) = x / (1 + e^−x) in float32, with expf above. */
export function siluf(x: number): number {
  return f(x / f(1 + expf(-x)));
}
