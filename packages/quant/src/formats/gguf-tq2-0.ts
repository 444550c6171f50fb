/**
 * GGUF TQ2_0 (llama.cpp): blocks of 256 weights = 64 bytes of 2-bit codes + fp16 scale d = 66 bytes (2.0625 bpw).
 * d = block absmax; code = lroundf(x·(1/d)) + 1 (0,1,2 = −1,0,+1) — note lroundf rounds halves AWAY from zero.
 * Byte qs[32c + m] holds elements 128c + 32j + m at bits 2j (c = 0..1, j = 0..3, m = 0..31):
 *
 *   qs[32c+m]:  bits 7 6 | 5 4 | 3 2 | 1 0
 *               x[128c+96+m] | x[128c+64+m] | x[128c+32+m] | x[128c+m]
 *   bytes 64..65: d (fp16, little endian)
 *
 * Matches quantize_row_tq2_0_ref / dequantize_row_tq2_0 in ggml-quants.c byte for byte (tested on vectors
 * worked from that code).
 */
import { f32 } from "../float32";
import { floatToHalf, halfToFloat } from "../fp16";
import { assertCodes, assertFinite, assertLength, QuantInputError } from "../validate";

export const QK_K = 256;
export const TQ2_0_BLOCK_BYTES = 66;

/** C's lroundf: nearest integer, halves away from zero. */
export function lroundf(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

function checkCount(name: string, n: number): number {
  if (n <= 0 || n % QK_K !== 0) throw new QuantInputError(`${name}: element count ${n} is not a positive multiple of the block size ${QK_K}`);
  return n / QK_K;
}

/** quantize_row_tq2_0_ref: floats → TQ2_0 bytes. */
export function quantizeTq2_0(x: ArrayLike<number>): Uint8Array {
  const nb = checkCount("quantizeTq2_0 input", x.length);
  assertFinite("quantizeTq2_0 input", x);
  const out = new Uint8Array(nb * TQ2_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const base = i * QK_K;
    let amax = 0;
    for (let j = 0; j < QK_K; j++) amax = Math.max(amax, Math.abs(f32(x[base + j]!)));
    const d = f32(amax);
    const id = d ? f32(1 / d) : 0;
    const blk = i * TQ2_0_BLOCK_BYTES;
    view.setUint16(blk + 64, floatToHalf(d), true);
    for (let c = 0; c < 2; c++)
      for (let m = 0; m < 32; m++) {
        let q = 0;
        for (let n = 0; n < 4; n++) {
          const xi = lroundf(f32(f32(x[base + 128 * c + m + n * 32]!) * id)) + 1;
          q += (xi & 3) << (2 * n);
        }
        out[blk + 32 * c + m] = q;
      }
  }
  return out;
}

/** dequantize_row_tq2_0: TQ2_0 bytes → floats. */
export function dequantizeTq2_0(bytes: Uint8Array, count: number): Float32Array {
  const nb = checkCount("dequantizeTq2_0 count", count);
  assertLength("dequantizeTq2_0 bytes", bytes, nb * TQ2_0_BLOCK_BYTES, "bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const y = new Float32Array(count);
  for (let i = 0; i < nb; i++) {
    const blk = i * TQ2_0_BLOCK_BYTES;
    const d = halfToFloat(view.getUint16(blk + 64, true));
    for (let c = 0; c < 2; c++)
      for (let l = 0; l < 4; l++)
        for (let m = 0; m < 32; m++) y[i * QK_K + 128 * c + 32 * l + m] = f32((((bytes[blk + 32 * c + m]! >> (l * 2)) & 3) - 1) * d);
  }
  return y;
}

/** Pack given ternary codes (−1/0/+1) and one scale per 256-block (stored as fp16) into TQ2_0 bytes. */
export function packTq2_0(codes: ArrayLike<number>, scales: ArrayLike<number>): Uint8Array {
  const nb = checkCount("packTq2_0 codes", codes.length);
  assertLength("packTq2_0 scales", scales, nb);
  assertCodes("packTq2_0 codes", codes, -1, 1);
  const out = new Uint8Array(nb * TQ2_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const blk = i * TQ2_0_BLOCK_BYTES;
    view.setUint16(blk + 64, floatToHalf(scales[i]!), true);
    for (let c = 0; c < 2; c++)
      for (let m = 0; m < 32; m++) {
        let q = 0;
        for (let n = 0; n < 4; n++) q |= (codes[i * QK_K + 128 * c + 32 * n + m]! + 1) << (2 * n);
        out[blk + 32 * c + m] = q;
      }
  }
  return out;
}

export function unpackTq2_0(bytes: Uint8Array, count: number): { codes: Int8Array; scales: Float32Array } {
  const nb = checkCount("unpackTq2_0 count", count);
  assertLength("unpackTq2_0 bytes", bytes, nb * TQ2_0_BLOCK_BYTES, "bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codes = new Int8Array(count);
  const scales = new Float32Array(nb);
  for (let i = 0; i < nb; i++) {
    const blk = i * TQ2_0_BLOCK_BYTES;
    scales[i] = halfToFloat(view.getUint16(blk + 64, true));
    for (let c = 0; c < 2; c++)
      for (let l = 0; l < 4; l++)
        for (let m = 0; m < 32; m++) {
          const code = (bytes[blk + 32 * c + m]! >> (2 * l)) & 3;
          if (code === 3) throw new QuantInputError(`unpackTq2_0 bytes: invalid code 3 in block ${i}, byte ${32 * c + m}`);
          codes[i * QK_K + 128 * c + 32 * l + m] = code - 1;
        }
  }
  return { codes, scales };
}
