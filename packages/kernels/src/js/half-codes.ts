/**
 * An f16 KV cache's write and read: float32 ↔ IEEE binary16 codes, round to nearest even (@onebit/quant
 * `floatToHalf`, F16C's rounding), halves converted back exactly. The codes sit in a Uint16Array here (a device
 * backend packs two per 32-bit word, contract/kv-codes.ts).
 *   encodeHalf: dst[dstOffset + i] = half(x[i])
 *   decodeHalf: out[i] = float32(src[srcOffset + i]), i < length
 */
import { floatToHalf, halfToFloatTable } from "@onebit/quant";
import { KernelInputError } from "../backend";

function checkRange(kernel: string, name: string, offset: number, length: number, size: number): void {
  if (!Number.isInteger(offset) || offset < 0) throw new KernelInputError(`${kernel} ${name}Offset: expected a non-negative integer, got ${offset}`);
  if (!Number.isInteger(length) || length < 0) throw new KernelInputError(`${kernel} length: expected a non-negative integer, got ${length}`);
  if (offset + length > size) throw new KernelInputError(`${kernel} ${name}: ${length} halves at offset ${offset} do not fit ${size}`);
}

/** Shape checks of encodeHalf (lengths only: device backends use them too). */
export function checkEncodeHalf(x: number, dst: number, dstOffset: number): void {
  checkRange("encodeHalf", "dst", dstOffset, x, dst);
}

/** Shape checks of decodeHalf. */
export function checkDecodeHalf(src: number, srcOffset: number, length: number, out: number): void {
  checkRange("decodeHalf", "src", srcOffset, length, src);
  if (out < length) throw new KernelInputError(`decodeHalf out: has ${out} values, expected at least length = ${length}`);
}

export function encodeHalfImpl(x: Float32Array, dst: Uint16Array, dstOffset: number): void {
  checkEncodeHalf(x.length, dst.length, dstOffset);
  for (let i = 0; i < x.length; i++) dst[dstOffset + i] = floatToHalf(x[i]!);
}

export function decodeHalfImpl(src: Uint16Array, srcOffset: number, length: number, out: Float32Array): void {
  checkDecodeHalf(src.length, srcOffset, length, out.length);
  const table = halfToFloatTable();
  for (let i = 0; i < length; i++) out[i] = table[src[srcOffset + i]!]!;
}
