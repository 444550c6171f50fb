/**
 * Direct byte-level transcoding between the 2-bit ternary layouts real files use and onebit-t2 (the kernels'
 * layout), 128 weights at a time through a small scratch: loading a 2B4T GGUF moves 2.1 B weights, which the
 * generic unpack → Int8Array codes → pack path does with ~20 bytes of garbage per weight; this does it in place.
 * Every code field is validated (3 is no ternary code). The generic pack/unpack in format-table.ts stay the
 * reference these are tested against.
 *
 * Layouts of 128 consecutive weights in 32 bytes, code = w + 1:
 *   I2_S (bitnet.cpp, x86):  byte i holds weights i, 32+i, 64+i, 96+i at bits 7-6, 5-4, 3-2, 1-0
 *   TQ2_0 half-block (llama.cpp): byte i holds weights i, 32+i, 64+i, 96+i at bits 1-0, 3-2, 5-4, 7-6
 *     (a TQ2_0 block is two such halves, 64 bytes, then its fp16 scale d: 66 bytes per 256 weights)
 *   onebit-t2: two 64-weight blocks; byte b·16 + j holds weights 64b + j, +16, +32, +48 at bits 1-0, 3-2, 5-4, 7-6
 */
import { halfToFloatTable } from "../fp16";
import { QuantInputError } from "../validate";
import { t2RowBytes } from "./onebit-t2";

const I2S_SHIFTS = [6, 4, 2, 0] as const;
const TQ2_SHIFTS = [0, 2, 4, 6] as const;

/**
 * 32 source bytes of a planes layout → the two onebit-t2 blocks, four bytes at a time (a 2B4T file moves 550 M
 * output bytes; two table lookups per byte ran at ≈ 100 MB/s): with x = source bytes j..j+3 and y = bytes
 * 16+j..19+j, t2 block 0 byte j takes weights j, 16+j from plane 0 and 32+j, 48+j from plane 1; block 1 the same
 * from planes 2 and 3. Each output field is masked out of the same byte lane of x or y, so no shift carries a field
 * across lanes. Code 3 (bits 11) in any field fails the block. Words are stored little-endian (the platforms we
 * run on).
 */
const LANES_01 = 0x03030303;
const LANES_23 = 0x0c0c0c0c;
const LANES_45 = 0x30303030;
const LANES_67 = 0xc0c0c0c0;
const LOW_BITS = 0x55555555;

/** 32 I2_S bytes (planes at bits 7-6, 5-4, 3-2, 1-0) at src[at] → two t2 blocks at dst[to] (words); false on a code 3. */
function i2sHalfToT2(src: DataView, at: number, dst: Uint32Array, to: number): boolean {
  let bad = 0;
  for (let j = 0; j < 16; j += 4) {
    const x = src.getUint32(at + j, true);
    const y = src.getUint32(at + 16 + j, true);
    bad |= x & (x >>> 1) & LOW_BITS;
    bad |= y & (y >>> 1) & LOW_BITS;
    dst[to + (j >> 2)] = ((x >>> 6) & LANES_01) | ((y >>> 4) & LANES_23) | (x & LANES_45) | ((y << 2) & LANES_67);
    dst[to + 4 + (j >> 2)] = ((x >>> 2) & LANES_01) | (y & LANES_23) | ((x << 4) & LANES_45) | ((y << 6) & LANES_67);
  }
  return bad === 0;
}

/**
 * 32 TQ2_0 bytes (planes at bits 1-0, 3-2, 5-4, 7-6) at src[at] → two t2 blocks at dst[to] (words). Returns −1 on a
 * code 3, else a value that is non-zero when some weight is not 0 (code 1).
 */
function tq2HalfToT2(src: DataView, at: number, dst: Uint32Array, to: number): number {
  let bad = 0;
  let nz = 0;
  for (let j = 0; j < 16; j += 4) {
    const x = src.getUint32(at + j, true);
    const y = src.getUint32(at + 16 + j, true);
    bad |= x & (x >>> 1) & LOW_BITS;
    bad |= y & (y >>> 1) & LOW_BITS;
    nz |= (x ^ LOW_BITS) | (y ^ LOW_BITS);
    dst[to + (j >> 2)] = (x & LANES_01) | ((y << 2) & LANES_23) | ((x << 2) & LANES_45) | ((y << 4) & LANES_67);
    dst[to + 4 + (j >> 2)] = ((x >>> 4) & LANES_01) | ((y >>> 2) & LANES_23) | ((x >>> 2) & LANES_45) | (y & LANES_67);
  }
  return bad !== 0 ? -1 : nz === 0 ? 0 : 1;
}

/** The caller's output buffer (exactly `length` bytes, 4-byte aligned: it is written as words) or a new one. */
function outputBytes(what: string, out: Uint8Array | undefined, length: number): Uint8Array {
  if (!out) return new Uint8Array(length);
  if (out.length !== length || out.byteOffset % 4 !== 0) throw new QuantInputError(`${what} out: expected ${length} bytes at a 4-byte-aligned offset, got ${out.length} at ${out.byteOffset}`);
  return out;
}

function firstCode3(src: Uint8Array, at: number): number {
  for (let i = at; i < at + 32; i++) if (has3(src[i]!)) return i;
  return at;
}

function has3(b: number): boolean {
  return (b & (b >> 1) & 0x55) !== 0;
}

function codesToPlanes(codes: Uint8Array, dst: Uint8Array, at: number, shifts: readonly number[]): void {
  for (let i = 0; i < 32; i++) dst[at + i] = (codes[i]! << shifts[0]!) | (codes[32 + i]! << shifts[1]!) | (codes[64 + i]! << shifts[2]!) | (codes[96 + i]! << shifts[3]!);
}

function t2ToCodes(src: Uint8Array, at: number, codes: Uint8Array, what: string): void {
  for (let b = 0; b < 2; b++)
    for (let j = 0; j < 16; j++) {
      const v = src[at + 16 * b + j]!;
      if (has3(v)) throw new QuantInputError(`${what}: invalid code 3 in byte ${at + 16 * b + j}`);
      const e = 64 * b + j;
      codes[e] = v & 3;
      codes[e + 16] = (v >> 2) & 3;
      codes[e + 32] = (v >> 4) & 3;
      codes[e + 48] = (v >> 6) & 3;
    }
}

function checkShape(what: string, rows: number, cols: number, multiple: number): void {
  if (!Number.isSafeInteger(rows) || rows <= 0 || !Number.isSafeInteger(cols) || cols <= 0 || cols % multiple !== 0)
    throw new QuantInputError(`${what}: shape [${rows}, ${cols}]: rows must be a positive multiple of ${multiple} weights`);
}

/** I2_S bytes (rows·cols/4 + 32-byte tail) → onebit-t2 rows and the tensor's f32 scale. cols % 128 == 0. */
export function i2sToT2(bytes: Uint8Array, rows: number, cols: number, out?: Uint8Array): { data: Uint8Array; scale: number } {
  checkShape("i2sToT2", rows, cols, 128);
  const n = rows * cols;
  if (bytes.length !== n / 4 + 32) throw new QuantInputError(`i2sToT2 bytes: has ${bytes.length} bytes, expected ${n / 4 + 32} for [${rows}, ${cols}]`);
  const data = outputBytes("i2sToT2", out, rows * t2RowBytes(cols)); // cols % 128 == 0: no padding, the same flat sweep
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dst = new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
  for (let at = 0; at < n / 4; at += 32)
    if (!i2sHalfToT2(src, at, dst, at >> 2)) throw new QuantInputError(`I2_S: invalid code 3 in byte ${firstCode3(bytes, at)}`);
  const scale = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(n / 4, true);
  return { data, scale };
}

/** onebit-t2 rows + scale → I2_S bytes (tail: the f32 scale, then zeros). cols % 128 == 0. */
export function t2ToI2s(data: Uint8Array, rows: number, cols: number, scale: number): Uint8Array {
  checkShape("t2ToI2s", rows, cols, 128);
  const n = rows * cols;
  if (data.length !== n / 4) throw new QuantInputError(`t2ToI2s data: has ${data.length} bytes, expected ${n / 4}`);
  const out = new Uint8Array(n / 4 + 32);
  const codes = new Uint8Array(128);
  for (let at = 0; at < n / 4; at += 32) {
    t2ToCodes(data, at, codes, "onebit-t2");
    codesToPlanes(codes, out, at, I2S_SHIFTS);
  }
  new DataView(out.buffer).setFloat32(n / 4, scale, true);
  return out;
}

/**
 * TQ2_0 bytes → onebit-t2 rows, with each 256-weight block's fp16 scale d (as float) and whether the block holds
 * a non-zero code (an all-zero block's d is meaningless). cols % 256 == 0.
 */
export function tq2ToT2(bytes: Uint8Array, rows: number, cols: number, out?: Uint8Array): { data: Uint8Array; blockScales: Float32Array; blockNonZero: Uint8Array } {
  checkShape("tq2ToT2", rows, cols, 256);
  const blocks = (rows * cols) / 256;
  if (bytes.length !== blocks * 66) throw new QuantInputError(`tq2ToT2 bytes: has ${bytes.length} bytes, expected ${blocks * 66} for [${rows}, ${cols}]`);
  const data = outputBytes("tq2ToT2", out, rows * t2RowBytes(cols));
  const blockScales = new Float32Array(blocks);
  const blockNonZero = new Uint8Array(blocks);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dst = new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
  const half = halfToFloatTable();
  for (let k = 0; k < blocks; k++) {
    const src = k * 66;
    let nz = 0;
    for (let h = 0; h < 2; h++) {
      const r = tq2HalfToT2(view, src + 32 * h, dst, (k * 64 + 32 * h) >> 2);
      if (r < 0) throw new QuantInputError(`TQ2_0: invalid code 3 in byte ${firstCode3(bytes, src + 32 * h)}`);
      nz |= r;
    }
    blockNonZero[k] = nz !== 0 ? 1 : 0;
    blockScales[k] = half[view.getUint16(src + 64, true)]!;
  }
  return { data, blockScales, blockNonZero };
}

/** onebit-t2 rows → TQ2_0 with every block's scale the fp16 bits `dBits`. cols % 256 == 0. */
export function t2ToTq2(data: Uint8Array, rows: number, cols: number, dBits: number): Uint8Array {
  checkShape("t2ToTq2", rows, cols, 256);
  const blocks = (rows * cols) / 256;
  if (data.length !== blocks * 64) throw new QuantInputError(`t2ToTq2 data: has ${data.length} bytes, expected ${blocks * 64}`);
  const out = new Uint8Array(blocks * 66);
  const codes = new Uint8Array(128);
  for (let k = 0; k < blocks; k++) {
    for (let h = 0; h < 2; h++) {
      t2ToCodes(data, k * 64 + 32 * h, codes, "onebit-t2");
      codesToPlanes(codes, out, k * 66 + 32 * h, TQ2_SHIFTS);
    }
    out[k * 66 + 64] = dBits & 0xff;
    out[k * 66 + 65] = dBits >> 8;
  }
  return out;
}
