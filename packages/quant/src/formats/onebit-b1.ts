/**
 * onebit-b1: onebit's 1-bit binary layout. Rows padded to a multiple of 128 columns (pad bits are −1, but the
 * kernels pair them with zero activations); row stride = ceil(cols/128)·16 bytes.
 * In a block of 128 weights (16 bytes), bit k of byte j holds element 16k + j; bit 1 = +1, bit 0 = −1:
 *
 *   byte j:  bit 7 … bit 1 | bit 0
 *            w[112+j] … w[16+j] | w[j]
 *
 * so bit k across a 16-byte vector is the sign mask of 16 consecutive weights 16k .. 16k+15.
 */
import { assertLength, assertShape, QuantInputError } from "../validate";

export const B1_BLOCK = 128;
export const B1_BLOCK_BYTES = 16;

export function b1RowBytes(cols: number): number {
  return Math.ceil(cols / B1_BLOCK) * B1_BLOCK_BYTES;
}

export function packBinaryB1(values: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  assertShape("packBinaryB1 shape", [rows, cols]);
  assertLength("packBinaryB1 values", values, rows * cols);
  const stride = b1RowBytes(cols);
  const out = new Uint8Array(rows * stride);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (v !== 1 && v !== -1) throw new QuantInputError(`packBinaryB1 values: element ${r * cols + c} is ${v}; expected −1 or +1`);
      if (v === 1) {
        const within = c & 127;
        out[r * stride + (c >> 7) * 16 + (within & 15)]! |= 1 << (within >> 4);
      }
    }
  return out;
}

export function unpackBinaryB1(data: Uint8Array, rows: number, cols: number): Int8Array {
  assertShape("unpackBinaryB1 shape", [rows, cols]);
  const stride = b1RowBytes(cols);
  assertLength("unpackBinaryB1 data", data, rows * stride, "bytes");
  const out = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const within = c & 127;
      out[r * cols + c] = (data[r * stride + (c >> 7) * 16 + (within & 15)]! >> (within >> 4)) & 1 ? 1 : -1;
    }
  return out;
}
