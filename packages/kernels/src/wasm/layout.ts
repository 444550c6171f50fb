/**
 * How BitLinear operands are laid out in wasm memory for the ternary kernels (pure functions, no heap).
 *
 * Weights: onebit-t2 rows (16 bytes per 64 weights, 2-bit codes = w + 1), re-laid in interleaved row pairs.
 * Activations, per token, zero-padded to the weight's 64-column blocks: int8 in order (relaxed SIMD) or int16 with
 * each 16-chunk split even/odd (baseline SIMD, for i32x4.dot_i16x8_s), or the non-zeros alone (sparse kernel).
 */
import { t2RowBytes } from "@onebit/quant";
import type { PackedLinearWeight } from "../backend";

/**
 * The kernels' weight layout: rows in interleaved pairs, block k (16 bytes) of row 2p at pair p's offset 32k and of
 * row 2p+1 at 32k + 16, so the pair kernel reads one sequential stream (two separate row streams defeated the
 * hardware prefetcher: 2.2× slower out of cache). An odd last row is paired with a zero row.
 * data: [rows, rowBytes] t2 → [ceil(rows / 2), 2·rowBytes].
 */
export function interleaveRowPairs(data: Uint8Array, rows: number, rowBytes: number): Uint8Array {
  const pairs = Math.ceil(rows / 2);
  const dst = new Uint8Array(pairs * 2 * rowBytes);
  // 16-byte blocks as four 32-bit words (rowBytes is a multiple of 16)
  const src32 = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length / 4) : new Uint32Array(data.slice().buffer);
  const dst32 = new Uint32Array(dst.buffer);
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

/** The ternary value w ∈ {−1, 0, 1} of a t2-packed weight at row o, column i (byte (i >> 6)·16 + (i & 15), 2-bit field (i >> 4) & 3). */
export function ternaryAt(w: PackedLinearWeight, o: number, i: number): number {
  const byte = w.data[o * t2RowBytes(w.inFeatures) + (i >> 6) * 16 + (i & 15)]!;
  return ((byte >> (((i >> 4) & 3) * 2)) & 3) - 1;
}

/** Relaxed-SIMD activation layout: codes[src, src + cols) as int8 in order, zero-padded to dst's length (the block); returns Σ codes. */
export function placeInt8(codes: Int8Array, src: number, cols: number, dst: Int8Array): number {
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
