/**
 * onebit-t1: onebit's base-3 ternary layout, 1.6 bits per weight (5 trits per byte; log2 3 ≈ 1.585 is the bound).
 * The storage half of the ≤ 1.7-bit ternary layouts (BitNet b1.58, arXiv 2402.17764: weights in {−1, 0, +1}).
 *
 * Weight [rows=out, cols=in]; each row packed alone and padded with zero weights to a multiple of 80 columns; row
 * stride = ceil(cols/80)·16 bytes. No scale inside the bytes: the per-tensor (or per-group) scale lives beside
 * the weight, as with onebit-t2. Trit t = w + 1 (0, 1, 2 = −1, 0, +1). In a block of 80 weights (16 bytes), byte
 * j (0..15) holds elements j, 16+j, 32+j, 48+j, 64+j, the first the most significant base-3 digit:
 *
 *   q      = 81·t[j] + 27·t[16+j] + 9·t[32+j] + 3·t[48+j] + t[64+j]      (0 ≤ q ≤ 242)
 *   byte j = ⌈q·256 / 243⌉                                              (five zero weights: q = 121 → 0x80)
 *
 *   block:  byte 0   byte 1   …  byte 15
 *           w[0]     w[1]     …  w[15]      trit 0 (place 81):  ((byte·1  mod 256)·3) >> 8
 *           w[16]    w[17]    …  w[31]      trit 1 (place 27):  ((byte·3  mod 256)·3) >> 8
 *           w[32]    w[33]    …  w[47]      trit 2 (place 9):   ((byte·9  mod 256)·3) >> 8
 *           w[48]    w[49]    …  w[63]      trit 3 (place 3):   ((byte·27 mod 256)·3) >> 8
 *           w[64]    w[65]    …  w[79]      trit 4 (place 1):   ((byte·81 mod 256)·3) >> 8
 *
 * The byte mapping is the one llama.cpp's TQ1_0 uses for its `qs` bytes (ggml/src/ggml-quants.c,
 * quantize_row_tq1_0_ref / dequantize_row_tq1_0; see gguf-tq1-0.ts): the byte is the 8-bit fixed-point fraction
 * q/3^5, so digit n is a multiply by 3^n modulo 256 (dropping the digits above it), then a multiply by 3 keeping
 * the high byte — no division. TQ1_0's qs[32+m] run (elements 160+m+16n) is this very block, byte for byte.
 * 13 of the 256 byte values encode no q; unpacking refuses them.
 *
 * Why 80 weights / 16 bytes: 16 bytes is one 128-bit SIMD vector (wasm v128, SSE, NEON), the block width of
 * onebit-t2 and onebit-b1, and decoding trit n across it yields the codes of 16 CONSECUTIVE weights 16n..16n+15,
 * which line up with 16 consecutive int8 activations — one load, five multiply-and-shift steps, five i8x16
 * products. It also pads rows less than TQ1_0's 160-weight qs run: 2560 columns are 32 whole blocks, a 6912-wide
 * row (BitNet b1.58 2B4T's FFN) pads to 6960 rather than 7040. Like any multiple of 5 it divides no power of two:
 * 4096 columns pad to 4160 (1.625 bits per weight) with 80 or 160 alike.
 */
import { assertCodes, assertLength, assertShape, QuantInputError } from "../validate";

export const T1_BLOCK = 80;
export const T1_BLOCK_BYTES = 16;
/** Place value of trit n in q (n = 0 most significant). */
const PLACE = [81, 27, 9, 3, 1];
/** What decoding trit n multiplies the byte by: 3^n. */
const SHIFT_MUL = [1, 3, 9, 27, 81];

/** ⌈q·256/243⌉ for every q = 0..242. */
const ENCODE = Uint8Array.from({ length: 243 }, (_, q) => Math.floor((q * 256 + 242) / 243));
/** byte → q, or −1 for the 13 bytes no q encodes. */
const DECODE = (() => {
  const table = new Int16Array(256).fill(-1);
  ENCODE.forEach((byte, q) => {
    table[byte] = q;
  });
  return table;
})();

export function t1RowBytes(cols: number): number {
  return Math.ceil(cols / T1_BLOCK) * T1_BLOCK_BYTES;
}

/** Trit n (0 = most significant) of an encoded byte, by TQ1_0's multiply-and-shift. */
export function t1Trit(byte: number, n: number): number {
  return (((byte * SHIFT_MUL[n]!) & 0xff) * 3) >> 8;
}

export function packTernaryT1(values: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  assertShape("packTernaryT1 shape", [rows, cols]);
  assertLength("packTernaryT1 values", values, rows * cols);
  assertCodes("packTernaryT1 values", values, -1, 1);
  const stride = t1RowBytes(cols);
  const out = new Uint8Array(rows * stride);
  const q = new Uint8Array(stride); // one row's base-3 numbers, before the byte mapping
  for (let r = 0; r < rows; r++) {
    q.fill(121); // padding: zero weights, t = 1 in every digit
    for (let c = 0; c < cols; c++) {
      const within = c % T1_BLOCK;
      const byte = (c - within) / 5 + (within & 15); // block·16 + j
      const n = within >> 4;
      q[byte] = q[byte]! + values[r * cols + c]! * PLACE[n]!; // t − 1 = w: shift the digit from 1 to t
    }
    for (let b = 0; b < stride; b++) out[r * stride + b] = ENCODE[q[b]!]!;
  }
  return out;
}

export function unpackTernaryT1(data: Uint8Array, rows: number, cols: number): Int8Array {
  assertShape("unpackTernaryT1 shape", [rows, cols]);
  const stride = t1RowBytes(cols);
  assertLength("unpackTernaryT1 data", data, rows * stride, "bytes");
  const out = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const within = c % T1_BLOCK;
      const at = r * stride + (c - within) / 5 + (within & 15);
      const byte = data[at]!;
      if (DECODE[byte]! < 0)
        throw new QuantInputError(`unpackTernaryT1 data: byte ${at} (row ${r}) is 0x${byte.toString(16).padStart(2, "0")}, which encodes no five trits (expected ⌈q·256/243⌉ for some q in 0..242)`);
      out[r * cols + c] = t1Trit(byte, within >> 4) - 1;
    }
  return out;
}
