/**
 * Hugging Face packed ternary weights (microsoft/bitnet-b1.58-2B-4T, transformers `integrations/bitnet.py`):
 * a linear's weight [out, in] is stored as uint8 [⌈out/4⌉, in], packed along the OUTPUT dimension: byte (r, c)
 * holds rows r + i·⌈out/4⌉ (i = 0..3) at bits 2i, stored value = w + 1:
 *
 *   byte (r, c):  bits 7 6 | 5 4 | 3 2 | 1 0
 *                 W[r+3R, c] | W[r+2R, c] | W[r+R, c] | W[r, c]      (R = ⌈out/4⌉)
 *
 * plus `weight_scale` [1]. Its meaning depends on the checkpoint's quantization_config.linear_class
 * (transformers integrations/bitnet.py): "bitlinear" (BitLinear, transformers' default) computes
 * y = (W̃ · x_q) / (weight_scale · input_scale), a DIVISOR (weight_scale = 1/mean|W|), while "autobitlinear"
 * (AutoBitLinear, what microsoft/bitnet-b1.58-2B-4T declares) multiplies by it (weight_scale = mean|W|).
 * `hfScaleToMultiplier` is the "bitlinear" reading; @onebit/model's HF loader decides by the config.
 */
import { assertCodes, assertLength, assertShape, QuantInputError } from "../validate";

export function hfPackedRows(out: number): number {
  return Math.ceil(out / 4);
}

export function packHf(values: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  assertShape("packHf shape", [rows, cols]);
  assertLength("packHf values", values, rows * cols);
  assertCodes("packHf values", values, -1, 1);
  const R = hfPackedRows(rows);
  const out = new Uint8Array(R * cols);
  for (let o = 0; o < rows; o++) {
    const r = o % R;
    const i = Math.floor(o / R);
    for (let c = 0; c < cols; c++) out[r * cols + c]! |= (values[o * cols + c]! + 1) << (2 * i);
  }
  return out;
}

export function unpackHf(data: Uint8Array, rows: number, cols: number): Int8Array {
  assertShape("unpackHf shape", [rows, cols]);
  const R = hfPackedRows(rows);
  assertLength("unpackHf data", data, R * cols, "bytes");
  const out = new Int8Array(rows * cols);
  for (let o = 0; o < rows; o++) {
    const r = o % R;
    const i = Math.floor(o / R);
    for (let c = 0; c < cols; c++) {
      const code = (data[r * cols + c]! >> (2 * i)) & 3;
      if (code === 3) throw new QuantInputError(`unpackHf data: invalid code 3 for weight row ${o}, column ${c}`);
      out[o * cols + c] = code - 1;
    }
  }
  return out;
}

/** HF weight_scale of a linear_class "bitlinear" checkpoint (a divisor) → onebit scale (a multiplier). */
export function hfScaleToMultiplier(weightScale: number): number {
  if (!(weightScale > 0) || !Number.isFinite(weightScale))
    throw new QuantInputError(`weight_scale: expected a positive finite number, got ${weightScale}`);
  return Math.fround(1 / weightScale);
}
