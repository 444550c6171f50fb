/**
 * FP4 E2M1 activations with the a4.8 MinMax quantizer (E = 2, M = 1):
 *   Q(x) = γ/2^(M+b) · Round(2^(M+b)·x/γ),  γ = 2^max(⌊log2|x| + b⌋, 1),  b = log2((2 − 2^−M)/max|x|) + 2^E − 1
 * With these constants 2^b = 12/max|x|: x' = x·2^b maps the region's max to ±12, and the step of the grid is
 * 2^(p−1) with p = max(⌊log2|x'|⌋, 1): 1 below 4, 2 in [4, 8), 4 in [8, 12]. So every quantized x' is one of
 * ±{0, 1, 2, 3, 4, 6, 8, 12} = 2 × the E2M1 magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6}.
 *
 * (The a4.8 paper typesets γ = 2^max(⌊⌊log2|X|⌋ + b⌋, 1); with a non-integer b that floors log2|X| before the
 * bias is added and yields mantissas outside E2M1 — e.g. x' = 10.8 → 10. We follow the FP grid, which is what
 * the paper's E2M1 kernels can represent; both readings agree whenever b is an integer. Tested.)
 *
 * Codes are stored as those doubled values (int8 −12..12) so that integer kernels can consume them directly,
 * with scale = max|x|/12 (value = code · scale). `fp4Encode`/`fp4Decode` convert to the 4-bit E2M1 bit pattern
 * sign|exp(2)|mant(1) used by the packed FP4 format.
 */
import { f32, regionAbsMax } from "./float32";
import { forEachBlock, gridFor } from "./granularity";
import type { ActivationQuantOptions } from "./int-absmax";
import { makeQuantized, type QuantizedTensor } from "./quantized-tensor";
import { roundHalfEven } from "./round-half-even";
import { assertFinite, assertLength, assertShape, QuantInputError, type Shape2D } from "./validate";

/** E2M1 magnitude of bit pattern 0..7 (the sign is bit 3). */
export const E2M1_VALUES: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
/** 2 × E2M1 magnitude: integers. */
export const E2M1_DOUBLED: readonly number[] = [0, 1, 2, 3, 4, 6, 8, 12];
const DOUBLED_TO_CODE = new Map(E2M1_DOUBLED.map((v, i) => [v, i]));

/** 4-bit E2M1 bit pattern → doubled integer value (−12..12). */
export function fp4Decode(code: number): number {
  if (!Number.isInteger(code) || code < 0 || code > 15) throw new QuantInputError(`fp4Decode code: expected an integer in [0, 15], got ${code}`);
  const mag = E2M1_DOUBLED[code & 7]!;
  return code & 8 ? -mag : mag;
}

/** Doubled integer value (one of ±{0,1,2,3,4,6,8,12}) → 4-bit E2M1 bit pattern. Zero encodes as +0. */
export function fp4Encode(doubled: number): number {
  const code = DOUBLED_TO_CODE.get(Math.abs(doubled));
  if (code === undefined)
    throw new QuantInputError(`fp4Encode value: ${doubled} is not twice an E2M1 value; expected one of ±{${E2M1_DOUBLED.join(", ")}}`);
  return doubled < 0 ? code | 8 : code;
}

/** Round a doubled value x' (|x'| ≤ 12) onto the doubled E2M1 grid, ties to even. */
export function roundToE2M1Doubled(xp: number): number {
  const a = Math.abs(xp);
  const step = a < 4 ? 1 : a < 8 ? 2 : 4;
  const q = Math.min(roundHalfEven(a / step) * step, 12);
  return xp < 0 ? -q : q;
}

export function quantizeFp4(x: ArrayLike<number>, shape: Shape2D, options: Pick<ActivationQuantOptions, "granularity"> = {}): QuantizedTensor<Int8Array> {
  assertShape("quantizeFp4 shape", shape);
  const [rows, cols] = shape;
  assertLength("quantizeFp4 input", x, rows * cols);
  assertFinite("quantizeFp4 input", x);
  const granularity = options.granularity ?? "row";
  const grid = gridFor(shape, granularity, "quantizeFp4 granularity");
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const max = f32(regionAbsMax(x, cols, r0, r1, c0, c1));
    if (max === 0) return; // zeros, scale 0
    const toGrid = f32(12 / max); // 2^b
    scales[b] = f32(max / 12);
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        codes[i] = roundToE2M1Doubled(f32(x[i]! * toGrid));
      }
  });
  return makeQuantized("fp4", shape, granularity, grid, codes, scales);
}

/**
 * The paper's formula evaluated literally (⌊⌊log2|x|⌋ + b⌋ form), for tests and for anyone comparing.
 * Returns the dequantized values.
 */
export function fp4PaperFormula(x: ArrayLike<number>, E = 2, M = 1): Float64Array {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]!));
  const out = new Float64Array(x.length);
  if (max === 0) return out;
  const b = Math.log2((2 - 2 ** -M) / max) + 2 ** E - 1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v === 0) continue;
    const gamma = 2 ** Math.max(Math.floor(Math.floor(Math.log2(Math.abs(v))) + b), 1);
    out[i] = (gamma / 2 ** (M + b)) * roundHalfEven((2 ** (M + b) / gamma) * v);
  }
  return out;
}
