/**
 * BitNet (arXiv 2310.11453) b-bit activation quantization, Qb = 2^(b−1):
 *   absmax:        x̃ = Clip(x·Qb/γ, −Qb + ε, Qb − ε),        γ = max|x|;       x ≈ x̃·γ/Qb
 *   non-negative:  x̃ = Clip((x − η)·Qb/γ, ε, Qb − ε),         η = min(x);       x ≈ x̃·γ/Qb + η
 *                  (for inputs of ReLU-like non-linearities)
 * The paper's formulas clip but do not round: `values` is exactly that (the training-time "fake quant").
 * Integer kernels need codes, so `codes` = round-half-even(x̃) clamped to the integer range
 * [−Qb, Qb − 1] (absmax) or [0, Qb] (non-negative); dequantize(result) uses the codes.
 */
import { DEFAULT_EPS } from "./eps";
import { f32, regionAbsMax, regionMin } from "./float32";
import { forEachBlock, type Granularity, gridFor } from "./granularity";
import { makeQuantized, type QuantizedTensor } from "./quantized-tensor";
import { roundHalfEven } from "./round-half-even";
import { assertFinite, assertLength, assertShape, QuantInputError, type Shape2D } from "./validate";

export interface BitnetAbsmaxOptions {
  /** b, default 8. */
  bits?: number;
  /** ε of the clip bounds, default 1e-5. */
  eps?: number;
  /** Default "row" (per token, inference); BitNet trains per tensor. */
  granularity?: Granularity;
}

export interface BitnetQuantized<C extends Int8Array | Uint8Array> extends QuantizedTensor<C> {
  /** The paper's clipped, unrounded x̃ (same shape). */
  values: Float32Array;
}

function common(name: string, x: ArrayLike<number>, shape: Shape2D, options: BitnetAbsmaxOptions) {
  assertShape(`${name} shape`, shape);
  const [rows, cols] = shape;
  assertLength(`${name} input`, x, rows * cols);
  assertFinite(`${name} input`, x);
  const bits = options.bits ?? 8;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8)
    throw new QuantInputError(`${name} bits: expected an integer in [2, 8], got ${bits}`);
  const granularity = options.granularity ?? "row";
  const grid = gridFor(shape, granularity, `${name} granularity`);
  return { rows, cols, qb: 2 ** (bits - 1), eps: options.eps ?? DEFAULT_EPS, granularity, grid };
}

export function quantizeAbsmaxBitnet(x: ArrayLike<number>, shape: Shape2D, options: BitnetAbsmaxOptions = {}): BitnetQuantized<Int8Array> {
  const { rows, cols, qb, eps, granularity, grid } = common("quantizeAbsmaxBitnet", x, shape, options);
  const codes = new Int8Array(rows * cols);
  const values = new Float32Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const gamma = f32(regionAbsMax(x, cols, r0, r1, c0, c1));
    const s = gamma > 0 ? f32(qb / gamma) : 0; // an all-zero region quantizes to zeros
    scales[b] = f32(gamma / qb);
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        const v = Math.min(Math.max(f32(x[i]! * s), -qb + eps), qb - eps);
        values[i] = v;
        const q = roundHalfEven(v);
        codes[i] = Math.min(Math.max(q, -qb), qb - 1);
      }
  });
  return { ...makeQuantized("absmax-bitnet", shape, granularity, grid, codes, scales), values };
}

export function quantizeNonNegativeBitnet(x: ArrayLike<number>, shape: Shape2D, options: BitnetAbsmaxOptions = {}): BitnetQuantized<Uint8Array> {
  const { rows, cols, qb, eps, granularity, grid } = common("quantizeNonNegativeBitnet", x, shape, options);
  const codes = new Uint8Array(rows * cols);
  const values = new Float32Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  const offsets = new Float32Array(scales.length);
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const gamma = f32(regionAbsMax(x, cols, r0, r1, c0, c1));
    const eta = f32(regionMin(x, cols, r0, r1, c0, c1));
    const s = gamma > 0 ? f32(qb / gamma) : 0;
    scales[b] = f32(gamma / qb);
    offsets[b] = eta;
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        const v = Math.min(Math.max(f32(f32(x[i]! - eta) * s), eps), qb - eps);
        values[i] = v;
        codes[i] = Math.min(Math.max(roundHalfEven(v), 0), qb);
      }
  });
  return { ...makeQuantized("nonnegative-bitnet", shape, granularity, grid, codes, scales, offsets), values };
}
