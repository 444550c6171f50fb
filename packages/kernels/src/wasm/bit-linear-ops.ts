/**
 * BitLinear on the wasm backend: prepareWeight places a packed weight in wasm memory once; bitLinear runs the
 * integer dots as a pool job (JOB_OP.TERNARY_DENSE, or TERNARY_SPARSE for one sparse token) and the float epilogue
 * (− Σx, × scales) in JS.
 *
 * Ternary weights stay onebit-t2 as they come; binary weights are re-expressed as t2 codes {0, 2} (= w + 1), which
 * keeps them packed at 2 bits so the same SIMD kernel serves both; weights with per-column-group scales ("in" axis)
 * are split into one packed sub-weight per group so each group's dot product is separate.
 *
 * Layout "t1" (the backend's `ternaryLayout` option): the same t2 sub-weights are transcoded at placement to
 * onebit-t1 (1.6 bits per weight, t2ToT1Rows) and read by the t1 kernels (t1-dot.wat.ts) — one token and the
 * multi-token path, row masks included. Sparse activations run the dense t1 kernel: the sparse kernel reads t2
 * codes (the result is the same integers either way).
 */
import { packTernaryT2, t1RowBytes, t2RowBytes, unpackBinaryB1 } from "@onebit/quant";
import type { BitLinearOptions, PackedLinearWeight, PreparedWeight, QuantizedActivations, TernaryEncoding } from "../backend";
import { copyBytes } from "../contract/byte-range";
import { KernelInputError } from "../backend";
import { checkWeightGroup, prepareApart } from "../contract/kernel-table";
import { checkActivations, checkMask, checkWeight, outputBuffer } from "../validate-inputs";
import { JOB_OP, JOB_SLOT, PANELS_DIRECTION, TERNARY_PLACE_FORMAT } from "./abi";
import type { WasmContext } from "./context";
import { gatherNonZeros, interleaveRowPairs, placeInOrder, placeSplitI16, t2ToT1Rows, ternaryAt } from "./layout";
import type { LutVariant } from "./lut-tuner";
import { LUT_UNIT_BYTES } from "./lut-work.wat";
import { LUT_MIN_ROWS, LUT_MIN_TOKENS, lutScratchBytes, lutTiles, lutWidth } from "./t2-gemm-lut.wat";
import { TRI5_BLOCK } from "./tri5-layout.wat";
import { PANEL_ROWS, PANEL_SCRATCH_BYTES } from "./column-panels.wat";

/**
 * Whether relaxed-SIMD t2 prefill may take the table-lookup GEMM (t2-gemm-lut.wat.ts; off: t2_dot_4r alone), read
 * at every call. A switch for benchmarks that compare the two in one process (bench/t2-gemm-lut.bench.ts).
 * `skipOwn` (tests): thread 0 leaves its own units to the others (job-driver.ts LUT_OPTIONS), so that the threads
 * share every unit's chunks or take units whole, as they do when one runs slower. `tri5`: whether the tiles read the
 * weight transcoded into the tri5 layout for the call (tri5-layout.wat.ts) or its t2 rows, and `width`: the widest
 * tile (tokens) they cut — "auto": the backend's tuner picks both per shape by timing its first calls (lut-tuner.ts),
 * or with `tune` off the fixed rule (tri5 where a thread's share pays for it: TRI5_MIN_TOKENS, TRI5_MIN_WORK; any
 * width); a value forces it (tests, benchmarks).
 */
export const ternaryGemmLut = {
  enabled: true,
  splitTokens: true,
  skipOwn: false,
  tri5: "auto" as "auto" | "on" | "off",
  width: "auto" as "auto" | 64 | 32 | 16,
  tune: true,
};

/**
 * When the LUT tiles read tri5 rather than t2: a thread's tokens, or its rows × tokens, at least these. Below, the
 * per-call transcoding and the 243-entry tables cost more than the 5/4 work a lookup does. Measured (2B4T shapes,
 * Zen 5, alternated in one process, t2 time / tri5 time): 128 tokens 1.035–1.086 on 1 and 2 threads for every
 * projection; 6912 rows × 32 tokens 1.076 (1 thread); 2560 × 64 0.994 (1 thread), 1.039 (2 threads, 64 each); below:
 * 6912 × 16 0.966, 2560 × 32 0.967, and on 2 threads (split by tokens) 6912 × 32 0.978, 2560 × 64 0.96.
 */
const TRI5_MIN_TOKENS = 64;
const TRI5_MIN_WORK = 200_000;

/**
 * What a run of n tokens costs the LUT GEMM per row, in token lanes, to choose how a prompt splits across threads:
 * job-driver.ts's tiles (lutTiles), each as many lanes as its compiled width holds (a 16-lane tile at ≈ 0.85 the speed
 * a lane), then t2_dot_4r for the last few (≈ 1.6 lanes a token). Split by tokens, no two threads build the same tables,
 * so a tie goes to that split. A 64-lane tile is priced as two of 32, although it runs ≈ 0.9× their time: priced at
 * that, every 64-token prompt on two threads would go to the row split, where each thread builds every token's tables —
 * measured (two backends alternated in one process, Zen 5), by rows took 0.96–0.98× the time for 6912×2560 but
 * 1.11–1.15× for 2560×2560. (Before the 64-token width, 2 threads: by tokens 1.02–1.24× faster at 64 and 128 tokens,
 * 0.76–0.88× at 40.)
 */
function lutTokenCost(n: number): number {
  const { tiles, rest } = lutTiles(n);
  return tiles.reduce((lanes, tile) => lanes + (tile > 16 ? lutWidth(tile) : 16 / 0.85), 0) + rest * 1.6;
}

/** How ternary weights sit in wasm memory: onebit-t2 (2 bits, rows in pairs) or onebit-t1 (1.6 bits, t1-dot.wat.ts). */
export type TernaryLayout = "t1" | "t2";

/** One column group of a prepared weight: [out, end − start] codes in wasm memory, t2 rows interleaved in pairs or t1 rows. */
interface SubWeight {
  layout: TernaryLayout;
  ptr: number;
  /** bytes of one packed row */
  rowStride: number;
  /** blocks per row: 64 columns (t2) or 80 (t1), 16 bytes each */
  blocks: number;
  out: number;
  /** column range of the original weight */
  start: number;
  end: number;
  /** the weight scale of each output row for this column group */
  rowScales: Float32Array;
  /** the same scales in wasm memory, f32 [out], for the threads' epilogue (bit-linear-epilogue.wat.ts) */
  scalesPtr: number;
  /**
   * The t2 codes stored as column panels at `ptr` (column-panels.wat.ts; relaxed SIMD, one column group, rows a
   * multiple of 64): a token's GEMV reads only the columns of its non-zero activations; a prompt for the LUT GEMM gets
   * the rows back in scratch (`rowStride`, `blocks` describe the t2 rows).
   */
  panels?: boolean;
}

interface WasmPreparedWeight extends PreparedWeight {
  subs: SubWeight[];
  columnGroups: number;
  layout: TernaryLayout;
}

/**
 * Copy a packed weight [out, in] into wasm memory: one sub-weight per column group (one if not grouped by "in").
 * `at`: where its t2 rows go (prepareWeights' region; one column group only), instead of a block of their own.
 * `sparseInputs` (most inputs zero at decode, a ReLU²GLU down projection): stored as column panels where the panel
 * kernels apply (see `panelsApply`).
 */
export function prepareWeight(ctx: WasmContext, w: PackedLinearWeight, layout: TernaryLayout = "t2", at?: number, sparseInputs = false): PreparedWeight {
  const prepared = prepareRows(ctx, w, layout, at) as WasmPreparedWeight;
  if (sparseInputs && at === undefined && panelsApply(ctx, prepared)) toPanels(ctx, prepared.subs[0]!);
  return prepared;
}

/**
 * Whether a weight whose inputs are mostly zero at decode is stored as column panels (column-panels.wat.ts): the
 * relaxed-SIMD kernels, the t2 layout, one column group, rows a multiple of PANEL_ROWS. (`bench:panels`, 2560×6912:
 * a token with half its inputs zero 0.76–0.80× the t2 GEMV's time, a tenth non-zero 0.56–0.61×, none zero 1.24×; a
 * 128-token prompt pays ≈ 1 ms for its rows back, 1.04–1.05×: hence only where the caller says.)
 */
function panelsApply(ctx: WasmContext, w: WasmPreparedWeight): boolean {
  return ctx.relaxed && w.layout === "t2" && w.subs.length === 1 && w.outFeatures % PANEL_ROWS === 0;
}

/** A placed sub-weight's t2 rows re-stored as column panels (TERNARY_PANELS job), in a block of their own. */
function toPanels(ctx: WasmContext, sub: SubWeight): void {
  const { heap, pool } = ctx;
  const bytes = sub.out * sub.rowStride;
  const panels = heap.alloc(bytes);
  const c = pool.control;
  const p = JOB_SLOT.TERNARY_PANELS;
  c[JOB_SLOT.OP] = JOB_OP.TERNARY_PANELS;
  c[p.T2_PTR] = sub.ptr;
  c[p.PANELS_PTR] = panels;
  c[p.BLOCKS] = sub.blocks;
  c[p.DIRECTION] = PANELS_DIRECTION.TO_PANELS;
  c[p.SCRATCH_PTR] = heap.scratch(pool.threads * PANEL_SCRATCH_BYTES);
  c[JOB_SLOT.ROWS] = sub.out / PANEL_ROWS;
  pool.run(ctx.exports);
  heap.release(sub.ptr);
  sub.ptr = panels;
  sub.panels = true;
}

/** prepareWeight's placement of the t2 (or t1) rows. */
function prepareRows(ctx: WasmContext, w: PackedLinearWeight, layout: TernaryLayout, at: number | undefined): PreparedWeight {
  const { heap } = ctx;
  // a file's own TQ2_0/I2_S bytes go straight into the pair layout, on the threads (ternary-place.wat.ts)
  const enc = encodedSource(w, layout);
  if (enc) return placeEncoded(ctx, w, enc, at);
  checkWeight(w);
  const out = w.outFeatures;
  // ternary codes straight from the packed bytes; binary re-expressed as ternary ±1 codes
  const groups = w.scaleAxis === "in" ? w.scales.length : 1;
  const per = w.inFeatures / groups;
  const rowScale = (o: number, g: number) =>
    w.scaleAxis === "tensor" ? w.scales[0]! : w.scaleAxis === "in" ? w.scales[g]! : w.scales[Math.floor(o / (out / w.scales.length))]!;
  let source: { data: Uint8Array; cols: number }[];
  if (w.kind === "ternary" && groups === 1) source = [{ data: w.data, cols: w.inFeatures }];
  else {
    const values = w.kind === "binary" ? unpackBinaryB1(w.data, out, w.inFeatures) : null;
    source = [];
    for (let g = 0; g < groups; g++) {
      const sub = new Int8Array(out * per);
      for (let o = 0; o < out; o++)
        for (let i = 0; i < per; i++) {
          const col = g * per + i;
          sub[o * per + i] = values ? values[o * w.inFeatures + col]! : ternaryAt(w, o, col);
        }
      source.push({ data: packTernaryT2(sub, out, per), cols: per });
    }
  }
  const subs: SubWeight[] = source.map((s, g) => {
    const rowStride = layout === "t1" ? t1RowBytes(s.cols) : t2RowBytes(s.cols);
    let ptr: number;
    if (layout === "t1") {
      const placed = t2ToT1Rows(s.data, out, s.cols);
      ptr = heap.alloc(placed.length);
      heap.u8.set(placed, ptr);
    } else {
      const length = Math.ceil(out / 2) * 2 * rowStride;
      ptr = at ?? heap.alloc(length);
      const dst = new Uint8Array(heap.buffer, ptr, length);
      dst.fill(0); // a freed block may be reused: the odd last row's partner must read as zero codes
      interleaveRowPairs(s.data, out, rowStride, dst);
    }
    const rowScales = Float32Array.from({ length: out }, (_, o) => rowScale(o, g));
    return { layout, ptr, rowStride, blocks: rowStride / 16, out, start: g * per, end: (g + 1) * per, rowScales, scalesPtr: placeScales(ctx, rowScales) };
  });
  const bytes = subs.reduce((n, s) => n + (layout === "t1" ? out : out + (out & 1)) * s.rowStride, 0) + w.scales.length * 4;
  const prepared: WasmPreparedWeight = { backend: "wasm", kind: w.kind, outFeatures: out, inFeatures: w.inFeatures, bytes, subs, columnGroups: groups, layout };
  return prepared;
}

/** A sub-weight's row scales copied into wasm memory for the threads' epilogue; returns their address. */
function placeScales(ctx: WasmContext, rowScales: Float32Array): number {
  const ptr = ctx.heap.alloc(rowScales.length * 4);
  new Float32Array(ctx.heap.buffer, ptr, rowScales.length).set(rowScales); // (the view after alloc: it may grow the memory)
  return ptr;
}

/** Source bytes per t2_place chunk: a few MiB of scratch, an even number of rows (whole pairs). */
const PLACE_CHUNK_BYTES = 4 << 20;

/** The file bytes prepareWeight places itself (a ternary weight with one tensor scale, on the t2 layout), if any. */
function encodedSource(w: PackedLinearWeight, layout: TernaryLayout): TernaryEncoding | undefined {
  return w.encoded && layout === "t2" && w.kind === "ternary" && w.scaleAxis === "tensor" ? w.encoded : undefined;
}

/**
 * The file layouts prepareWeight places itself: the columns a row must be a multiple of, a source row's bytes, the
 * source rows of a weight of `out` rows, and the bytes after the last one. A Hugging Face packed row holds four
 * weight rows (ternary-place.wat.ts hf_place).
 */
const ENCODED_LAYOUTS = {
  TQ2_0: { code: TERNARY_PLACE_FORMAT.TQ2_0, colsMultiple: 256, rowBytes: (cols: number) => (cols / 256) * 66, rows: (out: number) => out, tail: 0 },
  I2_S: { code: TERNARY_PLACE_FORMAT.I2_S, colsMultiple: 128, rowBytes: (cols: number) => cols / 4, rows: (out: number) => out, tail: 32 },
  HF_PACKED: { code: TERNARY_PLACE_FORMAT.HF_PACKED, colsMultiple: 64, rowBytes: (cols: number) => cols, rows: (out: number) => Math.ceil(out / 4), tail: 0 },
} as const;

/** The encoded bytes' format, shape and length against the weight's; returns its layout and the bytes of one source row. */
function checkEncoded(w: PackedLinearWeight, enc: TernaryEncoding): { layout: (typeof ENCODED_LAYOUTS)[keyof typeof ENCODED_LAYOUTS]; srcRow: number } {
  const out = w.outFeatures;
  const cols = w.inFeatures;
  if (!Object.hasOwn(ENCODED_LAYOUTS, enc.format))
    throw new KernelInputError(`prepareWeight encoded: format ${JSON.stringify(enc.format)} is not one of ${Object.keys(ENCODED_LAYOUTS).join(", ")}`);
  const layout = ENCODED_LAYOUTS[enc.format];
  if (!Number.isSafeInteger(out) || out <= 0 || !Number.isSafeInteger(cols) || cols % layout.colsMultiple !== 0 || cols <= 0)
    throw new KernelInputError(`prepareWeight encoded ${enc.format}: shape [${out}, ${cols}]: columns must be a positive multiple of ${layout.colsMultiple}`);
  if (w.scales.length !== 1) throw new KernelInputError(`prepareWeight encoded ${enc.format}: expected one tensor scale, got ${w.scales.length}`);
  const srcRow = layout.rowBytes(cols);
  const expected = layout.rows(out) * srcRow + layout.tail;
  if (enc.bytes.length !== expected) throw new KernelInputError(`prepareWeight encoded ${enc.format} [${out}, ${cols}]: has ${enc.bytes.length} bytes, expected ${expected}`);
  return { layout, srcRow };
}

/**
 * prepareWeight from `encoded` (TQ2_0, I2_S or Hugging Face packed), never reading `w.data`: source rows copied to
 * scratch a chunk at a time and placed by the threads (a packed HF row into its four weight rows).
 */
function placeEncoded(ctx: WasmContext, w: PackedLinearWeight, enc: TernaryEncoding, at?: number): PreparedWeight {
  const { heap, pool } = ctx;
  const out = w.outFeatures;
  const cols = w.inFeatures;
  const { layout, srcRow } = checkEncoded(w, enc);
  const hf = layout === ENCODED_LAYOUTS.HF_PACKED;
  const srcRows = layout.rows(out);
  const rowStride = t2RowBytes(cols);
  const length = Math.ceil(out / 2) * 2 * rowStride;
  const ptr = at ?? heap.alloc(length);
  // an odd last row's partner must read as zero codes (a freed block may be reused): zero that last pair only
  if (out & 1) new Uint8Array(heap.buffer, ptr + length - 2 * rowStride, 2 * rowStride).fill(0);
  const a = JOB_SLOT.TERNARY_PLACE;
  const c = pool.control;
  // (TQ2_0 and I2_S: an even number of rows a chunk, whole pairs; a packed HF row's four rows are far apart, and
  // each writes only its own half of its pair)
  const step = Math.max(2, Math.floor(PLACE_CHUNK_BYTES / srcRow) & ~1);
  for (let r0 = 0; r0 < srcRows; r0 += step) {
    const n = Math.min(step, srcRows - r0);
    const src = heap.scratch(n * srcRow);
    // (a ByteRange reads the file straight into the scratch; its errors are the loader's, named for the tensor)
    try {
      copyBytes(enc.bytes, r0 * srcRow, new Uint8Array(heap.buffer, src, n * srcRow));
    } catch (e) {
      if (at === undefined) heap.release(ptr);
      throw e;
    }
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_PLACE;
    c[a.SRC_PTR] = src;
    c[a.SRC_ROW] = srcRow;
    c[a.FORMAT] = layout.code;
    c[a.GROUPS] = cols / 128;
    c[a.DST_PTR] = hf ? ptr : ptr + r0 * rowStride; // r0 is even: pair r0/2 starts at r0·rowStride
    c[a.ROW_STRIDE] = rowStride;
    c[a.PLANE_ROWS] = srcRows;
    c[a.OUT_ROWS] = out;
    c[a.FIRST_ROW] = r0;
    c[a.BAD] = 0;
    c[JOB_SLOT.ROWS] = n;
    pool.run(ctx.exports);
    if (c[a.BAD] !== 0) {
      if (at === undefined) heap.release(ptr);
      void w.data; // the definition's own error (a loader's names the file and tensor)
      throw new KernelInputError(`prepareWeight encoded ${enc.format}: ${hf ? "packed rows" : "rows"} [${r0}, ${r0 + n}) hold a code 3 (no ternary code) that the weight's data does not`);
    }
  }
  const rowScales = new Float32Array(out).fill(w.scales[0]!);
  const sub: SubWeight = { layout: "t2", ptr, rowStride, blocks: rowStride / 16, out, start: 0, end: cols, rowScales, scalesPtr: placeScales(ctx, rowScales) };
  const prepared: WasmPreparedWeight = { backend: "wasm", kind: "ternary", outFeatures: out, inFeatures: cols, bytes: (out + (out & 1)) * rowStride + 4, subs: [sub], columnGroups: 1, layout: "t2" };
  return prepared;
}

/**
 * prepareWeights: the weights' t2 rows in one block, one after another (every part but the last of an even row
 * count, so each starts on a pair), each part a view of its rows, and `joined` a view of them all with every row's
 * own scale — one bitLinear over the q, k and v of an attention block instead of three (one set of lookup tables
 * for a prompt, one job for a token). Apart (joined null) where a part would not be one t2 column group: the t1
 * layout, scales per column group, or an odd row count before the last.
 */
export function prepareWeights(ctx: WasmContext, weights: readonly PackedLinearWeight[], layout: TernaryLayout = "t2"): { parts: PreparedWeight[]; joined: PreparedWeight | null } {
  checkWeightGroup(weights);
  const oneGroup = (w: PackedLinearWeight) => w.scaleAxis !== "in" || w.scales.length === 1;
  const joinable = layout === "t2" && weights.length > 1 && weights.every((w, i) => oneGroup(w) && (i === weights.length - 1 || w.outFeatures % 2 === 0));
  if (!joinable) return prepareApart(weights, (w) => prepareWeight(ctx, w, layout));
  // every part's sizes checked against its bytes before the block is allocated
  for (const w of weights) {
    const enc = encodedSource(w, "t2");
    if (enc) checkEncoded(w, enc);
    else checkWeight(w);
  }
  const cols = weights[0]!.inFeatures;
  const rowStride = t2RowBytes(cols);
  const rows = weights.reduce((n, w) => n + w.outFeatures, 0);
  const region = ctx.heap.alloc(Math.ceil(rows / 2) * 2 * rowStride);
  const parts: WasmPreparedWeight[] = [];
  try {
    let row = 0;
    for (const w of weights) {
      parts.push(prepareWeight(ctx, w, "t2", region + row * rowStride) as WasmPreparedWeight);
      row += w.outFeatures;
    }
  } catch (e) {
    ctx.heap.release(region);
    for (const p of parts) ctx.heap.release(p.subs[0]!.scalesPtr);
    throw e;
  }
  const rowScales = new Float32Array(rows);
  let row = 0;
  for (const p of parts) {
    rowScales.set(p.subs[0]!.rowScales, row);
    row += p.outFeatures;
  }
  const sub: SubWeight = { layout: "t2", ptr: region, rowStride, blocks: rowStride / 16, out: rows, start: 0, end: cols, rowScales, scalesPtr: placeScales(ctx, rowScales) };
  // (its rows' bytes are the parts': what it adds is its scales)
  const joined: WasmPreparedWeight = { backend: "wasm", kind: weights[0]!.kind, outFeatures: rows, inFeatures: cols, bytes: rows * 4, subs: [sub], columnGroups: 1, layout: "t2" };
  return { parts, joined };
}

/** y [tokens, out] = Σ_groups (W·x)·wScale·xScale for quantized activations x [tokens, in]; masked rows 0. */
export function bitLinear(ctx: WasmContext, pw: PreparedWeight, x: QuantizedActivations, options: BitLinearOptions = {}): Float32Array {
  ctx.alive();
  if (pw.backend !== "wasm") throw new KernelInputError(`bitLinear: weight was prepared by the ${pw.backend} backend, not wasm`);
  const w = pw as WasmPreparedWeight;
  checkActivations(w, x);
  checkMask(options.rowMask, w.outFeatures);
  if (x.groups !== 1 && x.groups !== w.columnGroups)
    throw new KernelInputError(`wasm bitLinear: activations have ${x.groups} feature groups but the weight has ${w.columnGroups} column groups; they must be equal (or the activations ungrouped)`);
  const { tokens } = x;
  const out = w.outFeatures;
  const y = outputBuffer(options.out, tokens * out);
  // several column groups: sum their scaled dots in float64 and round once, exactly as the reference does
  const acc = w.subs.length > 1 ? new Float64Array(tokens * out) : null;
  // one column group (the usual case): the threads finish the output themselves (bit-linear-epilogue.wat.ts)
  const epilogue = w.subs.length === 1;
  // and an out buffer in wasm memory (a model's workspace) is where the kernels write, the epilogue in place: no copy
  // of the output afterwards (a 128-token prompt's 6912-wide output is 3.5 MB) — unless it overlaps the codes, which
  // the kernels may read in place while other rows' outputs are written
  const overlaps = y.buffer === x.codes.buffer && y.byteOffset < x.codes.byteOffset + x.codes.byteLength && x.codes.byteOffset < y.byteOffset + y.byteLength;
  const direct = epilogue && ctx.heap.owns(y) && !overlaps ? y.byteOffset : 0;
  w.subs.forEach((sub, g) => {
    const raw = runSub(ctx, sub, x, options.rowMask, epilogue, direct);
    if (raw.y) {
      if (direct === 0) y.set(raw.y);
      return;
    }
    const xg = x.groups === 1 ? 0 : g;
    if (acc) accumulateSub(acc, raw.dots, raw.xsum, sub.rowScales, x.scales, x.groups, xg, tokens, out);
    else storeSub(y, raw.dots, raw.xsum, sub.rowScales, x.scales, x.groups, tokens, out, options.rowMask);
  });
  if (acc) {
    if (options.rowMask) for (let i = 0; i < acc.length; i++) if (!options.rowMask[i % out]) acc[i] = 0;
    y.set(acc);
  }
  return y;
}

/** runSub's result when the epilogue wrote y into the caller's out (bitLinear reads only `y`'s presence then). */
const WRITTEN = { dots: new Int32Array(0), xsum: null, y: new Float32Array(0) };

/** Codes [src, src + cols) at wasm address `at`, zero-padded to `bytes` (a multiple of 16); returns Σ codes, summed in wasm. */
function placeInt8(ctx: WasmContext, codes: Int8Array, src: number, cols: number, at: number, bytes: number): number {
  const dst = new Int8Array(ctx.heap.buffer, at, bytes);
  dst.set(codes.subarray(src, src + cols));
  dst.fill(0, cols);
  return ctx.exports.sum_i8(at, bytes);
}

/**
 * One column group's integer dots [tokens, out]: Σ code·x (dense kernels, code = w + 1: the caller subtracts xsum)
 * or Σ w·x (sparse kernel: xsum = null). Views into scratch, valid until the next kernel call.
 */
function runSub(
  ctx: WasmContext,
  sub: SubWeight,
  x: QuantizedActivations,
  rowMask: Uint8Array | undefined,
  epilogue: boolean,
  direct: number,
): { dots: Int32Array; xsum: Float64Array | null; y: Float32Array | null } {
  const { heap, pool, relaxed } = ctx;
  const c = pool.control;
  const { tokens, features } = x;
  const out = sub.out;
  const cols = sub.end - sub.start;
  const t1 = sub.layout === "t1";
  // column panels (column-panels.wat.ts): below the LUT GEMM's tokens, each token through col_gemv; a prompt for the
  // LUT GEMM reads the t2 rows, transposed back into scratch first (rowsBytes) — or, where its tiles over tri5 rows
  // take every token, the tri5 rows straight from the panels (below)
  const panels = sub.panels === true;
  // the LUT GEMM (relaxed t2, ≥ LUT_MIN_TOKENS tokens): on several threads a prompt goes to it split by tokens (each
  // thread every row of its run of tokens: job-driver.ts SPLIT_TOKENS) when its runs tile no worse than the whole
  // prompt does, else by rows (a unit's claims count blocks in 16-bit halves, lut-work.wat.ts: up to 4 194 240 inputs)
  const lutKernel = ternaryGemmLut.enabled && relaxed && !t1 && tokens >= LUT_MIN_TOKENS && sub.blocks <= 0xffff;
  const byTokens =
    lutKernel && ternaryGemmLut.splitTokens && pool.threads > 1 && out >= LUT_MIN_ROWS && pool.threads * lutTokenCost(Math.ceil(tokens / pool.threads)) <= lutTokenCost(tokens);
  const threadRows = byTokens ? out : Math.ceil(out / pool.threads / 4) * 4;
  const lut = lutKernel && threadRows >= LUT_MIN_ROWS;
  // (token by token: 2560×6912 with half the inputs zero, one thread, 4 tokens 4 × 259 against 1958 µs through the t2
  // rows and t2_dot_4r, 11 tokens 11 × 259 against 4267)
  const panelGemv = panels && !lut;
  // its tiles read the t2 rows or the rows transcoded into the tri5 layout (blocks of 80 inputs, rows in pairs) in
  // scratch, in tiles of up to 64 tokens or of up to 32 — as the backend's tuner found fastest for the shape (lutPlan)
  const threadTokens = byTokens ? Math.ceil(tokens / pool.threads) : tokens;
  const plan = lut ? lutPlan(ctx, out, cols, threadRows, threadTokens, byTokens, panels) : undefined;
  const tri5 = plan?.variant.tri5 === true;
  const maxWidth = plan?.variant.maxWidth ?? 0;
  const blocks5 = tri5 ? Math.ceil(cols / TRI5_BLOCK) : 0;
  const panelsToTri5 = panels && tri5 && lutTilesTakeAll(tokens, out, pool.threads, byTokens, maxWidth);
  const rowsBytes = panels && !panelGemv && !panelsToTri5 ? out * sub.rowStride : 0;
  const tri5Bytes = blocks5 * 16 * ((out + 1) & ~1);
  // activations: baseline = i16, t2: each 16-chunk split even/odd (128 bytes per block), t1: in order (160 per
  // 80-column block); relaxed = int8 in order (64 or 80; zero-padded to whole blocks of both t2 and tri5 when the
  // LUT tiles read tri5 and the other tokens t2)
  const xStride = Math.max(sub.blocks * (t1 ? (relaxed ? 80 : 160) : relaxed ? 64 : 128), blocks5 * TRI5_BLOCK);
  // scratch layout: [mask: out bytes][x: tokens·xStride, unless read in place][dots: i32 tokens·out][sparse idx/val: 2·cols i32]
  // [epilogue: 16 bytes per token, 16-aligned][t2_gemm_lut: one region per thread, 64-aligned][units][tri5 rows, 64-aligned]
  const maskBytes = rowMask ? (out + 15) & ~15 : 0;
  // int8 codes already in wasm memory (quantize into a model's workspace) in the kernel's own layout — one column
  // group, rows of whole 64-column blocks — are read in place
  const xInPlace = relaxed && !t1 && heap.owns(x.codes) && sub.start === 0 && cols === features && xStride === features;
  const xBytes = xInPlace ? 0 : tokens * xStride;
  const tokOffset = (maskBytes + xBytes + tokens * out * 4 + 8 * cols + 64 + 15) & ~15;
  // the LUT GEMM's scratch: for a thread's rows as runJob splits them (job-driver.ts takes it on ranges of ≥ LUT_MIN_ROWS)
  // (sized for the widest tile any thread cuts — a thread may sum another's tiles — its run's first: LUT_TILES)
  const lutBytes = lut ? (lutScratchBytes(threadRows, lutTiles(threadTokens, maxWidth).tiles[0] ?? 0) + 63) & ~63 : 0;
  const lutOffset = tokOffset + tokens * 16;
  // the LUT GEMM's units (lut-work.wat.ts): each of a thread's tiles is at least LUT_MIN_TOKENS tokens
  const unitsCap = Math.floor(tokens / LUT_MIN_TOKENS) + 1;
  const unitsBytes = lut ? pool.threads * unitsCap * LUT_UNIT_BYTES : 0;
  const tri5Offset = lutOffset + (lut ? 64 + pool.threads * lutBytes + unitsBytes : 0);
  // [t2 rows of a panel weight, 64-aligned][the transposes' scratch]
  const rowsOffset = tri5Offset + (tri5Bytes > 0 ? 64 + tri5Bytes : 0);
  const base = heap.scratch(rowsOffset + (panels && !panelGemv ? 64 + rowsBytes + pool.threads * PANEL_SCRATCH_BYTES : 0));
  const maskPtr = rowMask ? base : 0;
  const xPtr = xInPlace ? x.codes.byteOffset : base + maskBytes;
  // the dots (and, with the epilogue, y over them) in the caller's out when it lives in wasm memory, else in scratch
  // (the sparse kernel's dots too: storeSub then turns them into y in place, each element read before it is written)
  const dotsScratch = base + maskBytes + xBytes;
  const outPtr = direct !== 0 ? direct : dotsScratch;
  const buf = heap.buffer;
  if (rowMask) new Uint8Array(buf, maskPtr, out).set(rowMask);
  // the sparse kernel wins only below 25 % non-zeros; a known zero count spares the gather when it cannot
  const tooDense = x.zeros !== undefined && cols === features && (features - x.zeros) * 4 >= cols;
  // (t1 has no sparse kernel: sparse activations take the dense t1 kernel below, the same integers; column panels
  // skip the zeros themselves)
  if (x.sparse === true && tokens === 1 && !tooDense && !t1 && !panels) {
    const idxPtr = dotsScratch + tokens * out * 4; // (in scratch even when the dots go to the caller's out)
    const nnz = gatherNonZeros(x.codes, sub.start, cols, new Int32Array(buf, idxPtr, cols), new Int32Array(buf, idxPtr + 4 * cols, cols));
    if (nnz * 4 < cols) {
      // sparse enough that scalar work on the non-zeros beats the dense SIMD sweep
      const a = JOB_SLOT.TERNARY_SPARSE;
      c[JOB_SLOT.OP] = JOB_OP.TERNARY_SPARSE;
      c[a.W_PTR] = sub.ptr;
      c[a.ROW_STRIDE] = sub.rowStride;
      c[JOB_SLOT.ROWS] = out;
      c[a.MASK_PTR] = maskPtr;
      c[a.IDX_PTR] = idxPtr;
      c[a.VAL_PTR] = idxPtr + 4 * cols;
      c[a.NNZ] = nnz;
      c[a.OUT_PTR] = outPtr;
      pool.run(ctx.exports);
      return { dots: new Int32Array(buf, outPtr, tokens * out), xsum: null, y: null };
    }
  }
  const xsum = new Float64Array(tokens);
  for (let t = 0; t < tokens; t++)
    xsum[t] = xInPlace
      ? ctx.exports.sum_i8(xPtr + t * xStride, xStride)
      : relaxed
      ? placeInt8(ctx, x.codes, t * features + sub.start, cols, xPtr + t * xStride, xStride)
      : t1
        ? placeInOrder(x.codes, t * features + sub.start, cols, new Int16Array(buf, xPtr + t * xStride, xStride / 2))
        : placeSplitI16(x.codes, t * features + sub.start, cols, new Int16Array(buf, xPtr + t * xStride, xStride / 2));
  // the weight's t2 rows: where they live, or (a panel weight, several tokens) transposed back into scratch, on the
  // threads (none where the panels go straight to tri5: no kernel reads t2 rows then; W_PTR 0)
  // (a timed call of the tuner: from the weight's transcoding on, which differs between the variants)
  const t0 = plan?.timed ? performance.now() : 0;
  const wPtr = rowsBytes > 0 ? (base + rowsOffset + 63) & ~63 : panels ? 0 : sub.ptr;
  const tri5Ptr = tri5Bytes > 0 ? (base + tri5Offset + 63) & ~63 : 0;
  if (panels && !panelGemv) {
    const p = JOB_SLOT.TERNARY_PANELS;
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_PANELS;
    c[p.T2_PTR] = panelsToTri5 ? tri5Ptr : wPtr;
    c[p.PANELS_PTR] = sub.ptr;
    c[p.BLOCKS] = sub.blocks;
    c[p.DIRECTION] = panelsToTri5 ? PANELS_DIRECTION.TO_TRI5 : PANELS_DIRECTION.TO_T2;
    c[p.BLOCKS5] = blocks5;
    c[p.SCRATCH_PTR] = (base + rowsOffset + 64 + rowsBytes + 63) & ~63;
    c[JOB_SLOT.ROWS] = out / PANEL_ROWS;
    pool.run(ctx.exports);
  }
  if (tri5Ptr !== 0 && !panelsToTri5) {
    // the weight's rows into the tri5 layout first, split across the threads: any thread's tiles may read any row
    const t5 = JOB_SLOT.TERNARY_TRI5;
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_TRI5;
    c[t5.SRC_PTR] = wPtr;
    c[t5.SRC_ROW_STRIDE] = sub.rowStride;
    c[t5.SRC_BLOCKS] = sub.blocks;
    c[t5.DST_PTR] = tri5Ptr;
    c[t5.DST_ROW_STRIDE] = blocks5 * 16;
    c[t5.DST_BLOCKS] = blocks5;
    c[JOB_SLOT.ROWS] = (out + 1) & ~1;
    pool.run(ctx.exports);
  }
  const a = JOB_SLOT.TERNARY_DENSE;
  c[JOB_SLOT.OP] = JOB_OP.TERNARY_DENSE;
  c[a.W_PTR] = panelGemv ? sub.ptr : wPtr;
  c[a.ROW_STRIDE] = sub.rowStride;
  c[a.BLOCKS] = sub.blocks;
  c[JOB_SLOT.ROWS] = panelGemv ? out / PANEL_ROWS : out;
  c[a.MASK_PTR] = maskPtr;
  c[a.X_PTR] = xPtr;
  c[a.X_STRIDE] = xStride;
  c[a.TOKENS] = tokens;
  c[a.OUT_PTR] = outPtr;
  c[a.OUT_STRIDE] = out;
  c[a.RELAXED] = relaxed ? 1 : 0;
  c[a.LAYOUT] = panelGemv ? 2 : t1 ? 1 : 0;
  // a token over column panels: the list of its non-zero activations (in the sparse kernel's idx/val scratch:
  // 16 + 12·⌈nnz/2⌉ ≤ 8·cols bytes), made per token below
  c[a.PAIRS_PTR] = panelGemv ? dotsScratch + tokens * out * 4 : 0;
  c[a.EPI_SCALES_PTR] = 0;
  c[a.LUT_PTR] = lut ? (base + lutOffset + 63) & ~63 : 0;
  c[a.LUT_BYTES] = lutBytes;
  c[a.LUT_UNITS_PTR] = lut ? c[a.LUT_PTR]! + pool.threads * lutBytes : 0;
  c[a.LUT_UNITS_CAP] = unitsCap;
  c[a.LUT_OPTIONS] = (ternaryGemmLut.skipOwn ? 1 : 0) | (maxWidth << 8);
  if (lut) new Int32Array(buf, c[a.LUT_UNITS_PTR]!, unitsBytes / 4).fill(0);
  c[a.SPLIT_TOKENS] = byTokens ? 1 : 0;
  c[a.W5_PTR] = tri5Ptr;
  c[a.W5_ROW_STRIDE] = blocks5 * 16;
  c[a.W5_BLOCKS] = blocks5;
  if (epilogue) {
    // per token [f64 Σx][f64 xScale] for t2_epilogue, which writes f32 y over the dots
    const tok = heap.words.f64;
    const at = (base + tokOffset) >> 3; // (base and tokOffset are multiples of 16)
    for (let t = 0; t < tokens; t++) {
      tok[at + 2 * t] = xsum[t]!;
      tok[at + 2 * t + 1] = x.scales[t * x.groups]!;
    }
    c[a.EPI_TOK_PTR] = base + tokOffset;
    c[a.EPI_SCALES_PTR] = sub.scalesPtr;
  }
  if (panelGemv) {
    // column panels: one job per token (a one-token job: TOKENS 1), each over its own list
    c[a.TOKENS] = 1;
    for (let t = 0; t < tokens; t++) {
      ctx.exports.col_pairs(xPtr + t * xStride, xStride, c[a.PAIRS_PTR]!);
      c[a.OUT_PTR] = outPtr + t * out * 4;
      if (epilogue) c[a.EPI_TOK_PTR] = base + tokOffset + t * 16;
      pool.run(ctx.exports);
    }
  } else pool.run(ctx.exports);
  if (plan?.timed) ctx.lutTuner.record(plan.slot, plan.index, performance.now() - t0);
  // (written straight into the caller's out: nothing to hand back, so no views made)
  if (epilogue) return direct !== 0 ? WRITTEN : { dots: new Int32Array(buf, outPtr, tokens * out), xsum, y: new Float32Array(buf, outPtr, tokens * out) };
  return { dots: new Int32Array(buf, outPtr, tokens * out), xsum, y: null };
}

/**
 * How a call's LUT GEMM runs: over t2 or tri5 rows, in tiles of at most which width — what ternaryGemmLut forces, else
 * the backend's tuner's choice for the shape (lut-tuner.ts; `timed`: this call is one of its samples), else (`tune`
 * off) the fixed rule. A shape: the weight's rows and inputs, how the threads split the call, and the widths of the
 * tiles a thread's run of tokens is cut into (prompts of other lengths cut alike share the choice).
 */
function lutPlan(
  ctx: WasmContext,
  out: number,
  cols: number,
  threadRows: number,
  threadTokens: number,
  byTokens: boolean,
  panels: boolean,
): { variant: LutVariant; timed: boolean; index: number; slot: string } {
  const { tri5, width, tune } = ternaryGemmLut;
  const fixedTri5 = threadTokens >= TRI5_MIN_TOKENS || threadRows * threadTokens >= TRI5_MIN_WORK;
  const tri5s = tri5 === "on" ? [true] : tri5 === "off" ? [false] : tune ? [true, false] : [fixedTri5];
  // (a cap of 32 changes the tiles only of a run that would cut a 64-token tile)
  const { tiles, rest } = lutTiles(threadTokens);
  const widths = width !== "auto" ? [width] : tune && tiles.some((t) => lutWidth(t) > 32) ? [0, 32] : [0];
  const candidates = tri5s.flatMap((t) => widths.map((maxWidth) => ({ tri5: t, maxWidth })));
  const key = `${out}×${cols} ${byTokens ? "by tokens" : "by rows"}${panels ? " panels" : ""} ${ctx.pool.threads}T tiles ${tiles.map(lutWidth).join(",")}${rest > 0 ? `+${rest}` : ""}`;
  return ctx.lutTuner.pick(key, candidates);
}

/**
 * Whether job-driver.ts's LUT tiles take every token of every thread (none left for t2_dot_4r / t2_dot_1r, which read
 * t2 rows): its tiling (lutTiles, none wider than `maxWidth` where it is set) on each thread's run of tokens (split by
 * tokens) or on all of them, and no thread with rows too few for the LUT.
 */
function lutTilesTakeAll(tokens: number, out: number, threads: number, byTokens: boolean, maxWidth: number): boolean {
  const rest = (n: number) => lutTiles(n, maxWidth).rest;
  if (byTokens) {
    for (let j = 0; j < threads; j++) if (rest(Math.floor(((j + 1) * tokens) / threads) - Math.floor((j * tokens) / threads)) > 0) return false;
    return true;
  }
  const per = Math.ceil(out / threads / 4) * 4;
  for (let j = 0; j < threads; j++) {
    const rows = Math.min(out, (j + 1) * per) - Math.min(out, j * per);
    if (rows > 0 && rows < LUT_MIN_ROWS) return false;
  }
  return rest(tokens) === 0;
}

/** y[t, o] = (dot − Σx)·wScale[o]·xScale[t] (float64, rounded once into y); masked rows 0. The reference's expression. */
function storeSub(y: Float32Array, dots: Int32Array, xsum: Float64Array | null, rowScales: Float32Array, xScales: Float32Array, xGroups: number, tokens: number, out: number, rowMask: Uint8Array | undefined): void {
  for (let t = 0; t < tokens; t++) {
    const xs = xScales[t * xGroups]!;
    const corr = xsum ? xsum[t]! : 0;
    const base = t * out;
    for (let o = 0; o < out; o++) y[base + o] = (dots[base + o]! - corr) * rowScales[o]! * xs;
    if (rowMask) for (let o = 0; o < out; o++) if (!rowMask[o]) y[base + o] = 0;
  }
}

/** acc[t, o] += (dot − Σx)·wScale[o]·xScale[t, g] in float64 (column groups). */
function accumulateSub(acc: Float64Array, dots: Int32Array, xsum: Float64Array | null, rowScales: Float32Array, xScales: Float32Array, xGroups: number, xg: number, tokens: number, out: number): void {
  for (let t = 0; t < tokens; t++) {
    const xs = xScales[t * xGroups + xg]!;
    const corr = xsum ? xsum[t]! : 0;
    const base = t * out;
    for (let o = 0; o < out; o++) acc[base + o] = acc[base + o]! + (dots[base + o]! - corr) * rowScales[o]! * xs;
  }
}
