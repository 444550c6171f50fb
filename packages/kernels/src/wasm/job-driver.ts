/**
 * The job loop shared by the main thread and every worker: read the job in the control block (abi.ts) and run
 * this thread's share of its rows.
 *
 * Workers receive it as source text (`runJob.toString()`, thread-pool.ts), so Node and browsers run the very same
 * code; it must therefore stay self-contained: no imports, no module-level names, and no function defined inside
 * it. The ABI comes in as the `abi` argument — on the main thread the imported JOB_ABI, in a worker its JSON copy.
 * (An imported name used inside would not survive: vitest and tsx rewrite it to `__import_0__.JOB_SLOT`; a nested
 * function would not either: tsx wraps it in its `__name` helper. abi.test.ts runs the text as tsx transforms it.)
 */
import type { JobAbi, KernelExports } from "./abi";

/**
 * Runs this thread's share of the job; returns whether the job's rows are claimed at run time (JOB_SLOT.REGIONS,
 * JOB_SLOT.NEXT_ROW) rather than split by thread index — then a worker that has not joined by the time the calling
 * thread finds no rows left has nothing to do, and the main thread need not wait for it (thread-pool.ts).
 */
export function runJob(abi: JobAbi, ex: KernelExports, c: Int32Array, index: number): boolean {
  const { JOB_OP, JOB_SLOT: S, WASM_EXPORT: X } = abi;
  const op = c[S.OP]!;
  const threads = c[S.THREADS]!;
  const rows = c[S.ROWS]!;
  const claimed =
    op === JOB_OP.W4A8_DENSE ||
    op === JOB_OP.ATTENTION_CAUSAL ||
    op === JOB_OP.ELEMENTWISE_ROWS ||
    op === JOB_OP.TERNARY_TRI5 ||
    op === JOB_OP.TERNARY_PANELS ||
    (op === JOB_OP.TERNARY_DENSE && c[S.TERNARY_DENSE.TOKENS] === 1);
  if (claimed) {
    const attention = op === JOB_OP.ATTENTION_CAUSAL;
    if (attention) {
      // Items (a token and a span of its heads: attention-causal.wat.ts) claimed from a shared counter in shrinking
      // chunks (guided self-scheduling: 1/(2·threads) of the items left): a later token's items cost more (more
      // positions), and the last chunks, which decide how long the others wait at the end, are small; one thread
      // takes all at once.
      for (;;) {
        const ra = Atomics.load(c, S.NEXT_ROW);
        if (ra >= rows) break;
        const chunk = threads === 1 ? rows : Math.ceil((rows - ra) / (2 * threads));
        if (Atomics.compareExchange(c, S.NEXT_ROW, ra, ra + chunk) !== ra) continue;
        const a = S.ATTENTION_CAUSAL;
        const scratch = c[a.SCRATCH_PTR]! + index * c[a.SCRATCH_BYTES]!;
        ex[X.ATTN_CAUSAL](c[a.Q_PTR]!, c[a.KEYS_PTR]!, c[a.VALUES_PTR]!, c[a.OUT_PTR]!, c[a.KV_HEADS]!, c[a.GROUP]!, c[a.HEAD_DIM]!, c[a.HEADS]!, c[a.START]!, c[a.SCALE_PTR]!, ra, Math.min(rows, ra + chunk), scratch, c[a.SPAN]!);
      }
      return true;
    }
    // (a prompt's element-wise rows — RMSNorm, the quantizer's statistics and codes, SiLU / ReLU² — and the rows of a
    // weight transcoded to tri5 are claimed too: each job is tens of µs, and a worker that starts late, or that the VM
    // slows, would hold the main thread up)
    const ew = S.ELEMENTWISE_ROWS;
    const features = c[ew.FEATURES]!;
    const kind = c[ew.KIND]!;
    let eps = 0;
    if (op === JOB_OP.ELEMENTWISE_ROWS && kind === abi.ELEMENTWISE_KIND.RMS_NORM) {
      const bits = new Int32Array(2);
      bits[0] = c[ew.EPS_LO]!;
      bits[1] = c[ew.EPS_HI]!;
      eps = new Float64Array(bits.buffer)[0]!;
    }
    // GEMV rows: each thread owns a contiguous region (JOB_SLOT.REGIONS, set by the pool) and claims it from the
    // front in halves of what is left, so its weight rows stream from memory in one sequential run; a thread done
    // with its own takes from the back of the others' (halves again, at least 16 rows), so one on a slower core (a
    // busy or hyperthreaded vCPU) or one that joins late holds nobody up. (Rows claimed in turn from one shared
    // counter had each thread jump to a new place in the weights at every chunk: measured on a 2-vCPU Zen 5 VM, a
    // 2560×2560 GEMV streamed from DRAM took 86 µs a call on 2 threads against 74 with one run per thread.)
    const unit = c[S.REGION_UNIT]!;
    // (column panels: a unit is 4 panels of 64 rows, already more than the 16 rows a claim takes at least)
    const panels = op === JOB_OP.TERNARY_PANELS || (op === JOB_OP.TERNARY_DENSE && c[S.TERNARY_DENSE.LAYOUT] === 2);
    const least = panels ? 1 : Math.max(1, Math.ceil(16 / unit));
    for (let k = 0; k < threads; k++) {
      const slot = S.REGIONS + ((index + k) % threads);
      for (;;) {
        const s = Atomics.load(c, slot);
        const front = s >>> 16;
        const back = s & 0xffff;
        if (front >= back) break;
        const n = threads === 1 ? back - front : Math.min(back - front, Math.max(least, Math.ceil((back - front) / 2)));
        const own = k === 0;
        if (Atomics.compareExchange(c, slot, s, own ? ((front + n) << 16) | back : (front << 16) | (back - n)) !== s) continue;
        const ra = (own ? front : back - n) * unit;
        const rb = Math.min(rows, (own ? front + n : back) * unit);
        if (op === JOB_OP.TERNARY_DENSE) {
          // one token: t2 or (LAYOUT 1) t1 rows, relaxed or baseline; the threads' epilogue when EPI_SCALES_PTR is set
          const a = S.TERNARY_DENSE;
          const scales = c[a.EPI_SCALES_PTR]!;
          if (c[a.LAYOUT] === 2) {
            // column panels [ra, rb) (64 rows each) over the token's non-zero activations (column-panels.wat.ts)
            ex[X.COL_GEMV](c[a.W_PTR]!, c[a.BLOCKS]!, ra, rb, c[a.PAIRS_PTR]!, c[a.OUT_PTR]!);
            const P = abi.COLUMN_PANELS.ROWS;
            if (scales !== 0) ex[X.T2_EPILOGUE](c[a.OUT_PTR]!, c[a.OUT_STRIDE]!, 1, ra * P, rb * P, c[a.EPI_TOK_PTR]!, scales, c[a.MASK_PTR]!);
            continue;
          }
          const relaxed = c[a.RELAXED] === 1;
          const dot1 = c[a.LAYOUT] === 1 ? (relaxed ? ex[X.T1_DOT_1_RELAXED] : ex[X.T1_DOT_1]) : relaxed ? ex[X.T2_DOT_1_RELAXED] : ex[X.T2_DOT_1];
          dot1(c[a.W_PTR]!, c[a.ROW_STRIDE]!, c[a.BLOCKS]!, ra, rb, c[a.MASK_PTR]!, c[a.X_PTR]!, c[a.OUT_PTR]!);
          if (scales !== 0) ex[X.T2_EPILOGUE](c[a.OUT_PTR]!, c[a.OUT_STRIDE]!, 1, ra, rb, c[a.EPI_TOK_PTR]!, scales, c[a.MASK_PTR]!);
        } else if (op === JOB_OP.TERNARY_PANELS) {
          // a weight's t2 rows ↔ its column panels [ra, rb) (column-panels.wat.ts)
          const a = S.TERNARY_PANELS;
          const P = abi.COLUMN_PANELS;
          const scratch = c[a.SCRATCH_PTR]! + index * P.SCRATCH_BYTES;
          if (c[a.DIRECTION] === P.TO_TRI5) ex[X.PANELS_TO_TRI5](c[a.PANELS_PTR]!, c[a.BLOCKS]!, c[a.T2_PTR]!, c[a.BLOCKS5]!, ra, rb, scratch);
          else ex[X.PANELS_TRANSPOSE](c[a.T2_PTR]!, c[a.PANELS_PTR]!, c[a.BLOCKS]!, ra, rb, c[a.DIRECTION] === P.TO_PANELS ? 1 : 0, scratch);
        } else if (op === JOB_OP.TERNARY_TRI5) {
          // a prompt's weight into the tri5 layout (regions are whole multiples of 4 rows: pairs stay whole)
          const a = S.TERNARY_TRI5;
          ex[X.T2_TO_TRI5](c[a.SRC_PTR]!, c[a.SRC_ROW_STRIDE]!, c[a.SRC_BLOCKS]!, c[a.DST_PTR]!, c[a.DST_ROW_STRIDE]!, c[a.DST_BLOCKS]!, ra, rb);
        } else if (op === JOB_OP.ELEMENTWISE_ROWS) {
          const at = ra * features * 4;
          if (kind === abi.ELEMENTWISE_KIND.RMS_NORM) ex[X.EW_RMS_NORM](c[ew.X_PTR]! + at, c[ew.Y_PTR]! + at, c[ew.GAIN_PTR]!, rb - ra, features, eps);
          else if (kind === abi.ELEMENTWISE_KIND.ROW_STATS) ex[X.ROW_STATS](c[ew.X_PTR]! + at, features, rb - ra, c[ew.STAT_KIND]!, c[ew.STATS_PTR]! + ra * 8);
          else if (kind === abi.ELEMENTWISE_KIND.ROW_CODES)
            Atomics.add(c, ew.ZEROS, ex[X.ROW_CODES](c[ew.X_PTR]! + at, features, rb - ra, c[ew.STATS_PTR]! + ra * 4, c[ew.LO]!, c[ew.HI]!, c[ew.Y_PTR]! + ra * features));
          else if (kind === abi.ELEMENTWISE_KIND.SILU) ex[X.EW_SILU](c[ew.X_PTR]! + at, (rb - ra) * features);
          else if (kind === abi.ELEMENTWISE_KIND.MUL) ex[X.EW_MUL](c[ew.X_PTR]! + at, c[ew.Y_PTR]! + at, (rb - ra) * features);
          else if (kind === abi.ELEMENTWISE_KIND.ADD) ex[X.EW_ADD](c[ew.X_PTR]! + at, c[ew.Y_PTR]! + at, (rb - ra) * features);
          else if (kind === abi.ELEMENTWISE_KIND.ROPE) {
            // rows are tokens: this range's rows of x and of the cos/sin tables (headDim/2 f64 a token)
            const d = c[ew.ROPE_HEAD_DIM]!;
            const tab = ra * (d / 2) * 8;
            ex[X.EW_ROPE](c[ew.X_PTR]! + at, rb - ra, features / d, d, c[ew.ROPE_COS]! + tab, c[ew.ROPE_SIN]! + tab, c[ew.ROPE_STRIDE]!, c[ew.ROPE_STEP]!);
          }
          // (each thread marks into its own mask: two threads OR-ing bytes of one mask would lose each other's marks)
          else if (kind === abi.ELEMENTWISE_KIND.RELU2_MARK) ex[X.EW_RELU2](c[ew.X_PTR]! + at, (rb - ra) * features, features, c[ew.Y_PTR]! + index * c[ew.MASK_BYTES]!);
          else ex[X.EW_RELU2](c[ew.X_PTR]! + at, (rb - ra) * features, features, 0);
        } else {
          const a = S.W4A8_DENSE;
          const dot = c[a.RELAXED] === 1 ? ex[X.Q4_DOT_RELAXED] : ex[X.Q4_DOT];
          dot(c[a.W_PTR]!, c[a.ROW_STRIDE]!, c[a.GROUPS]!, c[a.X_PTR]!, ra, rb, c[a.OUT_PTR]!);
        }
      }
    }
    return true;
  }
  // rows split in equal contiguous ranges, rounded to multiples of 4 so neighbours don't share cache lines
  const per = Math.ceil(rows / threads / 4) * 4;
  const r0 = Math.min(rows, index * per);
  const r1 = Math.min(rows, r0 + per);
  if (op === JOB_OP.TERNARY_DENSE) {
    const a = S.TERNARY_DENSE;
    const w = c[a.W_PTR]!;
    const rowStride = c[a.ROW_STRIDE]!;
    const blocks = c[a.BLOCKS]!;
    const mask = c[a.MASK_PTR]!;
    const x = c[a.X_PTR]!;
    const xStride = c[a.X_STRIDE]!;
    const tokens = c[a.TOKENS]!;
    const out = c[a.OUT_PTR]!;
    const outStride = c[a.OUT_STRIDE]!;
    const relaxed = c[a.RELAXED] === 1;
    // LAYOUT 1: onebit-t1 rows (t1-dot.wat.ts), same arguments as the t2 kernels
    const t1 = c[a.LAYOUT] === 1;
    const dot1 = t1 ? (relaxed ? ex[X.T1_DOT_1_RELAXED] : ex[X.T1_DOT_1]) : relaxed ? ex[X.T2_DOT_1_RELAXED] : ex[X.T2_DOT_1];
    const dot4 = t1 ? (relaxed ? ex[X.T1_DOT_4_RELAXED] : ex[X.T1_DOT_4]) : relaxed ? ex[X.T2_DOT_4_RELAXED] : ex[X.T2_DOT_4];
    const epilogueScales = c[a.EPI_SCALES_PTR]!;
    // This thread's rows [ra, rb) and tokens [ta, tb): a run of the rows for every token, or (SPLIT_TOKENS, a prompt
    // through the LUT GEMM) a run of the tokens for every row — then no two threads build the same tables, and
    // none writes another's cache lines of the output
    const byTokens = c[a.SPLIT_TOKENS] === 1;
    const ra = byTokens ? 0 : r0;
    const rb = byTokens ? rows : r1;
    const ta = byTokens ? Math.floor((index * tokens) / threads) : 0;
    const tb = byTokens ? Math.floor(((index + 1) * tokens) / threads) : tokens;
    // Prefill by table lookup (t2-gemm-lut.wat.ts; LUT_PTR is set for relaxed t2 weights only): a thread's tokens in
    // tiles as LUT_TILES cuts them (64 while more than 48 remain, 32 while 20, then 16 while 12; none wider than
    // LUT_OPTIONS's width where it sets one), when it has at least
    // 128 rows — with fewer tokens or rows building the tables costs more than it saves (bench/t2-gemm-lut.bench.ts).
    // Each tile over the thread's rows is a unit whose chunks of inputs any thread may sum (lut-work.wat.ts): this
    // thread claims its own units' chunks from the front, then the others' from the back, their last unit first.
    let t0 = ta;
    const lut = c[a.LUT_PTR]!;
    if (lut !== 0) {
      const L = abi.LUT_GEMM;
      // the tiles read the tri5 rows where the caller made them (W5_PTR, tri5-layout.wat.ts), else the t2 rows
      const w5 = c[a.W5_PTR]!;
      const gemm = w5 !== 0 ? ex[X.TRI5_GEMM_LUT] : ex[X.T2_GEMM_LUT];
      const lw = w5 !== 0 ? w5 : w;
      const lStride = w5 !== 0 ? c[a.W5_ROW_STRIDE]! : rowStride;
      const lBlocks = w5 !== 0 ? c[a.W5_BLOCKS]! : blocks;
      const scratch = lut + index * c[a.LUT_BYTES]!;
      const units = c[a.LUT_UNITS_PTR]!;
      const cap = c[a.LUT_UNITS_CAP]!;
      const starts: number[] = [];
      // (LUT_OPTIONS bit 0, tests only: thread 0 leaves its own units to the others, so every unit is shared or taken
      // whole; bits 8..: the widest tile to cut, 0 for any)
      const skipOwn = threads > 1 && index === 0 && (c[a.LUT_OPTIONS]! & 1) === 1;
      const maxWidth = c[a.LUT_OPTIONS]! >>> 8;
      for (let k = 0; k < threads; k++) {
        const j = (index + k) % threads;
        const jr0 = byTokens ? 0 : Math.min(rows, j * per);
        const jr1 = byTokens ? rows : Math.min(rows, jr0 + per);
        const jt1 = byTokens ? Math.floor(((j + 1) * tokens) / threads) : tokens;
        if (jr1 - jr0 < L.MIN_ROWS) continue;
        // thread j's tiles: starts[i] .. starts[i + 1]
        starts.length = 0;
        let s0 = byTokens ? Math.floor((j * tokens) / threads) : 0;
        for (let left = jt1 - s0; left >= L.MIN_TOKENS; left = jt1 - s0) {
          starts.push(s0);
          let tile = left;
          for (const t of L.TILES)
            if (left >= t.from && (maxWidth === 0 || t.width <= maxWidth)) {
              tile = Math.min(t.width, left);
              break;
            }
          s0 += tile;
        }
        starts.push(s0);
        if (j === index) t0 = s0;
        const own = j === index ? 1 : 0;
        const n = own && skipOwn ? 0 : starts.length - 1;
        for (let q = 0; q < n; q++) {
          const tile = own ? q : n - 1 - q;
          const u = units + (j * cap + tile) * L.UNIT_BYTES;
          if (ex[X.LUT_JOIN](u) === 0) continue;
          const tA = starts[tile]!;
          const nt = starts[tile + 1]! - tA;
          const xt = x + tA * xStride;
          const ot = out + tA * outStride * 4;
          // (flags: LUT_START for this thread's first claim of the unit, 0 once it has summed one)
          let flags: number = L.START;
          for (let cl = ex[X.LUT_CLAIM](u, lBlocks, own); cl >= 0; cl = ex[X.LUT_CLAIM](u, lBlocks, own)) {
            const b0 = cl & 0xffff;
            gemm(lw, lStride, b0, b0 + (cl >>> 16), jr0, jr1, mask, xt, xStride, nt, ot, outStride, scratch, flags, 0, 0);
            flags = 0;
          }
          const tok = c[a.EPI_TOK_PTR]! + tA * 16;
          if (flags === 0) {
            // alone in the unit (no other thread took a block of it): its float output straight from this thread's sums
            if (epilogueScales !== 0 && ex[X.LUT_CLOSE_ALONE](u) === 1) {
              gemm(lw, lStride, 0, 0, jr0, jr1, mask, xt, xStride, nt, ot, outStride, scratch, L.FLUSH | L.EPILOGUE, tok, epilogueScales);
              continue;
            }
            // else this thread's part of the unit's sums into the output: the first part stored, the others added
            const parts = ex[X.LUT_LOCK](u);
            gemm(lw, lStride, 0, 0, jr0, jr1, mask, xt, xStride, nt, ot, outStride, scratch, parts === 0 ? L.FLUSH : L.FLUSH | L.ADD, 0, 0);
            ex[X.LUT_UNLOCK](u);
          }
          // the last thread done with the unit finishes its rows
          if (ex[X.LUT_FINISH](u) === 1 && epilogueScales !== 0) ex[X.T2_EPILOGUE](ot, outStride, nt, jr0, jr1, tok, epilogueScales, mask);
        }
      }
    }
    if (ra >= rb || t0 >= tb) return false;
    // This thread's other tokens: tile rows so a chunk of weights stays in cache while every 4-token tile reuses it.
    const rowChunk = 32;
    for (let rc = ra; rc < rb; rc += rowChunk) {
      const rd = Math.min(rb, rc + rowChunk);
      let t = t0;
      for (; t + 4 <= tb; t += 4) dot4(w, rowStride, blocks, rc, rd, mask, x + t * xStride, xStride, out + t * outStride * 4, outStride);
      for (; t < tb; t++) dot1(w, rowStride, blocks, rc, rd, mask, x + t * xStride, out + t * outStride * 4);
      // (row chunks and thread ranges start on even rows, as the pair kernel needs)
    }
    if (epilogueScales !== 0) ex[X.T2_EPILOGUE](out + t0 * outStride * 4, outStride, tb - t0, ra, rb, c[a.EPI_TOK_PTR]! + t0 * 16, epilogueScales, mask);
    return false;
  }
  if (r0 >= r1) return false;
  if (op === JOB_OP.TERNARY_SPARSE) {
    const a = S.TERNARY_SPARSE;
    ex[X.T2_DOT_SPARSE](c[a.W_PTR]!, c[a.ROW_STRIDE]!, r0, r1, c[a.MASK_PTR]!, c[a.IDX_PTR]!, c[a.VAL_PTR]!, c[a.NNZ]!, c[a.OUT_PTR]!);
  } else if (op === JOB_OP.MATMUL_F32) {
    const a = S.MATMUL_F32;
    ex[X.MATMUL_F32](c[a.X_PTR]!, c[a.W_PTR]!, c[a.OUT_PTR]!, c[a.TOKENS]!, rows, c[a.IN_FEATURES]!, r0, r1);
  } else if (op === JOB_OP.ATTENTION_SCORES || op === JOB_OP.ATTENTION_VALUES) {
    const a = S.ATTENTION;
    const kernel = op === JOB_OP.ATTENTION_SCORES ? ex[X.ATTN_SCORES] : ex[X.ATTN_VALUES];
    kernel(c[a.IN_PTR]!, c[a.STORE_PTR]!, c[a.OUT_PTR]!, c[a.KV_HEADS]!, c[a.GROUP]!, c[a.HEAD_DIM]!, c[a.POSITIONS]!, r0, r1);
  } else if (op === JOB_OP.W8A16_DENSE) {
    const a = S.W8A16_DENSE;
    ex[X.Q8_DOT](c[a.W_PTR]!, c[a.IN_FEATURES]!, c[a.SCALES_PTR]!, c[a.BLOCKS]!, c[a.BLOCK_LEN]!, c[a.X_PTR]!, r0, r1, c[a.OUT_PTR]!);
  } else if (op === JOB_OP.TERNARY_PLACE) {
    const a = S.TERNARY_PLACE;
    const bad =
      c[a.FORMAT] === abi.TERNARY_PLACE_FORMAT.HF_PACKED
        ? ex[X.HF_PLACE](c[a.SRC_PTR]!, c[a.SRC_ROW]!, r0, r1, c[a.FIRST_ROW]!, c[a.PLANE_ROWS]!, c[a.OUT_ROWS]!, c[a.DST_PTR]!, c[a.ROW_STRIDE]!)
        : ex[X.T2_PLACE](c[a.SRC_PTR]!, c[a.SRC_ROW]!, c[a.FORMAT]!, r0, r1, c[a.GROUPS]!, c[a.DST_PTR]!, c[a.ROW_STRIDE]!);
    if (bad !== 0) c[a.BAD] = 1;
  } else if (op === JOB_OP.INT4_QUANTIZE) {
    const a = S.INT4_QUANTIZE;
    const blocks = c[a.BLOCKS]!;
    const stride = c[a.ROW_STRIDE]!;
    const src = c[a.SRC_PTR]! + r0 * blocks * 128;
    // this thread's rows in their own encoding decoded into the f32 scratch first (abi.ts DENSE_DECODERS: F16 and BF16
    // 2 bytes a weight, Q6_K 210 per 256); a row is `blocks` int4 blocks of 32 weights
    const encoding = c[a.ENCODING]!;
    if (encoding !== 0) {
      const d = Object.values(abi.DENSE_DECODERS).find((e) => e.code === encoding);
      if (!d) throw new Error(`int4 quantize job: row encoding ${encoding} is not one of DENSE_DECODERS' codes`);
      ex[d.decode](c[a.ENC_PTR]! + r0 * c[a.ENC_ROW_BYTES]!, ((r1 - r0) * blocks * 32) / d.unit, src);
    }
    // 128 bytes of f32 per block in, `stride` bytes per row out
    if (ex[X.Q4_QUANTIZE](src, r1 - r0, blocks, c[a.DST_PTR]! + r0 * stride, stride) !== 0) c[a.NON_FINITE] = 1;
  }
  return false;
}
