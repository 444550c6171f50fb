/**
 * How BitLinear operands are laid out in wasm memory for the ternary kernels (pure functions, no heap).
 *
 * Weights: onebit-t2 rows (16 bytes per 64 weights, 2-bit codes = w + 1), re-laid in interleaved row pairs.
 * Activations, per token, zero-padded to the weight's 64-column blocks: int8 in order (relaxed SIMD) or int16 with
 * each 16-chunk split even/odd (baseline SIMD, for i32x4.dot_i16x8_s), or the non-zeros alone (sparse kernel).
 */
import { t1RowBytes, t2RowBytes } from "@onebit/quant";
import { KernelInputError, type PackedLinearWeight } from "../backend";

/**
 * The kernels' weight layout: rows in interleaved pairs, block k (16 bytes) of row 2p at pair p's offset 32k and of
 * row 2p+1 at 32k + 16, so the pair kernel reads one sequential stream (two separate row streams defeated the
 * hardware prefetcher: 2.2× slower out of cache). An odd last row is paired with a zero row.
 * data: [rows, rowBytes] t2 → [ceil(rows / 2), 2·rowBytes].
 */
export function interleaveRowPairs(data: Uint8Array, rows: number, rowBytes: number, out?: Uint8Array): Uint8Array {
  const pairs = Math.ceil(rows / 2);
  // `out` (4-byte aligned, zeroed): straight into wasm memory, no per-weight temporary of megabytes
  const dst = out ?? new Uint8Array(pairs * 2 * rowBytes);
  if (dst.length !== pairs * 2 * rowBytes || dst.byteOffset % 4 !== 0) throw new KernelInputError(`interleaveRowPairs out: expected ${pairs * 2 * rowBytes} bytes at a 4-byte-aligned offset, got ${dst.length} at ${dst.byteOffset}`);
  // 16-byte blocks as four 32-bit words (rowBytes is a multiple of 16)
  const src32 = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length / 4) : new Uint32Array(data.slice().buffer);
  const dst32 = new Uint32Array(dst.buffer, dst.byteOffset, dst.length / 4);
  const rowWords = rowBytes / 4;
  for (let r = 0; r < rows; r++) {
    const base = (r >> 1) * 2 * rowWords + (r & 1) * 4;
    const src = r * rowWords;
    for (let k = 0; k < rowWords; k += 4) {
      const d = base + 2 * k;
      dst32[d] = src32[src + k]!;
      dst32[d + 1] = src32[src + k + 1]!;
      dst32[d + 2] = src32[src + k + 2]!;
      dst32[d + 3] = src32[src + k + 3]!;
    }
  }
  return dst;
}

/** onebit-t1's byte of five trits q = 81·t₀ + 27·t₁ + 9·t₂ + 3·t₃ + t₄: ⌈q·256/243⌉ (TQ1_0's mapping, @onebit/quant onebit-t1.ts), XOR 0x80 (t1-dot.wat.ts). */
const T1_BYTE = Uint8Array.from({ length: 243 }, (_, q) => Math.floor((q * 256 + 242) / 243) ^ 0x80);

/**
 * The t1 kernels' weight layout, straight from onebit-t2 (no Int8 unpack): [rows, t2RowBytes(cols)] → [rows,
 * t1RowBytes(cols)], rows one after another, each padded with zero weights to a multiple of 80 columns, every byte
 * XOR 0x80 (so the kernel's ×3ⁿ chain yields u − 128 as a signed byte; see t1-dot.wat.ts). A t2 code is already
 * the t1 trit (w + 1). 2560 columns: 640 → 512 bytes a row; 6912: 1728 → 1392.
 */
export function t2ToT1Rows(data: Uint8Array, rows: number, cols: number): Uint8Array {
  const t2Bytes = t2RowBytes(cols);
  const t1Bytes = t1RowBytes(cols);
  const out = new Uint8Array(rows * t1Bytes);
  const trits = new Uint8Array(Math.max((t1Bytes / 16) * 80, (t2Bytes / 16) * 64)); // one row's codes, in column order
  for (let r = 0; r < rows; r++) {
    trits.fill(1); // padding: zero weights
    const src = r * t2Bytes;
    // t2 byte (64-column block b, lane j) holds columns 64b + 16k + j at bits 2k
    for (let i = 0; i < t2Bytes; i++) {
      const byte = data[src + i]!;
      const c = (i >> 4) * 64 + (i & 15);
      trits[c] = byte & 3;
      trits[c + 16] = (byte >> 2) & 3;
      trits[c + 32] = (byte >> 4) & 3;
      trits[c + 48] = byte >> 6;
    }
    // t1's padding is zero weights whatever t2's padding bits hold
    trits.fill(1, cols);
    const dst = r * t1Bytes;
    for (let i = 0; i < t1Bytes; i++) {
      const c = (i >> 4) * 80 + (i & 15);
      out[dst + i] = T1_BYTE[81 * trits[c]! + 27 * trits[c + 16]! + 9 * trits[c + 32]! + 3 * trits[c + 48]! + trits[c + 64]!]!;
    }
  }
  return out;
}

/** The ternary value w ∈ {−1, 0, 1} of a t2-packed weight at row o, column i (byte (i >> 6)·16 + (i & 15), 2-bit field (i >> 4) & 3). */
export function ternaryAt(w: PackedLinearWeight, o: number, i: number): number {
  const byte = w.data[o * t2RowBytes(w.inFeatures) + (i >> 6) * 16 + (i & 15)]!;
  return ((byte >> (((i >> 4) & 3) * 2)) & 3) - 1;
}

/**
 * Activations in order: codes[src, src + cols) zero-padded to dst's length (the block) — int8 for the relaxed-SIMD
 * kernels, int16 for the t1 baseline ones; returns Σ codes.
 */
export function placeInOrder(codes: Int8Array, src: number, cols: number, dst: Int8Array | Int16Array): number {
  dst.set(codes.subarray(src, src + cols));
  dst.fill(0, cols);
  let s = 0;
  for (let i = 0; i < cols; i++) s += dst[i]!;
  return s;
}

/** Baseline-SIMD activation layout: i16, each chunk of 16 with even elements in lanes 0..7, odd in 8..15; returns Σ codes. */
export function placeSplitI16(codes: Int8Array, src: number, cols: number, dst: Int16Array): number {
  dst.fill(0, cols & ~15);
  let s = 0;
  for (let i = 0; i < cols; i++) {
    const v = codes[src + i]!;
    s += v;
    dst[(i & ~15) + ((i & 1) << 3) + ((i & 15) >> 1)] = v;
  }
  return s;
}

/** Sparse-kernel activations: indices (relative to start) and values of the non-zero codes in [start, start + cols); returns their count. */
export function gatherNonZeros(codes: Int8Array, start: number, cols: number, idx: Int32Array, val: Int32Array): number {
  let nnz = 0;
  for (let i = 0; i < cols; i++) {
    const v = codes[start + i]!;
    if (v !== 0) {
      idx[nnz] = i;
      val[nnz++] = v;
    }
  }
  return nnz;
}
