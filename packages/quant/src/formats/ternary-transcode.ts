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
import { halfToFloat } from "../fp16";
import { QuantInputError } from "../validate";
import { t2RowBytes } from "./onebit-t2";

const I2S_SHIFTS = [6, 4, 2, 0] as const;
const TQ2_SHIFTS = [0, 2, 4, 6] as const;

/**
 * Four 256-entry tables per planes layout turn 32 source bytes into the two onebit-t2 blocks with two lookups per
 * output byte (a 2B4T file moves 550 M such bytes): with p_k(b) the code of plane k in byte b,
 *   t2 block 0 byte j = A[src j] | B[src 16+j]  (weights j, 16+j from plane 0; 32+j, 48+j from plane 1)
 *   t2 block 1 byte j = C[src j] | D[src 16+j]  (planes 2 and 3 the same way)
 */
interface PlaneTables {
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
  d: Uint8Array;
}

function planeTables(shifts: readonly number[]): PlaneTables {
  const t = { a: new Uint8Array(256), b: new Uint8Array(256), c: new Uint8Array(256), d: new Uint8Array(256) };
  for (let v = 0; v < 256; v++) {
    const p = shifts.map((s) => (v >> s) & 3);
    t.a[v] = p[0]! | (p[1]! << 4);
    t.b[v] = (p[0]! << 2) | (p[1]! << 6);
    t.c[v] = p[2]! | (p[3]! << 4);
    t.d[v] = (p[2]! << 2) | (p[3]! << 6);
  }
  return t;
}

let i2sTables: PlaneTables | undefined;
let tq2Tables: PlaneTables | undefined;

/** 32 bytes of a planes layout at src[at] → two onebit-t2 blocks at dst[to]; false if a code 3 is present. */
function planesToT2(src: Uint8Array, at: number, t: PlaneTables, dst: Uint8Array, to: number): boolean {
  let bad = 0;
  for (let j = 0; j < 16; j++) {
    const x = src[at + j]!;
    const y = src[at + 16 + j]!;
    bad |= x & (x >> 1) & 0x55;
    bad |= y & (y >> 1) & 0x55;
    dst[to + j] = t.a[x]! | t.b[y]!;
    dst[to + 16 + j] = t.c[x]! | t.d[y]!;
  }
  return bad === 0;
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
export function i2sToT2(bytes: Uint8Array, rows: number, cols: number): { data: Uint8Array; scale: number } {
  checkShape("i2sToT2", rows, cols, 128);
  const n = rows * cols;
  if (bytes.length !== n / 4 + 32) throw new QuantInputError(`i2sToT2 bytes: has ${bytes.length} bytes, expected ${n / 4 + 32} for [${rows}, ${cols}]`);
  const data = new Uint8Array(rows * t2RowBytes(cols)); // cols % 128 == 0: no padding, the same flat sweep
  i2sTables ??= planeTables(I2S_SHIFTS);
  for (let at = 0; at < n / 4; at += 32)
    if (!planesToT2(bytes, at, i2sTables, data, at)) throw new QuantInputError(`I2_S: invalid code 3 in byte ${firstCode3(bytes, at)}`);
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
export function tq2ToT2(bytes: Uint8Array, rows: number, cols: number): { data: Uint8Array; blockScales: Float32Array; blockNonZero: Uint8Array } {
  checkShape("tq2ToT2", rows, cols, 256);
  const blocks = (rows * cols) / 256;
  if (bytes.length !== blocks * 66) throw new QuantInputError(`tq2ToT2 bytes: has ${bytes.length} bytes, expected ${blocks * 66} for [${rows}, ${cols}]`);
  const data = new Uint8Array(rows * t2RowBytes(cols));
  const blockScales = new Float32Array(blocks);
  const blockNonZero = new Uint8Array(blocks);
  tq2Tables ??= planeTables(TQ2_SHIFTS);
  for (let k = 0; k < blocks; k++) {
    const src = k * 66;
    let nz = 0;
    for (let i = 0; i < 64; i++) nz |= bytes[src + i]! ^ 0x55;
    blockNonZero[k] = nz !== 0 ? 1 : 0;
    blockScales[k] = halfToFloat(bytes[src + 64]! | (bytes[src + 65]! << 8));
    for (let h = 0; h < 2; h++)
      if (!planesToT2(bytes, src + 32 * h, tq2Tables, data, k * 64 + 32 * h)) throw new QuantInputError(`TQ2_0: invalid code 3 in byte ${firstCode3(bytes, src + 32 * h)}`);
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
