/**
 * The job loop shared by the main thread and every worker. It must stay self-contained (no imports, no closures):
 * workers receive it as source text (`runJob.toString()`), so Node and browsers run the very same code.
 *
 * Control block (Int32Array over a SharedArrayBuffer):
 *   [0] generation (bumped to start a job)  [1] op  [2] thread count  [3] finished count  [4] shutdown flag
 *   [8..] op arguments
 * Ops: 1 = ternary dense (c[18] = 1: relaxed-SIMD kernels, int8 activations), 2 = ternary sparse (one token),
 * 3 = f32 matmul, 4 = attention scores, 5 = attention values (rows = query heads), 6 = W8A16 dense (one token).
 */
// biome-ignore lint/suspicious/noExplicitAny: wasm exports are untyped here by design (see above)
export function runJob(ex: any, c: Int32Array, index: number): void {
  const op = c[1]!;
  const threads = c[2]!;
  const rows = c[11]!;
  // rows split in equal contiguous ranges, rounded to multiples of 4 so neighbours don't share cache lines
  const per = Math.ceil(rows / threads / 4) * 4;
  const r0 = Math.min(rows, index * per);
  const r1 = Math.min(rows, r0 + per);
  if (r0 >= r1) return;
  if (op === 1) {
    const w = c[8]!;
    const rowStride = c[9]!;
    const blocks = c[10]!;
    const mask = c[12]!;
    const x = c[13]!;
    const xStride = c[14]!;
    const tokens = c[15]!;
    const out = c[16]!;
    const outStride = c[17]!;
    const relaxed = c[18] === 1;
    const dot1 = relaxed ? ex.t2_dot_1r : ex.t2_dot_1;
    const dot4 = relaxed ? ex.t2_dot_4r : ex.t2_dot_4;
    if (tokens === 1) {
      dot1(w, rowStride, blocks, r0, r1, mask, x, out);
      return;
    }
    // Prefill: tile rows so a chunk of weights stays in cache while every 4-token tile reuses it.
    const rowChunk = 32;
    for (let ra = r0; ra < r1; ra += rowChunk) {
      const rb = Math.min(r1, ra + rowChunk);
      let t = 0;
      for (; t + 4 <= tokens; t += 4) dot4(w, rowStride, blocks, ra, rb, mask, x + t * xStride, xStride, out + t * outStride * 4, outStride);
      for (; t < tokens; t++) dot1(w, rowStride, blocks, ra, rb, mask, x + t * xStride, out + t * outStride * 4);
      // (row chunks and thread ranges start on even rows, as the pair kernel needs)
    }
  } else if (op === 2) {
    ex.t2_dot_sparse(c[8], c[9], r0, r1, c[12], c[13], c[14], c[15], c[16]);
  } else if (op === 3) {
    ex.matmul_f32(c[13], c[8], c[16], c[15], rows, c[10], r0, r1);
  } else if (op === 4) {
    ex.attn_scores(c[8], c[9], c[10], c[12], c[13], c[14], c[15], r0, r1);
  } else if (op === 5) {
    ex.attn_values(c[8], c[9], c[10], c[12], c[13], c[14], c[15], r0, r1);
  } else if (op === 6) {
    ex.q8_dot(c[8], c[9], c[10], c[12], c[13], c[14], r0, r1, c[16]);
  }
}
