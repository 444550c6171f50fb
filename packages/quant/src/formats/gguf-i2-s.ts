/**
 * GGUF I2_S (bitnet.cpp, GGML type id 36), x86 layout. Codes 0/1/2 = −1/0/+1, 2 bits each; the whole tensor
 * is one flat sweep in blocks of 128 weights = 32 bytes, byte j of a block holding elements j, 32+j, 64+j, 96+j:
 *
 *   byte j:  bits 7 6 | 5 4 | 3 2 | 1 0
 *            x[j] | x[32+j] | x[64+j] | x[96+j]
 *
 * followed by a 32-byte tail whose first 4 bytes are the one f32 scale of the tensor (little endian; the rest
 * zero). bitnet.cpp's converter stores already-ternarised weights (values ±scale or 0), so its quantizer takes
 * scale = max|w| and code = 1 if |w| < 1e-6, else 2 for w > 0, else 0 — `quantizeI2S` does the same.
 */
import { f32 } from "../float32";
import { assertCodes, assertFinite, assertLength, QuantInputError } from "../validate";

export const I2S_BLOCK = 128;
export const I2S_BLOCK_BYTES = 32;
export const I2S_TAIL_BYTES = 32;
export const GGML_TYPE_I2_S = 36;

function checkCount(name: string, n: number): number {
  if (n <= 0 || n % I2S_BLOCK !== 0) throw new QuantInputError(`${name}: element count ${n} is not a positive multiple of the block size ${I2S_BLOCK}`);
  return n / I2S_BLOCK;
}

export function i2sByteLength(count: number): number {
  return checkCount("i2sByteLength count", count) * I2S_BLOCK_BYTES + I2S_TAIL_BYTES;
}

export function packI2S(codes: ArrayLike<number>, scale: number): Uint8Array {
  const nb = checkCount("packI2S codes", codes.length);
  assertCodes("packI2S codes", codes, -1, 1);
  if (!Number.isFinite(scale)) throw new QuantInputError(`packI2S scale: expected a finite number, got ${scale}`);
  const out = new Uint8Array(nb * I2S_BLOCK_BYTES + I2S_TAIL_BYTES);
  for (let b = 0; b < nb; b++)
    for (let j = 0; j < 32; j++) {
      const e = b * I2S_BLOCK + j;
      out[b * 32 + j] =
        ((codes[e]! + 1) << 6) | ((codes[e + 32]! + 1) << 4) | ((codes[e + 64]! + 1) << 2) | (codes[e + 96]! + 1);
    }
  new DataView(out.buffer).setFloat32(nb * I2S_BLOCK_BYTES, scale, true);
  return out;
}

export function unpackI2S(bytes: Uint8Array, count: number): { codes: Int8Array; scale: number } {
  const nb = checkCount("unpackI2S count", count);
  assertLength("unpackI2S bytes", bytes, nb * I2S_BLOCK_BYTES + I2S_TAIL_BYTES, "bytes");
  const codes = new Int8Array(count);
  for (let b = 0; b < nb; b++)
    for (let j = 0; j < 32; j++) {
      const v = bytes[b * 32 + j]!;
      const e = b * I2S_BLOCK + j;
      const fields = [(v >> 6) & 3, (v >> 4) & 3, (v >> 2) & 3, v & 3];
      fields.forEach((code, k) => {
        if (code === 3) throw new QuantInputError(`unpackI2S bytes: invalid code 3 at byte ${b * 32 + j}`);
        codes[e + 32 * k] = code - 1;
      });
    }
  const scale = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(nb * I2S_BLOCK_BYTES, true);
  return { codes, scale };
}

/** bitnet.cpp's quantize_i2_s on already-ternarised weights: floats → I2_S bytes. */
export function quantizeI2S(w: ArrayLike<number>): Uint8Array {
  checkCount("quantizeI2S input", w.length);
  assertFinite("quantizeI2S input", w);
  let max = 0;
  for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]!));
  const codes = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const v = w[i]!;
    codes[i] = Math.abs(v) < 1e-6 ? 0 : v * max > 0 ? 1 : -1;
  }
  return packI2S(codes, f32(max));
}

export function dequantizeI2S(bytes: Uint8Array, count: number): Float32Array {
  const { codes, scale } = unpackI2S(bytes, count);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) y[i] = f32(codes[i]! * scale);
  return y;
}
