/**
 * The result of every quantizer: integer codes plus one scale (and optionally one offset) per region of the
 * granularity grid. Scales are dequantization multipliers: value ≈ code · scale (+ offset).
 */
import { type Grid, type Granularity, blockOf } from "./granularity";
import type { Shape2D } from "./validate";

export interface QuantizedTensor<C extends Int8Array | Uint8Array = Int8Array | Uint8Array> {
  /** Which quantizer made it, e.g. "ternary", "int8", "fp4". */
  scheme: string;
  shape: [rows: number, cols: number];
  granularity: Granularity;
  grid: Grid;
  /** [rows, cols] row-major. */
  codes: C;
  /** [rowBlocks, colBlocks] dequantization multipliers. */
  scales: Float32Array;
  /** [rowBlocks, colBlocks] additive offsets (non-negative / unsigned quantizers); absent means 0. */
  offsets?: Float32Array;
}

export function makeQuantized<C extends Int8Array | Uint8Array>(
  scheme: string,
  shape: Shape2D,
  granularity: Granularity,
  grid: Grid,
  codes: C,
  scales: Float32Array,
  offsets?: Float32Array,
): QuantizedTensor<C> {
  const q: QuantizedTensor<C> = { scheme, shape: [shape[0], shape[1]], granularity, grid, codes, scales };
  if (offsets) q.offsets = offsets;
  return q;
}

/** value[r, c] = fround(code · scale[block]) (+ offset[block]), as float32. */
export function dequantize(q: QuantizedTensor): Float32Array {
  const [rows, cols] = q.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const b = blockOf(q.grid, r, c);
      const i = r * cols + c;
      out[i] = Math.fround(q.codes[i]! * q.scales[b]!) + (q.offsets ? q.offsets[b]! : 0);
    }
  return out;
}
