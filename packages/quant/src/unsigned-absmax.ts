/**
 * a4.8 low-bit attention: Q/K/V heads quantized after RoPE to b-bit unsigned integers, no calibration.
 * Unsigned codes need an offset: per region (default: per token and head — granularity
 * {groups: heads, axis: "row-cols"}) lo = min, hi = max, scale = (hi − lo)/(2^b − 1),
 * code = RoundClip((x − lo)/scale, 0, 2^b − 1), x ≈ code·scale + lo.
 * b = 3, 4 or 8 (3-bit caches keep the BOS token's heads at 4 bits — that policy lives in @onebit/kv).
 */
import { f32, regionMax, regionMin } from "./float32";
import { forEachBlock, type Granularity, gridFor } from "./granularity";
import { makeQuantized, type QuantizedTensor } from "./quantized-tensor";
import { roundHalfEven } from "./round-half-even";
import { assertFinite, assertLength, assertShape, QuantInputError, type Shape2D } from "./validate";

export const KV_BITS = [3, 4, 8] as const;
export type KvBits = (typeof KV_BITS)[number];

export function quantizeUnsigned(
  x: ArrayLike<number>,
  shape: Shape2D,
  options: { bits: KvBits; granularity?: Granularity },
): QuantizedTensor<Uint8Array> {
  assertShape("quantizeUnsigned shape", shape);
  const [rows, cols] = shape;
  assertLength("quantizeUnsigned input", x, rows * cols);
  assertFinite("quantizeUnsigned input", x);
  if (!KV_BITS.includes(options.bits))
    throw new QuantInputError(`quantizeUnsigned bits: expected one of ${KV_BITS.join(", ")}, got ${options.bits}`);
  const levels = 2 ** options.bits - 1;
  const granularity = options.granularity ?? "row";
  const grid = gridFor(shape, granularity, "quantizeUnsigned granularity");
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  const offsets = new Float32Array(scales.length);
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const lo = f32(regionMin(x, cols, r0, r1, c0, c1));
    const hi = f32(regionMax(x, cols, r0, r1, c0, c1));
    const scale = f32(f32(hi - lo) / levels);
    scales[b] = scale;
    offsets[b] = lo;
    const inv = scale > 0 ? f32(1 / scale) : 0;
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        const q = roundHalfEven(f32(f32(x[i]! - lo) * inv));
        codes[i] = Math.min(Math.max(q, 0), levels);
      }
  });
  return makeQuantized(`uint${options.bits}`, shape, granularity, grid, codes, scales, offsets);
}
