/**
 * Packed FP4 E2M1: 4-bit codes sign|exp(2)|mant(1), two per byte (element 2i low nibble, 2i+1 high nibble).
 * Input and output are the doubled integer values `quantizeFp4` produces (±{0,1,2,3,4,6,8,12}).
 */
import { fp4Decode, fp4Encode } from "../fp4-e2m1";
import { assertLength, QuantInputError } from "../validate";

export function packFp4(doubled: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(doubled.length / 2));
  for (let i = 0; i < doubled.length; i++) out[i >> 1]! |= fp4Encode(doubled[i]!) << ((i & 1) * 4);
  return out;
}

export function unpackFp4(data: Uint8Array, count: number): Int8Array {
  if (!Number.isInteger(count) || count < 0) throw new QuantInputError(`unpackFp4 count: expected a non-negative integer, got ${count}`);
  assertLength("unpackFp4 data", data, Math.ceil(count / 2), "bytes");
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) out[i] = fp4Decode((data[i >> 1]! >> ((i & 1) * 4)) & 0xf);
  return out;
}
