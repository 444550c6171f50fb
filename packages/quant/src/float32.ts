/**
 * float32 arithmetic. The reference code (PyTorch) and tfjs compute quantizers in float32; to agree with them
 * bit for bit we round every intermediate result to float32 with Math.fround, in the same order of operations.
 */
export const f32 = Math.fround;

/** Sum of |x| over a rectangle, accumulated in float64 and rounded once (order-independent to < 1 ulp). */
export function regionAbsSum(x: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): number {
  let s = 0;
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s += Math.abs(x[r * cols + c]!);
  return s;
}

export function regionSum(x: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): number {
  let s = 0;
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s += x[r * cols + c]!;
  return s;
}

export function regionAbsMax(x: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): number {
  let m = 0;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) {
      const a = Math.abs(x[r * cols + c]!);
      if (a > m) m = a;
    }
  return m;
}

export function regionMin(x: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): number {
  let m = Number.POSITIVE_INFINITY;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) {
      const v = x[r * cols + c]!;
      if (v < m) m = v;
    }
  return m;
}

export function regionMax(x: ArrayLike<number>, cols: number, r0: number, r1: number, c0: number, c1: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) {
      const v = x[r * cols + c]!;
      if (v > m) m = v;
    }
  return m;
}
