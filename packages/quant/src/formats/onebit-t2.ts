/**
 * onebit-t2: onebit's own 2-bit ternary layout, the one the kernels read.
 *
 * Weight [rows=out, cols=in]; each row packed alone and padded with zero weights to a multiple of 64 columns;
 * row stride = ceil(cols/64)·16 bytes. Code = w + 1 (0, 1, 2 = −1, 0, +1; 3 never appears).
 * In a block of 64 weights (16 bytes), byte j (0..15) holds elements j, 16+j, 32+j, 48+j:
 *
 *   byte j:  bit 7 6 | 5 4 | 3 2 | 1 0
 *            w[48+j] | w[32+j] | w[16+j] | w[j]
 *
 * so `(v >> 2k) & 3` over a 16-byte SIMD vector yields the codes of 16 CONSECUTIVE weights (16k .. 16k+15),
 * which line up with 16 consecutive int8 activations: one load, four shift/mask steps, four i8x16 products.
 */
import { assertCodes, assertLength, assertShape, QuantInputError } from "../validate";

export const T2_BLOCK = 64;
export const T2_BLOCK_BYTES = 16;

export function t2RowBytes(cols: number): number {
  return Math.ceil(cols / T2_BLOCK) * T2_BLOCK_BYTES;
}

export function packTernaryT2(values: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  assertShape("packTernaryT2 shape", [rows, cols]);
  assertLength("packTernaryT2 values", values, rows * cols);
  assertCodes("packTernaryT2 values", values, -1, 1);
  const stride = t2RowBytes(cols);
  const out = new Uint8Array(rows * stride).fill(0x55); // 0b01010101: four zero weights (code 1) per byte
  for (let r = 0; r < rows; r++) {
    const rowOut = r * stride;
    for (let c = 0; c < cols; c++) {
      const block = c >> 6;
      const within = c & 63;
      const byte = rowOut + block * 16 + (within & 15);
      const shift = (within >> 4) * 2;
      out[byte] = (out[byte]! & ~(3 << shift)) | ((values[r * cols + c]! + 1) << shift);
    }
  }
  return out;
}

export function unpackTernaryT2(data: Uint8Array, rows: number, cols: number): Int8Array {
  assertShape("unpackTernaryT2 shape", [rows, cols]);
  const stride = t2RowBytes(cols);
  assertLength("unpackTernaryT2 data", data, rows * stride, "bytes");
  const out = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const within = c & 63;
      const code = (data[r * stride + (c >> 6) * 16 + (within & 15)]! >> ((within >> 4) * 2)) & 3;
      if (code === 3) throw new QuantInputError(`unpackTernaryT2 data: invalid code 3 at row ${r}, column ${c}`);
      out[r * cols + c] = code - 1;
    }
  return out;
}
