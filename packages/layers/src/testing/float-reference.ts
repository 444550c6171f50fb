/**
 * Independent truth for the layer tests: float64 matmuls of values dequantized by @onebit/quant, compared within a
 * relative tolerance. (Test support, not exported by the package.)
 */
import { type Activations, createJsBackend, hostArray } from "@onebit/kernels";
import { expect } from "vitest";

export const backend = createJsBackend();

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}

export function floatMatmul(x: ArrayLike<number>, w: ArrayLike<number>, tokens: number, out: number, inF: number): number[] {
  const y: number[] = [];
  for (let t = 0; t < tokens; t++)
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0; i < inF; i++) s += x[t * inF + i]! * w[o * inF + i]!;
      y.push(s);
    }
  return y;
}

/** got within rel·max|want| of want, element-wise; got may be activations of a host backend. */
export function close(got: Activations | number[], want: number[], rel = 1e-5): void {
  const values = Array.isArray(got) ? got : hostArray(got, "close");
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  for (let i = 0; i < want.length; i++) expect(Math.abs(values[i]! - want[i]!)).toBeLessThanOrEqual(rel * scale);
}
