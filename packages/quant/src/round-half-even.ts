/**
 * Round half to even ("banker's rounding"), as `torch.round` and IEEE 754 roundTiesToEven do.
 * JavaScript's `Math.round` rounds halves towards +Infinity (Math.round(-0.5) === -0, Math.round(2.5) === 3),
 * which would make every quantizer here disagree with the reference code on ties.
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round(v) rounds x.5 up; on an exact tie whose result is odd, step back to the even neighbour.
  if (r - v === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}
