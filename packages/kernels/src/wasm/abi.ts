/**
 * The JS ↔ wasm job ABI, one definition for both sides.
 *
 * A job is written by the backend (the *-ops.ts files) into the control block, an Int32Array over a
 * SharedArrayBuffer that every thread sees, and read by `runJob` (job-driver.ts) on each thread, which splits the
 * job's ROWS in contiguous ranges and calls one of the kernels.wat.ts exports on its range. Every pointer is a
 * byte address in the shared WebAssembly.Memory; every count is an i32.
 *
 * The workers get `runJob` as source text, so they cannot import this module: thread-pool.ts writes these objects
 * into the worker source as JSON (`const JOB_SLOT = {...}`) and runJob takes them as an argument (JOB_ABI), the
 * imported objects on the main thread — the same values either way.
 *
 * Plain objects (not TS enums) so that they survive JSON.stringify; a read is a property load.
 */
import { LUT_UNIT_BYTES } from "./lut-work.wat";
import { LUT_ADD, LUT_EPILOGUE, LUT_FLUSH, LUT_MIN_ROWS, LUT_MIN_TOKENS, LUT_START, LUT_TILES } from "./t2-gemm-lut.wat";
import { PANEL_ROWS, PANEL_SCRATCH_BYTES } from "./column-panels.wat";

/** What the job in the control block is (JOB_SLOT.OP). */
export const JOB_OP = {
  /** BitLinear, dense activations: i32 dots Σ code·x over t2 codes (code = w + 1) [tokens, rows]; t2_dot_1 / t2_dot_4 (…r when RELAXED). */
  TERNARY_DENSE: 1,
  /** BitLinear, one token of sparse activations: exact Σ w·x over the gathered non-zeros [rows]; t2_dot_sparse. */
  TERNARY_SPARSE: 2,
  /** f32 out[t, o] = Σ_i x[t, i]·w[o, i], x [tokens, in], w [rows, in]; matmul_f32. */
  MATMUL_F32: 3,
  /** Unscaled attention scores q[h]·keys[j, h / group] [heads, positions] (ROWS = query heads); attn_scores. */
  ATTENTION_SCORES: 4,
  /** Attention output Σ_j p[h, j]·values[j, h / group] [heads, headDim] (ROWS = query heads); attn_values. */
  ATTENTION_VALUES: 5,
  /** W8A16 dense, one token: f32 Σ_blocks (int8 w · int16 x)·scale [rows]; q8_dot. */
  W8A16_DENSE: 6,
  /** W4A8 dense (int4 format), one token: f32 y [rows] in the reference's four-lane order; q4_dot (q4_dot_r when RELAXED). */
  W4A8_DENSE: 7,
  /** int4 weight rows quantized into the W4A8 layout (prepareDense, int4-quantize.wat.ts); q4_quantize. */
  INT4_QUANTIZE: 8,
  /** Ternary rows of a file's own layout (TQ2_0, I2_S) placed in the t2 pair layout (prepareWeight); t2_place. */
  TERNARY_PLACE: 9,
  /** Causal attention of TOKENS queries, ROWS = tokens·heads / SPAN items claimed in chunks; attn_causal (attention-causal.wat.ts). */
  ATTENTION_CAUSAL: 10,
  /** An element-wise kernel over ROWS rows of FEATURES floats, rows split across threads (a prompt's; elementwise-ops.ts). */
  ELEMENTWISE_ROWS: 11,
  /** t2 pair-layout rows → the tri5 layout for a prompt's table-lookup GEMM (ROWS even; tri5-layout.wat.ts); t2_to_tri5. */
  TERNARY_TRI5: 12,
  /**
   * A weight's t2 pair-layout rows ↔ its column panels (column-panels.wat.ts), ROWS = panels of 64 rows, claimed:
   * placing a weight read by columns (prepareWeight), and its t2 rows back for a prompt; panels_transpose.
   */
  TERNARY_PANELS: 13,
} as const;

export type JobOp = (typeof JOB_OP)[keyof typeof JOB_OP];

/**
 * Control-block indices. Slots 0..7 are the pool's hand-off, 8..31 the job's arguments (their meaning depends on
 * the op: one group per op below; slot 11, ROWS, is common to all), 32.. one sleep flag per worker.
 */
export const JOB_SLOT = {
  /**
   * The job word (thread-pool.ts): generation << 8 | JOB_CLOSED | the number of workers that joined. The main thread
   * stores a new generation (open, none joined) to start a job, and idle workers wait on it; a worker joins by
   * compare-exchange, which fails once the main thread has closed the job.
   */
  JOB_STATE: 0,
  /** The JOB_OP of the current job. */
  OP: 1,
  /** Threads taking part, main thread included (each runs rows range `index` of THREADS). */
  THREADS: 2,
  /** Workers that finished the current job (the main thread is not counted); a finishing worker notifies a parked main thread. */
  FINISHED: 3,
  /** 1: workers leave their loop (dispose). */
  SHUTDOWN: 4,
  /** 1 while the main thread is parked in Atomics.wait for FINISHED. */
  MAIN_WAITING: 5,
  /** The next unclaimed item of an attention job, whose threads claim items in chunks (the pool resets it to 0). */
  NEXT_ROW: 6,
  /** Rows in one unit of REGIONS (a multiple of 4, so that units stay within 16 bits; thread-pool.ts writes it). */
  REGION_UNIT: 7,
  /** Rows of the output split across threads, every op: output features, or query heads for attention. */
  ROWS: 11,
  /** SLEEP_FLAGS + i = 1 while worker i is parked in Atomics.wait (so the main thread notifies only then). */
  SLEEP_FLAGS: 32,
  /**
   * REGIONS + i: the unclaimed units of thread i's region of a GEMV job's rows, front << 16 | back (units of
   * REGION_UNIT rows). Its owner claims from the front, other threads from the back (job-driver.ts).
   */
  REGIONS: 96,

  /** JOB_OP.TERNARY_DENSE: w [rows/2 pairs, blocks·32] t2 (layout.ts), x [tokens, X_STRIDE bytes] → out i32 [tokens, OUT_STRIDE]. */
  TERNARY_DENSE: {
    /** packed weight, rows interleaved in pairs */
    W_PTR: 8,
    /** bytes of one packed row (16 per 64 weights) */
    ROW_STRIDE: 9,
    /** 64-weight blocks per row to read */
    BLOCKS: 10,
    /** 0, or one byte per row (0 = skip the row) */
    MASK_PTR: 12,
    /** activations: int8 (relaxed) or even/odd-split int16 (baseline), zero-padded to BLOCKS */
    X_PTR: 13,
    /** bytes between two tokens' activations (BLOCKS·64 relaxed, BLOCKS·128 baseline) */
    X_STRIDE: 14,
    TOKENS: 15,
    /** i32 dots [tokens, OUT_STRIDE] */
    OUT_PTR: 16,
    /** elements between two tokens' dots */
    OUT_STRIDE: 17,
    /** 1: the relaxed-SIMD kernels (int8 activations) */
    RELAXED: 18,
    /**
     * 0: onebit-t2 rows in pairs (t2_dot_*); 1: onebit-t1 rows (t1_dot_*, t1-dot.wat.ts: BLOCKS of 80 weights, X_STRIDE
     * BLOCKS·80 relaxed, BLOCKS·160 baseline with i16 in order); 2 (one token, relaxed): column panels at W_PTR
     * (column-panels.wat.ts), ROWS = panels, read by col_gemv over the entries at PAIRS_PTR
     */
    LAYOUT: 19,
    /** 0: leave the i32 dots; else f32 wScale [rows]: each thread finishes its rows in place as f32 y (t2_epilogue) */
    EPI_SCALES_PTR: 20,
    /** with EPI_SCALES_PTR: per token [f64 Σx][f64 xScale] */
    EPI_TOK_PTR: 21,
    /** 0, or (relaxed t2 prefill) scratch for t2_gemm_lut: thread i's at LUT_PTR + i·LUT_BYTES (t2-gemm-lut.wat.ts lutScratchBytes) */
    LUT_PTR: 22,
    /** bytes of one thread's LUT scratch */
    LUT_BYTES: 23,
    /** 1: each thread takes a run of the tokens over every row (a prompt through t2_gemm_lut), not a run of the rows */
    SPLIT_TOKENS: 24,
    /**
     * with LUT_PTR: the units' state (lut-work.wat.ts, LUT_UNIT_BYTES each, zeroed): thread i's unit k at
     * LUT_UNITS_PTR + (i·LUT_UNITS_CAP + k)·LUT_UNIT_BYTES
     */
    LUT_UNITS_PTR: 25,
    /** units a thread may own: at least its LUT tiles */
    LUT_UNITS_CAP: 26,
    /**
     * LUT options: bits 8.. the widest tile (tokens) to cut, 0 for any of LUT_TILES (lut-tuner.ts picks per shape); bit 0
     * (tests only): thread 0 leaves its own LUT units to the other threads, so every unit is shared or taken whole
     */
    LUT_OPTIONS: 27,
    /**
     * 0, or (with LUT_PTR) the weight's rows in the tri5 layout (tri5-layout.wat.ts, made by a TERNARY_TRI5 job first):
     * the LUT tiles read it (tri5_gemm_lut, W5_BLOCKS blocks of 80 inputs, W5_ROW_STRIDE bytes a row), the other tokens
     * the t2 rows; X_STRIDE covers both (zero-padded)
     */
    W5_PTR: 28,
    W5_ROW_STRIDE: 29,
    W5_BLOCKS: 30,
    /** LAYOUT 2: col_pairs' list of the token's non-zero activations (column-panels.wat.ts) */
    PAIRS_PTR: 31,
  },
  /** JOB_OP.TERNARY_SPARSE (one token): out[r] = Σ_j w[r, idx[j]]·val[j]. */
  TERNARY_SPARSE: {
    W_PTR: 8,
    ROW_STRIDE: 9,
    MASK_PTR: 12,
    /** i32 column indices of the non-zero activations [NNZ] */
    IDX_PTR: 13,
    /** i32 values of the non-zero activations [NNZ] */
    VAL_PTR: 14,
    NNZ: 15,
    /** i32 dots [rows] */
    OUT_PTR: 16,
  },
  /** JOB_OP.MATMUL_F32: x [TOKENS, IN_FEATURES] f32, w [rows, IN_FEATURES] f32 → out [TOKENS, rows] f32. */
  MATMUL_F32: {
    W_PTR: 8,
    IN_FEATURES: 10,
    X_PTR: 13,
    TOKENS: 15,
    OUT_PTR: 16,
  },
  /**
   * JOB_OP.ATTENTION_SCORES and ATTENTION_VALUES, rows = query heads: input q [heads, HEAD_DIM] or p [heads, POSITIONS],
   * store keys / values [POSITIONS, KV_HEADS, HEAD_DIM] f32 → out [heads, POSITIONS] or [heads, HEAD_DIM] f32.
   */
  ATTENTION: {
    IN_PTR: 8,
    STORE_PTR: 9,
    OUT_PTR: 10,
    KV_HEADS: 12,
    /** query heads per KV head (heads / KV_HEADS) */
    GROUP: 13,
    HEAD_DIM: 14,
    POSITIONS: 15,
  },
  /** JOB_OP.W8A16_DENSE (one token): w [rows, IN_FEATURES] int8, scales [rows, BLOCKS] f32, x [IN_FEATURES] int16 → out [rows] f32. */
  W8A16_DENSE: {
    W_PTR: 8,
    IN_FEATURES: 9,
    SCALES_PTR: 10,
    BLOCKS: 12,
    /** columns per scale block */
    BLOCK_LEN: 13,
    X_PTR: 14,
    OUT_PTR: 16,
  },
  /** JOB_OP.W4A8_DENSE (one token): w [rows, GROUPS·80 bytes], x [GROUPS·160 bytes] (dense-int4.wat.ts) → out [rows] f32. */
  W4A8_DENSE: {
    W_PTR: 8,
    /** bytes of one row: GROUPS·68 (the rows stored in pairs, group by group: dense-int4.wat.ts) */
    ROW_STRIDE: 9,
    /** 128-column groups per row */
    GROUPS: 10,
    X_PTR: 12,
    OUT_PTR: 13,
    /** 1: q4_dot_r (relaxed SIMD) */
    RELAXED: 14,
  },
  /** JOB_OP.INT4_QUANTIZE: src f32 [rows, BLOCKS·32] → dst rows [rows, ROW_STRIDE bytes] (dense-int4.wat.ts's layout). */
  INT4_QUANTIZE: {
    SRC_PTR: 8,
    /** 32-column blocks per row */
    BLOCKS: 9,
    DST_PTR: 10,
    /** bytes of one dst row: ⌈BLOCKS/4⌉·68 (dense-int4.wat.ts INT4_GROUP_BYTES) */
    ROW_STRIDE: 12,
    /** set to 1 by a thread whose rows hold a non-finite value (the caller clears it first) */
    NON_FINITE: 13,
    /** 0: SRC_PTR holds the f32 rows; else the rows' own encoding (a DENSE_DECODERS code) at ENC_PTR, decoded into SRC_PTR first */
    ENCODING: 14,
    ENC_PTR: 15,
    /** bytes of one encoded row */
    ENC_ROW_BYTES: 16,
  },
  /**
   * JOB_OP.TERNARY_PLACE: rows [rows, SRC_ROW bytes] at SRC_PTR (FORMAT: a TERNARY_PLACE_FORMAT) → t2 pairs at DST_PTR
   * (TQ2_0 / I2_S: ROWS even but for the last chunk; HF packed: ROWS packed rows, each four weight rows).
   */
  TERNARY_PLACE: {
    SRC_PTR: 8,
    SRC_ROW: 9,
    FORMAT: 10,
    /** HF packed: ⌈out/4⌉, the tensor's packed rows */
    PLANE_ROWS: 11,
    /** HF packed: the weight's rows (out) */
    OUT_ROWS: 16,
    /** HF packed: the tensor's packed row at SRC_PTR (DST_PTR is the whole weight's) */
    FIRST_ROW: 17,
    /** 128-weight groups per row */
    GROUPS: 12,
    DST_PTR: 13,
    /** bytes of one t2 row */
    ROW_STRIDE: 14,
    /** set to 1 by a thread that read a code 3 (the caller clears it first) */
    BAD: 15,
  },
  /** JOB_OP.TERNARY_TRI5: rows [0, ROWS) (even) of the t2 weight at SRC_PTR → tri5 at DST_PTR; t2_to_tri5's arguments. */
  TERNARY_TRI5: {
    SRC_PTR: 8,
    SRC_ROW_STRIDE: 9,
    SRC_BLOCKS: 10,
    DST_PTR: 12,
    DST_ROW_STRIDE: 13,
    DST_BLOCKS: 14,
  },
  /** JOB_OP.TERNARY_PANELS: panels [0, ROWS) of the weight of BLOCKS 64-input blocks; panels_transpose's arguments. */
  TERNARY_PANELS: {
    /** the t2 pair-layout rows (rowStride BLOCKS·16) */
    T2_PTR: 8,
    /** the column panels (BLOCKS·1024 bytes a panel) */
    PANELS_PTR: 9,
    BLOCKS: 10,
    /** PANELS_DIRECTION: t2 rows → panels, panels → t2 rows, or panels → tri5 rows (at T2_PTR; panels_to_tri5) */
    DIRECTION: 12,
    /** PANEL_SCRATCH_BYTES per thread: thread i's at SCRATCH_PTR + i·PANEL_SCRATCH_BYTES */
    SCRATCH_PTR: 13,
    /** DIRECTION TO_TRI5: tri5 blocks of 80 inputs per row */
    BLOCKS5: 14,
  },
  /**
   * JOB_OP.ATTENTION_CAUSAL, rows = tokens·heads / SPAN: q [tokens, HEADS, HEAD_DIM] at positions START.., keys / values
   * [≥ START + tokens, KV_HEADS, HEAD_DIM] f32 → out [tokens, HEADS, HEAD_DIM] f32.
   */
  ATTENTION_CAUSAL: {
    Q_PTR: 8,
    KEYS_PTR: 9,
    VALUES_PTR: 10,
    KV_HEADS: 12,
    /** query heads per KV head */
    GROUP: 13,
    HEAD_DIM: 14,
    HEADS: 15,
    /** position of the first query token */
    START: 16,
    /** address of the f32 scale */
    SCALE_PTR: 17,
    OUT_PTR: 18,
    /** thread i's score rows (SPAN of them) at SCRATCH_PTR + i·SCRATCH_BYTES */
    SCRATCH_PTR: 19,
    SCRATCH_BYTES: 20,
    /** query heads per item: 2 where GROUP is even (they share their value loads), else 1 */
    SPAN: 21,
  },
  /** JOB_OP.ELEMENTWISE_ROWS: KIND (ELEMENTWISE_KIND) over x [rows, FEATURES] f32 (FEATURES a multiple of 4). */
  ELEMENTWISE_ROWS: {
    KIND: 8,
    X_PTR: 9,
    /** rms_norm: its output [rows, FEATURES] (may be X_PTR) */
    Y_PTR: 10,
    FEATURES: 12,
    /** rms_norm: gain f32 [FEATURES] */
    GAIN_PTR: 13,
    /** rms_norm: ε as float64, its low and high 32 bits */
    EPS_LO: 14,
    EPS_HI: 15,
    /** row_stats: its f64 per row (kind in STAT_KIND); row_codes: the f32 multiplier per row, the codes at Y_PTR */
    STATS_PTR: 16,
    STAT_KIND: 17,
    /** row_codes: the codes' clamp bounds */
    LO: 18,
    HI: 19,
    /** row_codes: zero codes, summed over the threads (Atomics.add; the caller clears it) */
    ZEROS: 20,
    /** relu2_mark: bytes of each thread's active-row mask, thread i's at Y_PTR + i·MASK_BYTES (the caller ORs them) */
    MASK_BYTES: 21,
    /** rope (rows are tokens, FEATURES = heads·headDim): the f64 cos and sin tables [tokens, headDim/2] */
    ROPE_COS: 22,
    ROPE_SIN: 23,
    ROPE_HEAD_DIM: 24,
    /** rope: ew_rope's stride and step (its pairing: rotate_half or interleaved) */
    ROPE_STRIDE: 25,
    ROPE_STEP: 26,
  },
} as const;

/**
 * JOB_SLOT.ELEMENTWISE_ROWS.KIND: ew_silu, ew_relu2 (no row marking), ew_rms_norm, row_stats, row_codes, ew_mul and
 * ew_add (x ← x op y, y at Y_PTR with x's layout), ew_relu2 marking active rows into one mask per thread, and ew_rope
 * (a token a row).
 */
export const ELEMENTWISE_KIND = { SILU: 0, RELU2: 1, RMS_NORM: 2, ROW_STATS: 3, ROW_CODES: 4, MUL: 5, ADD: 6, RELU2_MARK: 7, ROPE: 8 } as const;

/**
 * The row encodings of a dense row source (backend.ts DenseRowEncoding) that a wasm thread decodes into float32 itself
 * before it quantizes the rows (ggml-decode.wat.ts): `code` goes in JOB_SLOT.INT4_QUANTIZE.ENCODING (0: the rows are
 * float32 already), and the export `decode(src, count, dst)` decodes `count` units of `unit` weights, `unitBytes`
 * bytes each (a row's columns are a multiple of `unit`). Adding an encoding is a row here and its decoder.
 */
export const DENSE_DECODERS = {
  F16: { code: 1, decode: "f16_decode", unit: 1, unitBytes: 2 },
  Q6_K: { code: 2, decode: "q6k_decode", unit: 256, unitBytes: 210 },
  BF16: { code: 3, decode: "bf16_decode", unit: 1, unitBytes: 2 },
} as const;
export type DenseDecoderFormat = keyof typeof DENSE_DECODERS;
/** JOB_SLOT.INT4_QUANTIZE.ENCODING of float32 rows (nothing to decode). */
export const DENSE_F32 = 0;

/** JOB_SLOT.TERNARY_PLACE.FORMAT: t2_place's two GGUF layouts, or hf_place's Hugging Face packed rows (ternary-place.wat.ts). */
export const TERNARY_PLACE_FORMAT = { TQ2_0: 0, I2_S: 1, HF_PACKED: 2 } as const;

/** Most threads a pool may have (the backend checks it): their sleep flags must fit in the control block. */
export const MAX_THREADS = 64;
/** Int32 slots in the control block: the hand-off, the arguments, MAX_THREADS sleep flags and MAX_THREADS regions. */
export const CONTROL_SLOTS = 160;
/** Most units a region word holds in each of its 16-bit halves (JOB_SLOT.REGIONS). */
export const REGION_UNITS_MAX = 0xffff;

/** JOB_SLOT.TERNARY_PANELS.DIRECTION. */
export const PANELS_DIRECTION = { TO_T2: 0, TO_PANELS: 1, TO_TRI5: 2 } as const;

/** JOB_SLOT.JOB_STATE: set when the main thread has closed the job (no worker may join it any more). */
export const JOB_CLOSED = 128;

/** The kernels.wat.ts exports the JS side calls, by name (the wat `(export "…")` strings). */
export const WASM_EXPORT = {
  T2_DOT_1: "t2_dot_1",
  T2_DOT_4: "t2_dot_4",
  /** relaxed-SIMD module only */
  T2_DOT_1_RELAXED: "t2_dot_1r",
  /** relaxed-SIMD module only */
  T2_DOT_4_RELAXED: "t2_dot_4r",
  T2_DOT_SPARSE: "t2_dot_sparse",
  MATMUL_F32: "matmul_f32",
  ATTN_SCORES: "attn_scores",
  ATTN_VALUES: "attn_values",
  Q8_DOT: "q8_dot",
  ROW_STATS: "row_stats",
  ROW_CODES: "row_codes",
  DEQUANT_U: "dequant_u",
  Q4_DOT: "q4_dot",
  /** relaxed-SIMD module only */
  Q4_DOT_RELAXED: "q4_dot_r",
  Q4_QUANTIZE: "q4_quantize",
  T2_EPILOGUE: "t2_epilogue",
  T2_PLACE: "t2_place",
  HF_PLACE: "hf_place",
  T1_DOT_1: "t1_dot_1",
  T1_DOT_4: "t1_dot_4",
  /** relaxed-SIMD module only */
  T1_DOT_1_RELAXED: "t1_dot_1r",
  /** relaxed-SIMD module only */
  T1_DOT_4_RELAXED: "t1_dot_4r",
  /** relaxed-SIMD module only */
  T2_GEMM_LUT: "t2_gemm_lut",
  /** relaxed-SIMD module only */
  TRI5_GEMM_LUT: "tri5_gemm_lut",
  /** relaxed-SIMD module only */
  T2_TO_TRI5: "t2_to_tri5",
  /** relaxed-SIMD module only (column-panels.wat.ts) */
  PANELS_TRANSPOSE: "panels_transpose",
  PANELS_TO_TRI5: "panels_to_tri5",
  COL_PAIRS: "col_pairs",
  COL_GEMV: "col_gemv",
  /** relaxed-SIMD module only (lut-work.wat.ts) */
  LUT_JOIN: "lut_join",
  LUT_CLAIM: "lut_claim",
  LUT_FINISH: "lut_finish",
  LUT_CLOSE_ALONE: "lut_close_alone",
  LUT_LOCK: "lut_lock",
  LUT_UNLOCK: "lut_unlock",
  EW_SILU: "ew_silu",
  EW_RELU2: "ew_relu2",
  EW_MUL: "ew_mul",
  EW_ADD: "ew_add",
  EW_RMS_NORM: "ew_rms_norm",
  SUM_I8: "sum_i8",
  EW_FIRST_NONFINITE: "ew_first_nonfinite",
  ATTN_CAUSAL: "attn_causal",
  EW_ROPE: "ew_rope",
  MEM_COPY: "mem_copy",
  SOFTMAX_ROWS: "softmax_rows",
  EXP_F64: "exp_f64",
  EXP_F64X2: "exp_f64x2",
} as const satisfies Record<string, keyof KernelExports>;

/** The ABI as one value: what runJob (job-driver.ts) takes, and what thread-pool.ts copies into the worker source. */
/** The table-lookup GEMM's constants that runJob needs (t2-gemm-lut.wat.ts, lut-work.wat.ts). */
export const LUT_GEMM = {
  TILES: LUT_TILES,
  MIN_TOKENS: LUT_MIN_TOKENS,
  MIN_ROWS: LUT_MIN_ROWS,
  START: LUT_START,
  FLUSH: LUT_FLUSH,
  ADD: LUT_ADD,
  EPILOGUE: LUT_EPILOGUE,
  UNIT_BYTES: LUT_UNIT_BYTES,
} as const;

/** The column panels' constants that runJob needs (column-panels.wat.ts). */
export const COLUMN_PANELS = { ROWS: PANEL_ROWS, SCRATCH_BYTES: PANEL_SCRATCH_BYTES, ...PANELS_DIRECTION } as const;

export const JOB_ABI = { JOB_OP, JOB_SLOT, WASM_EXPORT, DENSE_DECODERS, TERNARY_PLACE_FORMAT, ELEMENTWISE_KIND, LUT_GEMM, COLUMN_PANELS } as const;
export type JobAbi = typeof JOB_ABI;

/** Exports only the relaxed-SIMD module has. */
export const RELAXED_ONLY_EXPORTS: ReadonlyArray<keyof KernelExports> = [WASM_EXPORT.T2_DOT_1_RELAXED, WASM_EXPORT.T2_DOT_4_RELAXED, WASM_EXPORT.Q4_DOT_RELAXED, WASM_EXPORT.T1_DOT_1_RELAXED, WASM_EXPORT.T1_DOT_4_RELAXED, WASM_EXPORT.T2_GEMM_LUT, WASM_EXPORT.TRI5_GEMM_LUT, WASM_EXPORT.T2_TO_TRI5, WASM_EXPORT.PANELS_TRANSPOSE, WASM_EXPORT.PANELS_TO_TRI5, WASM_EXPORT.COL_PAIRS, WASM_EXPORT.COL_GEMV, WASM_EXPORT.LUT_JOIN, WASM_EXPORT.LUT_CLAIM, WASM_EXPORT.LUT_FINISH, WASM_EXPORT.LUT_CLOSE_ALONE, WASM_EXPORT.LUT_LOCK, WASM_EXPORT.LUT_UNLOCK];

/** The exports' signatures (kernels.wat.ts documents each); all arguments are i32, pointers are byte addresses. */
export interface KernelExports {
  /** Ternary dots, one token, rows [rowStart, rowEnd) (rowStart even): out[r] = Σ code·x. */
  t2_dot_1(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, out: number): void;
  /** The same for four tokens xStride bytes apart, out [4, outStride] i32. */
  t2_dot_4(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, xStride: number, out: number, outStride: number): void;
  t2_dot_1r(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, out: number): void;
  t2_dot_4r(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, xStride: number, out: number, outStride: number): void;
  t2_dot_sparse(w: number, rowStride: number, rowStart: number, rowEnd: number, mask: number, idx: number, val: number, nnz: number, out: number): void;
  matmul_f32(x: number, w: number, out: number, tokens: number, outF: number, inF: number, rowStart: number, rowEnd: number): void;
  attn_scores(q: number, keys: number, out: number, kvHeads: number, group: number, headDim: number, positions: number, h0: number, h1: number): void;
  attn_values(p: number, values: number, out: number, kvHeads: number, group: number, headDim: number, positions: number, h0: number, h1: number): void;
  /** Causal attention items [r0, r1) (token ⌊r / (heads / span)⌋ and `span` of its heads, 1 or 2); scratch: span·(start + tokens) floats. */
  attn_causal(q: number, keys: number, values: number, out: number, kvHeads: number, group: number, headDim: number, heads: number, start: number, scalePtr: number, r0: number, r1: number, scratch: number, span: number): void;
  /** RoPE in place on x [tokens, heads, headDim] from f64 cos/sin [tokens, headDim/2]; pairs (a, a + step), a = … + stride·i. */
  ew_rope(x: number, tokens: number, heads: number, headDim: number, cos: number, sin: number, stride: number, step: number): void;
  /** n bytes from src to dst (memory.copy). */
  mem_copy(dst: number, src: number, n: number): void;
  /** x [rows, cols] f32 softmaxed in place, js/softmax.ts's bits. */
  softmax_rows(x: number, rows: number, cols: number): void;
  /** Math.exp's bits (fdlibm), for tests. */
  exp_f64(x: number): number;
  /** Math.exp's bits of a and b into out[0], out[1] (f64) through the softmax's two-lane path, for tests. */
  exp_f64x2(a: number, b: number, out: number): void;
  q8_dot(w: number, inF: number, scales: number, blocks: number, blockLen: number, x: number, rowStart: number, rowEnd: number, out: number): void;
  /** stats[r] (f64) = absmax of row r (kind 0) or Σ|x| in order (kind 1); x [rows, n] f32. */
  row_stats(x: number, n: number, rows: number, kind: number, stats: number): void;
  /** codes[r, i] = clamp(nearest(x·s[r]), lo, hi) int8; returns the number of zero codes. */
  row_codes(x: number, n: number, rows: number, s: number, lo: number, hi: number, codes: number): number;
  /** Unsigned bit-stream codes to f32: groups × gsize codes with a scale and offset per group. */
  dequant_u(codes: number, shift: number, bits: number, groups: number, gsize: number, scales: number, offsets: number, out: number): void;
  /** W4A8 dense rows [rowStart, rowEnd), one token: out[r] f32 (dense-int4.wat.ts has the layout). */
  q4_dot(w: number, rowStride: number, groups: number, x: number, rowStart: number, rowEnd: number, out: number): void;
  q4_dot_r(w: number, rowStride: number, groups: number, x: number, rowStart: number, rowEnd: number, out: number): void;
  /** int4 weight rows, f32 src [rows, blocks·32] → dst rows rowStride bytes apart in q4_dot's layout (int4-quantize.wat.ts); 1 if a value is not finite, else 0. */
  q4_quantize(src: number, rows: number, blocks: number, dst: number, rowStride: number): number;
  /** BitLinear's epilogue on rows [r0, r1): i32 dots [tokens, stride] at out → f32 y in place (bit-linear-epilogue.wat.ts). */
  t2_epilogue(out: number, stride: number, tokens: number, r0: number, r1: number, tok: number, scales: number, mask: number): void;
  /** Rows [r0, r1) of a TQ2_0 (format 0) or I2_S (1) tensor → the t2 pair layout (ternary-place.wat.ts); 1 on a code 3. */
  t2_place(src: number, srcRow: number, format: number, r0: number, r1: number, groups: number, dst: number, rowStride: number): number;
  /**
   * Packed rows [p0, p1) of a Hugging Face packed tensor (the tensor's rows first + p0 …, rd = ⌈out/4⌉ of them) → their
   * four weight rows each in the t2 pair layout at dst (ternary-place.wat.ts); 1 on a code 3.
   */
  hf_place(src: number, cols: number, p0: number, p1: number, first: number, rd: number, out: number, dst: number, rowStride: number): number;
  /** F16 [count] at src → f32 at dst (ggml-decode.wat.ts). */
  f16_decode(src: number, count: number, dst: number): void;
  /** Q6_K blocks (210 bytes per 256 weights) at src → f32 at dst (ggml-decode.wat.ts). */
  q6k_decode(src: number, blocks: number, dst: number): void;
  /** BF16 [count] at src → f32 at dst (ggml-decode.wat.ts). */
  bf16_decode(src: number, count: number, dst: number): void;
  /** onebit-t1 ternary dots (t1-dot.wat.ts), same arguments as t2_dot_1 (rows one after another, not paired). */
  t1_dot_1(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, out: number): void;
  t1_dot_4(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, xStride: number, out: number, outStride: number): void;
  t1_dot_1r(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, out: number): void;
  t1_dot_4r(w: number, rowStride: number, blocks: number, rowStart: number, rowEnd: number, mask: number, x: number, xStride: number, out: number, outStride: number): void;
  /**
   * Ternary dots of a tile of 1..64 tokens by table lookup (t2-gemm-lut.wat.ts), t2 pair layout, int8 activations:
   * Σ code·x over blocks [cStart, cEnd) summed into the scratch s (lutScratchBytes(rowEnd − rowStart, tokens) bytes); flags
   * LUT_START clears it first, LUT_FLUSH then writes out [tokens, outStride] i32 (LUT_ADD: adds to it; LUT_EPILOGUE:
   * the float output, as t2_epilogue makes it from tok and scales, when this thread summed every block).
   */
  t2_gemm_lut(w: number, rowStride: number, cStart: number, cEnd: number, rowStart: number, rowEnd: number, mask: number, x: number, xStride: number, tokens: number, out: number, outStride: number, s: number, flags: number, tok: number, scales: number): void;
  /** t2_gemm_lut over a weight in the tri5 layout (blocks of 80 inputs; tri5-layout.wat.ts). */
  tri5_gemm_lut(w: number, rowStride: number, cStart: number, cEnd: number, rowStart: number, rowEnd: number, mask: number, x: number, xStride: number, tokens: number, out: number, outStride: number, s: number, flags: number, tok: number, scales: number): void;
  /** Rows [rowStart, rowEnd) (even) of a t2 pair-layout weight → the tri5 layout at dst (tri5-layout.wat.ts). */
  t2_to_tri5(src: number, srcRowStride: number, srcBlocks: number, dst: number, dstRowStride: number, blocks5: number, rowStart: number, rowEnd: number): void;
  /** Panels [p0, p1) of a weight of `blocks` 64-input blocks: t2 rows ↔ column panels (toPanels 1: to panels); s: 1 KiB scratch (column-panels.wat.ts). */
  panels_transpose(t2: number, panels: number, blocks: number, p0: number, p1: number, toPanels: number, s: number): void;
  /** Panels [p0, p1) → those rows in the tri5 layout at dst (blocks5 blocks a row); s: PANEL_SCRATCH_BYTES. */
  panels_to_tri5(panels: number, blocks: number, dst: number, blocks5: number, p0: number, p1: number, s: number): void;
  /** The list of int8 x [n]'s non-zeros, two to an entry, at pairs (count first); returns the count. */
  col_pairs(x: number, n: number, pairs: number): number;
  /** out[r] = Σ code·x (i32) for the rows of panels [p0, p1), over col_pairs' entries. */
  col_gemv(panels: number, blocks: number, p0: number, p1: number, pairs: number, out: number): void;
  /**
   * A LUT GEMM unit's state at u (lut-work.wat.ts): join (1, or 0 when closed); claim blocks from the front or back
   * (count << 16 | first block; −1: none left); finish (1: the last member); close if the only member (1); the
   * output lock (returns the parts added before).
   */
  lut_join(u: number): number;
  lut_claim(u: number, blocks: number, front: number): number;
  lut_finish(u: number): number;
  lut_close_alone(u: number): number;
  lut_lock(u: number): number;
  lut_unlock(u: number): void;
  /** Element-wise, on the caller's thread (elementwise.wat.ts); n4 = a count rounded up to 4 (buffers padded). x ← SiLU(x). */
  ew_silu(p: number, n4: number): void;
  /** x ← max(x, 0)²; with mask ≠ 0 (features a multiple of 4) mask[i] |= (x > 0) per feature. */
  ew_relu2(p: number, n4: number, features: number, mask: number): void;
  ew_mul(x: number, y: number, n4: number): void;
  ew_add(x: number, y: number, n4: number): void;
  /** RMSNorm of x [tokens, features] into y with gain [features]. */
  ew_rms_norm(x: number, y: number, gain: number, tokens: number, features: number, eps: number): void;
  /** Σ of n int8 at p (n a multiple of 16), exact. */
  sum_i8(p: number, n: number): number;
  /** The index of the first NaN / ±∞ among n floats at p, −1 when all are finite. */
  ew_first_nonfinite(p: number, n: number): number;
}

/** An instance's exports as KernelExports; throws if the module lacks one (kernels-wasm.generated.ts out of date). */
export function kernelExports(instance: WebAssembly.Instance, relaxed: boolean): KernelExports {
  const ex = instance.exports;
  for (const name of Object.values(WASM_EXPORT)) {
    if (!relaxed && RELAXED_ONLY_EXPORTS.includes(name)) continue;
    if (typeof ex[name] !== "function")
      throw new Error(`wasm kernels module has no export "${name}" (run \`pnpm --filter @onebit/kernels build:wasm\`)`);
  }
  return ex as unknown as KernelExports;
}
