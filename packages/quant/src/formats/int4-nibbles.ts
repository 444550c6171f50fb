/**
 * INT4 nibbles: two's-complement 4-bit integers (−8..7), two per byte — element 2i in the low nibble,
 * element 2i+1 in the high nibble (an odd count leaves the last high nibble 0).
 *
 *   byte i:  bits 7..4 = x[2i+1] & 0xF | bits 3..0 = x[2i] & 0xF
 */
import { assertCodes, assertLength, QuantInputError } from "../validate";

export function packInt4(values: ArrayLike<number>): Uint8Array {
  assertCodes("packInt4 values", values, -8, 7);
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) out[i >> 1]! |= (values[i]! & 0xf) << ((i & 1) * 4);
  return out;
}

export function unpackInt4(data: Uint8Array, count: number): Int8Array {
  if (!Number.isInteger(count) || count < 0) throw new QuantInputError(`unpackInt4 count: expected a non-negative integer, got ${count}`);
  assertLength("unpackInt4 data", data, Math.ceil(count / 2), "bytes");
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const n = (data[i >> 1]! >> ((i & 1) * 4)) & 0xf;
    out[i] = n >= 8 ? n - 16 : n;
  }
  return out;
}
