/**
 * ggml's dense tensor types as GGUF stores them: F32, F16, BF16 and the block quantizations Q8_0, Q4_0 and Q6_K.
 * Dequantization follows `dequantize_row_*` in ggml-quants.c; quantization follows the `quantize_row_*_ref`
 * functions (what llama-quantize runs without an importance matrix) in float32, one rounding per C operation, so
 * the bytes match ggml's for the same input (tested against vectors produced by compiling ggml-quants.c).
 * Blocks run along a row (ggml requires ne[0] to be a multiple of the block size), so any row can be dequantized
 * alone — `dequantizeRows` lets an embedding lookup expand one token's row instead of the whole table.
 *
 *   Q8_0  (34 bytes / 32 weights):  d fp16 | qs int8[32]                 x[j] = qs[j]·d
 *   Q4_0  (18 bytes / 32 weights):  d fp16 | qs u8[16]                   x[j] = ((qs[j] & 15) − 8)·d,
 *                                                                        x[j+16] = ((qs[j] >> 4) − 8)·d
 *   Q6_K (210 bytes / 256 weights): ql u8[128] | qh u8[64] | scales int8[16] | d fp16
 *     in each 128-weight half n (ql += 64n, qh += 32n, scales += 8n), for l = 0..31 and k = 0..3:
 *     q = (4 low bits: ql[l + 32·(k&1)], low nibble for k < 2, high for k ≥ 2) | ((qh[l] >> 2k) & 3) << 4
 *     x[128n + 32k + l] = d · scales[l/16 + 2k] · (q − 32)
 */
import { floatToBf16 } from "../bf16";
import { f32 } from "../float32";
import { floatToHalf, halfToFloat, halfToFloatTable } from "../fp16";
import { assertFinite, QuantInputError } from "../validate";
import { lroundf } from "./gguf-tq2-0";

export type GgmlDenseTypeName = "F32" | "F16" | "BF16" | "Q8_0" | "Q4_0" | "Q6_K";

export interface GgmlDenseType {
  name: GgmlDenseTypeName;
  /** The ggml_type id a GGUF tensor info stores (ggml.h). */
  typeId: number;
  /** Weights per block (ggml's blck_size). */
  blockSize: number;
  /** Bytes per block (ggml's type_size). */
  bytesPerBlock: number;
}

/** ggml.c's type_traits for these types. */
export const GGML_DENSE_TYPES: readonly GgmlDenseType[] = [
  { name: "F32", typeId: 0, blockSize: 1, bytesPerBlock: 4 },
  { name: "F16", typeId: 1, blockSize: 1, bytesPerBlock: 2 },
  { name: "Q4_0", typeId: 2, blockSize: 32, bytesPerBlock: 18 },
  { name: "Q8_0", typeId: 8, blockSize: 32, bytesPerBlock: 34 },
  { name: "Q6_K", typeId: 14, blockSize: 256, bytesPerBlock: 210 },
  { name: "BF16", typeId: 30, blockSize: 1, bytesPerBlock: 2 },
];

export function ggmlDenseType(name: string): GgmlDenseType {
  const t = GGML_DENSE_TYPES.find((x) => x.name === name);
  if (!t) throw new QuantInputError(`ggml dense type "${name}": unknown; expected one of ${GGML_DENSE_TYPES.map((x) => x.name).join(", ")}`);
  return t;
}

function blockCount(where: string, t: GgmlDenseType, count: number): number {
  if (!Number.isSafeInteger(count) || count < 0 || count % t.blockSize !== 0)
    throw new QuantInputError(`${where}: element count ${count} is not a non-negative multiple of ${t.name}'s block size ${t.blockSize}`);
  return count / t.blockSize;
}

/** Bytes of `count` weights of `name` (ggml_row_size). */
export function ggmlDenseByteLength(name: string, count: number): number {
  const t = ggmlDenseType(name);
  return blockCount(`ggmlDenseByteLength ${name}`, t, count) * t.bytesPerBlock;
}

// ───────────────────────────── decoding ─────────────────────────────

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decode `blocks` blocks starting at `bytes[at]` into `out[to..]`. */
function decodeBlocks(t: GgmlDenseType, bytes: Uint8Array, at: number, blocks: number, out: Float32Array, to: number): void {
  const halves = halfToFloatTable();
  switch (t.name) {
    case "F32": {
      if (LITTLE_ENDIAN && (bytes.byteOffset + at) % 4 === 0) {
        out.set(new Float32Array(bytes.buffer, bytes.byteOffset + at, blocks), to);
      } else {
        const view = new DataView(bytes.buffer, bytes.byteOffset + at, blocks * 4);
        for (let i = 0; i < blocks; i++) out[to + i] = view.getFloat32(4 * i, true);
      }
      return;
    }
    case "F16":
      for (let i = 0; i < blocks; i++) out[to + i] = halves[bytes[at + 2 * i]! | (bytes[at + 2 * i + 1]! << 8)]!;
      return;
    case "BF16": {
      // bf16 is the top half of a float32: write the bits through a u32 view of the output (ggml_bf16_to_fp32)
      const bits = new Uint32Array(out.buffer, out.byteOffset + 4 * to, blocks);
      for (let i = 0; i < blocks; i++) bits[i] = (bytes[at + 2 * i]! | (bytes[at + 2 * i + 1]! << 8)) << 16;
      return;
    }
    case "Q8_0":
      // dequantize_row_q8_0: y = qs[j]·d
      for (let b = 0; b < blocks; b++) {
        const o = at + 34 * b;
        const d = halves[bytes[o]! | (bytes[o + 1]! << 8)]!;
        const y = to + 32 * b;
        for (let j = 0; j < 32; j++) out[y + j] = f32(((bytes[o + 2 + j]! << 24) >> 24) * d);
      }
      return;
    case "Q4_0":
      // dequantize_row_q4_0: low nibbles are elements 0..15, high nibbles 16..31, both offset by 8
      for (let b = 0; b < blocks; b++) {
        const o = at + 18 * b;
        const d = halves[bytes[o]! | (bytes[o + 1]! << 8)]!;
        const y = to + 32 * b;
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 2 + j]!;
          out[y + j] = f32(((q & 0x0f) - 8) * d);
          out[y + j + 16] = f32(((q >> 4) - 8) * d);
        }
      }
      return;
    case "Q6_K": {
      const scales = new Float32Array(16);
      for (let b = 0; b < blocks; b++) decodeQ6K(bytes, at + 210 * b, halves, scales, out, to + 256 * b);
      return;
    }
  }
}

/**
 * dequantize_row_q6_K for one block: y = d·sc·q with d·sc rounded to float first, as C evaluates it. The 16 products
 * d·sc are rounded once into `scales` (float32 stores round); then y = that · q needs no explicit rounding: |q| ≤ 32,
 * so the float64 product is exact and the Float32Array store rounds it once, as C's float multiply does. (Load
 * time: a 128k-vocabulary head is 1.3 M blocks.)
 */
function decodeQ6K(bytes: Uint8Array, o: number, halves: Float32Array, scales: Float32Array, out: Float32Array, to: number): void {
  const d = halves[bytes[o + 208]! | (bytes[o + 209]! << 8)]!;
  for (let k = 0; k < 16; k++) scales[k] = d * ((bytes[o + 192 + k]! << 24) >> 24);
  for (let n = 0; n < 2; n++) {
    const ql = o + 64 * n;
    const qh = o + 128 + 32 * n;
    const y = to + 128 * n;
    for (let is = 0; is < 2; is++) {
      const s1 = scales[8 * n + is]!;
      const s2 = scales[8 * n + is + 2]!;
      const s3 = scales[8 * n + is + 4]!;
      const s4 = scales[8 * n + is + 6]!;
      for (let l = 16 * is; l < 16 * is + 16; l++) {
        const lo = bytes[ql + l]!;
        const hi = bytes[ql + l + 32]!;
        const h = bytes[qh + l]!;
        out[y + l] = s1 * (((lo & 0xf) | ((h & 3) << 4)) - 32);
        out[y + l + 32] = s2 * (((hi & 0xf) | ((h & 0xc) << 2)) - 32);
        out[y + l + 64] = s3 * (((lo >> 4) | (h & 0x30)) - 32);
        out[y + l + 96] = s4 * (((hi >> 4) | ((h >> 2) & 0x30)) - 32);
      }
    }
  }
}

/** All `count` weights of a tensor of type `name` as float32 (ggml's type_traits[type].to_float). */
export function dequantizeGgml(name: string, bytes: Uint8Array, count: number): Float32Array {
  const t = ggmlDenseType(name);
  const blocks = blockCount(`dequantizeGgml ${name}`, t, count);
  if (bytes.length !== blocks * t.bytesPerBlock)
    throw new QuantInputError(`dequantizeGgml ${name} bytes: has ${bytes.length} bytes, expected ${blocks * t.bytesPerBlock} for ${count} weights`);
  const out = new Float32Array(count);
  decodeBlocks(t, bytes, 0, blocks, out, 0);
  return out;
}

/**
 * Rows `firstRow .. firstRow + rowCount − 1` of a [rows, cols] tensor (PyTorch order: cols = ggml's ne[0]) as
 * float32, without expanding the other rows. `bytes` is the whole tensor.
 */
export function dequantizeRows(name: string, bytes: Uint8Array, rows: number, cols: number, firstRow: number, rowCount: number): Float32Array {
  const t = ggmlDenseType(name);
  if (!Number.isSafeInteger(rows) || rows <= 0 || !Number.isSafeInteger(cols) || cols <= 0)
    throw new QuantInputError(`dequantizeRows ${name} shape: expected two positive integers [rows, cols], got [${rows}, ${cols}]`);
  const rowBlocks = blockCount(`dequantizeRows ${name} cols`, t, cols);
  const rowBytes = rowBlocks * t.bytesPerBlock;
  if (rows * rowBytes !== bytes.length)
    throw new QuantInputError(`dequantizeRows ${name} bytes: has ${bytes.length} bytes, expected ${rows * rowBytes} for [${rows}, ${cols}]`);
  if (!Number.isSafeInteger(firstRow) || !Number.isSafeInteger(rowCount) || firstRow < 0 || rowCount < 0 || firstRow + rowCount > rows)
    throw new QuantInputError(`dequantizeRows ${name} rows: ${rowCount} rows from row ${firstRow} are outside the tensor's ${rows} rows`);
  const out = new Float32Array(rowCount * cols);
  decodeBlocks(t, bytes, firstRow * rowBytes, rowCount * rowBlocks, out, 0);
  return out;
}

// ───────────────────────────── encoding ─────────────────────────────

const GROUP_MAX_EPS = f32(1e-15); // ggml-quants.c: GROUP_MAX_EPS 1e-15f
const TENTH = f32(0.1);

const niF32 = new Float32Array(1);
const niI32 = new Int32Array(niF32.buffer);
/**
 * ggml-quants.c's nearest_int: adds 1.5·2^23 in float32 and reads the low mantissa bits, i.e. round half to even
 * for |v| ≤ 4194303 — emulated bit for bit so out-of-range inputs give what C gives too. `v` must be a float32.
 */
function nearestInt(v: number): number {
  niF32[0] = v + 12582912;
  return (niI32[0]! & 0x007fffff) - 0x00400000;
}

function writeHalf(out: Uint8Array, at: number, v: number): void {
  const h = floatToHalf(v);
  out[at] = h & 0xff;
  out[at + 1] = h >> 8;
}

/** quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d). */
function encodeQ8_0(x: Float32Array, out: Uint8Array): void {
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]!));
    const d = f32(amax / 127);
    const id = d ? f32(1 / d) : 0;
    const o = 34 * b;
    writeHalf(out, o, d);
    for (let j = 0; j < 32; j++) out[o + 2 + j] = lroundf(f32(x[32 * b + j]! * id)) & 0xff;
  }
}

/** quantize_row_q4_0_ref: d = (signed value of largest magnitude)/−8, q = min(15, (int8_t)(x/d + 8.5)). */
function encodeQ4_0(x: Float32Array, out: Uint8Array): void {
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[32 * b + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = f32(max / -8);
    const id = d ? f32(1 / d) : 0;
    const o = 18 * b;
    writeHalf(out, o, d);
    for (let j = 0; j < 16; j++) {
      const x0 = f32(x[32 * b + j]! * id);
      const x1 = f32(x[32 * b + 16 + j]! * id);
      const q0 = Math.min(15, Math.trunc(f32(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(f32(x1 + 8.5)));
      out[o + 2 + j] = (q0 | (q1 << 4)) & 0xff;
    }
  }
}

/**
 * make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): the scale of one 16-weight sub-block, searching 19
 * candidate inverse scales for the best weighted (w = x²) least-squares fit. Levels go to L[lo..] as 0..2·nmax−1.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  let iscale = f32(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f32(iscale * xi))));
    L[lo + i] = l + nmax;
    const w = f32(xi * xi);
    sumlx = f32(sumlx + f32(f32(w * xi) * l));
    suml2 = f32(suml2 + f32(f32(w * l) * l));
  }
  let scale = suml2 ? f32(sumlx / suml2) : 0;
  let best = f32(scale * sumlx);
  for (let is = -9; is <= 9; ++is) {
    if (is === 0) continue;
    iscale = f32(-f32(nmax + f32(TENTH * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f32(iscale * xi))));
      const w = f32(xi * xi);
      sumlx = f32(sumlx + f32(f32(w * xi) * l));
      suml2 = f32(suml2 + f32(f32(w * l) * l));
    }
    if (suml2 > 0 && f32(sumlx * sumlx) > f32(best * suml2)) {
      for (let i = 0; i < n; i++) L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(f32(iscale * x[xo + i]!))));
      scale = f32(sumlx / suml2);
      best = f32(scale * sumlx);
    }
  }
  return scale;
}

/** quantize_row_q6_K_ref. */
function encodeQ6K(x: Float32Array, out: Uint8Array): void {
  const L = new Int8Array(256);
  const scales = new Float32Array(16);
  for (let b = 0; b < x.length / 256; b++) {
    const xb = 256 * b;
    const o = 210 * b;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, x, xb + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // the block stays all zero bytes, d = +0
    const iscale = f32(-128 / maxScale);
    writeHalf(out, o + 208, f32(1 / iscale));
    const dBlock = halfToFloat(out[o + 208]! | (out[o + 209]! << 8));
    for (let ib = 0; ib < 16; ib++) out[o + 192 + ib] = Math.min(127, nearestInt(f32(iscale * scales[ib]!))) & 0xff;
    for (let j = 0; j < 16; j++) {
      const d = f32(dBlock * ((out[o + 192 + j]! << 24) >> 24));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = Math.max(-32, Math.min(31, nearestInt(f32(x[xb + 16 * j + ii]! / d))));
        L[16 * j + ii] = l + 32;
      }
    }
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n;
      const qh = o + 128 + 32 * n;
      const j = 128 * n;
      for (let l = 0; l < 32; l++) {
        const q1 = L[j + l]!;
        const q2 = L[j + l + 32]!;
        const q3 = L[j + l + 64]!;
        const q4 = L[j + l + 96]!;
        out[ql + l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
        out[ql + l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4);
        out[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
}

/**
 * Floats → bytes of `name`, as ggml's from_float_ref: F16 and BF16 round to nearest even (GGML_FP32_TO_FP16,
 * ggml_compute_fp32_to_bf16), the block types run quantize_row_*_ref. Inputs are rounded to float32 first, as C
 * receives them. The block quantizers refuse NaN and ±Infinity (ggml's output for them is meaningless).
 */
export function quantizeGgml(name: string, x: ArrayLike<number>): Uint8Array {
  const t = ggmlDenseType(name);
  const blocks = blockCount(`quantizeGgml ${name} input`, t, x.length);
  const out = new Uint8Array(blocks * t.bytesPerBlock);
  if (t.blockSize > 1) assertFinite(`quantizeGgml ${name} input`, x);
  const xs = x instanceof Float32Array ? x : Float32Array.from(x);
  switch (t.name) {
    case "F32": {
      const view = new DataView(out.buffer);
      for (let i = 0; i < xs.length; i++) view.setFloat32(4 * i, xs[i]!, true);
      break;
    }
    case "F16":
      for (let i = 0; i < xs.length; i++) writeHalf(out, 2 * i, xs[i]!);
      break;
    case "BF16":
      for (let i = 0; i < xs.length; i++) {
        const h = floatToBf16(xs[i]!);
        out[2 * i] = h & 0xff;
        out[2 * i + 1] = h >> 8;
      }
      break;
    case "Q8_0":
      encodeQ8_0(xs, out);
      break;
    case "Q4_0":
      encodeQ4_0(xs, out);
      break;
    case "Q6_K":
      encodeQ6K(xs, out);
      break;
  }
  return out;
}
