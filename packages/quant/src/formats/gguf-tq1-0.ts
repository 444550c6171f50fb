/**
 * GGUF TQ1_0 (llama.cpp): 256 ternary weights in 54 bytes (1.6875 bpw) — 48 bytes of base-3 digits, 4 `qh`
 * bytes, fp16 scale d = block absmax.
 *
 *   qs[m],    m = 0..31:  trits of x[m], x[m+32], x[m+64], x[m+96], x[m+128]   (elements 0..159)
 *   qs[32+m], m = 0..15:  trits of x[160+m], x[176+m], …, x[224+m]             (elements 160..239)
 *   qh[j],    j = 0..3:   trits of x[240+j], x[244+j], x[248+j], x[252+j], then a zero trit (elements 240..255)
 *   bytes 52..53: d (fp16)
 *
 * Five trits t0..t4 (t = code + 1, first element most significant) form q = Σ t_n·3^(4−n) ≤ 242, stored as the
 * fixed-point fraction ⌈q·256/243⌉ so that trit n decodes as ((stored·3^n mod 256)·3) >> 8 — the multiply-and-
 * shift SIMD decoders of ggml. Matches quantize_row_tq1_0_ref / dequantize_row_tq1_0 byte for byte.
 */
import { f32 } from "../float32";
import { floatToHalf, halfToFloat } from "../fp16";
import { assertCodes, assertFinite, assertLength, QuantInputError } from "../validate";
import { lroundf, QK_K } from "./gguf-tq2-0";

export const TQ1_0_BLOCK_BYTES = 54;
const POW3 = [1, 3, 9, 27, 81, 243];

/** Element indices (within a block) of each byte's trits, most significant first; qh bytes have 4 + a zero trit. */
const BYTE_ELEMENTS: number[][] = (() => {
  const table: number[][] = [];
  for (let m = 0; m < 32; m++) table.push([0, 1, 2, 3, 4].map((n) => m + 32 * n));
  for (let m = 0; m < 16; m++) table.push([0, 1, 2, 3, 4].map((n) => 160 + m + 16 * n));
  for (let j = 0; j < 4; j++) table.push([0, 1, 2, 3].map((m) => 240 + j + 4 * m));
  return table;
})();

function encodeByte(trits: number[]): number {
  let q = 0;
  for (const t of trits) q = q * 3 + t;
  if (trits.length === 4) q *= 3; // shift the first value to the most significant trit
  return Math.floor((q * 256 + 242) / 243) & 0xff;
}

function decodeTrit(byte: number, n: number): number {
  const q = (byte * POW3[n]!) & 0xff;
  return (q * 3) >> 8;
}

function checkCount(name: string, n: number): number {
  if (n <= 0 || n % QK_K !== 0) throw new QuantInputError(`${name}: element count ${n} is not a positive multiple of the block size ${QK_K}`);
  return n / QK_K;
}

function writeBlock(out: Uint8Array, blk: number, trit: (element: number) => number, d: number): void {
  BYTE_ELEMENTS.forEach((elements, byte) => {
    out[blk + byte] = encodeByte(elements.map(trit));
  });
  new DataView(out.buffer, out.byteOffset).setUint16(blk + 52, floatToHalf(d), true);
}

/** quantize_row_tq1_0_ref: floats → TQ1_0 bytes. */
export function quantizeTq1_0(x: ArrayLike<number>): Uint8Array {
  const nb = checkCount("quantizeTq1_0 input", x.length);
  assertFinite("quantizeTq1_0 input", x);
  const out = new Uint8Array(nb * TQ1_0_BLOCK_BYTES);
  for (let i = 0; i < nb; i++) {
    const base = i * QK_K;
    let amax = 0;
    for (let j = 0; j < QK_K; j++) amax = Math.max(amax, Math.abs(f32(x[base + j]!)));
    const d = f32(amax);
    const id = d ? f32(1 / d) : 0;
    writeBlock(out, i * TQ1_0_BLOCK_BYTES, (e) => lroundf(f32(f32(x[base + e]!) * id)) + 1, d);
  }
  return out;
}

/** Pack ternary codes and one scale per block (fp16). */
export function packTq1_0(codes: ArrayLike<number>, scales: ArrayLike<number>): Uint8Array {
  const nb = checkCount("packTq1_0 codes", codes.length);
  assertLength("packTq1_0 scales", scales, nb);
  assertCodes("packTq1_0 codes", codes, -1, 1);
  const out = new Uint8Array(nb * TQ1_0_BLOCK_BYTES);
  for (let i = 0; i < nb; i++) writeBlock(out, i * TQ1_0_BLOCK_BYTES, (e) => codes[i * QK_K + e]! + 1, scales[i]!);
  return out;
}

export function unpackTq1_0(bytes: Uint8Array, count: number): { codes: Int8Array; scales: Float32Array } {
  const nb = checkCount("unpackTq1_0 count", count);
  assertLength("unpackTq1_0 bytes", bytes, nb * TQ1_0_BLOCK_BYTES, "bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codes = new Int8Array(count);
  const scales = new Float32Array(nb);
  for (let i = 0; i < nb; i++) {
    const blk = i * TQ1_0_BLOCK_BYTES;
    scales[i] = halfToFloat(view.getUint16(blk + 52, true));
    BYTE_ELEMENTS.forEach((elements, byte) => {
      elements.forEach((e, n) => {
        codes[i * QK_K + e] = decodeTrit(bytes[blk + byte]!, n) - 1;
      });
    });
  }
  return { codes, scales };
}

/** dequantize_row_tq1_0: TQ1_0 bytes → floats. */
export function dequantizeTq1_0(bytes: Uint8Array, count: number): Float32Array {
  const { codes, scales } = unpackTq1_0(bytes, count);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) y[i] = f32(codes[i]! * scales[Math.floor(i / QK_K)]!);
  return y;
}
