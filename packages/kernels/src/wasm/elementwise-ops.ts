/**
 * The element-wise ops of a decoder block on the wasm backend (elementwise.wat.ts): SiLU / ReLU², the gated product,
 * the residual add and RMSNorm. Each is one stream over tokens·features floats: operands that live in wasm memory are
 * read and written in place, others are copied into scratch (padded to a multiple of 4 floats for the f32x4 loops)
 * and back. A decode token's stream is a few µs, so it runs on this thread; a prompt's SiLU / ReLU² (marking active
 * rows into a mask per thread), gated product, residual sum, RMSNorm and RoPE — megabytes — run as a job of rows
 * split across the threads (JOB_OP.ELEMENTWISE_ROWS). The bits are the reference's (js/elementwise.ts, js/expf.ts,
 * js/rms-norm-quantize.ts, js/rope.ts), which the conformance suite checks.
 */
import { KernelInputError } from "../backend";
import { checkGateActivation, type GateActivation } from "../js/elementwise";
import { checkRope, rotations } from "../js/rope";
import { outputBuffer } from "../validate-inputs";
import { ELEMENTWISE_KIND, JOB_OP, JOB_SLOT } from "./abi";
import type { WasmContext } from "./context";

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * The fewest floats for which an element-wise kernel is split across threads: a job costs tens of µs to hand off,
 * a 2560-wide decode token's kernel a few (a 128-token prompt's SiLU over 6912 features, 885 k floats, ≈ 3 ms).
 */
const SPLIT_ELEMENTWISE_MIN = 1 << 16;

/** The row a product or sum over a flat stream is cut into for a job across threads (floats, a multiple of 4). */
const BINARY_ROW = 4096;

/** Whether a stream of `rows` × `features` floats is worth a job across the pool's threads. */
export function splitRows(ctx: WasmContext, rows: number, features: number): boolean {
  return ctx.pool.threads > 1 && rows >= 2 * ctx.pool.threads && features % 4 === 0 && rows * features >= SPLIT_ELEMENTWISE_MIN;
}

/**
 * ELEMENTWISE_ROWS job: `kind` over rows [0, rows) of `features` floats at x (RMSNorm: into y, with gain and ε;
 * row_stats / row_codes: `quant`; product and sum: the other operand at `other.y`; ReLU² marking: one mask of
 * `other.maskBytes` a thread from `other.y`). Returns the job's ZEROS slot (row_codes' zero count).
 */
export function runRows(
  ctx: WasmContext,
  kind: number,
  x: number,
  rows: number,
  features: number,
  norm?: { y: number; gain: number; eps: number },
  quant?: { stats: number; statKind?: number; codes?: number; lo?: number; hi?: number },
  other?: { y: number; maskBytes?: number },
): number {
  const c = ctx.pool.control;
  const a = JOB_SLOT.ELEMENTWISE_ROWS;
  c[JOB_SLOT.OP] = JOB_OP.ELEMENTWISE_ROWS;
  c[JOB_SLOT.ROWS] = rows;
  c[a.KIND] = kind;
  c[a.X_PTR] = x;
  c[a.FEATURES] = features;
  c[a.ZEROS] = 0;
  if (quant) {
    c[a.STATS_PTR] = quant.stats;
    c[a.STAT_KIND] = quant.statKind ?? 0;
    c[a.Y_PTR] = quant.codes ?? 0;
    c[a.LO] = quant.lo ?? 0;
    c[a.HI] = quant.hi ?? 0;
  }
  if (other) {
    c[a.Y_PTR] = other.y;
    c[a.MASK_BYTES] = other.maskBytes ?? 0;
  }
  if (norm) {
    c[a.Y_PTR] = norm.y;
    c[a.GAIN_PTR] = norm.gain;
    const eps = new Int32Array(Float64Array.of(norm.eps).buffer);
    c[a.EPS_LO] = eps[0]!;
    c[a.EPS_HI] = eps[1]!;
  }
  ctx.pool.run(ctx.exports);
  return c[a.ZEROS]!;
}

/** x ← act(x) in place; ReLU² marks activeRows (features a multiple of 4: the caller borrows the reference otherwise). */
export function gateActivation(ctx: WasmContext, x: Float32Array, tokens: number, features: number, activation: GateActivation, activeRows?: Uint8Array): number {
  ctx.alive();
  checkGateActivation(x, tokens, features, activation, activeRows);
  const { heap, exports: ex } = ctx;
  const n = x.length;
  const n4 = pad4(n);
  const marking = activation === "relu2" && activeRows !== undefined;
  if (marking && features % 4 !== 0) throw new KernelInputError(`gateActivation: the wasm kernel marks active rows four features at a time; features ${features} is not a multiple of 4`);
  // a prompt's rows split across the threads, ReLU² marking into one mask a thread (OR-ed below into the first)
  const split = n === n4 && splitRows(ctx, tokens, features);
  const masks = marking && split ? ctx.pool.threads : 1;
  // scratch: [x: f32 n4, unless x lives in wasm memory with n a multiple of 4: then in place][active rows: features
  // bytes, zero-padded to 16 for sum_i8; one such mask per thread when split]
  const maskBytes = (features + 15) & ~15;
  const inPlace = heap.owns(x) && n % 4 === 0;
  const scratch = heap.scratch((inPlace ? 0 : n4 * 4) + (marking ? masks * maskBytes : 0));
  const base = inPlace ? x.byteOffset : scratch;
  const maskPtr = inPlace ? scratch : scratch + n4 * 4;
  const buf = heap.buffer;
  if (!inPlace) new Float32Array(buf, base, n).set(x);
  if (marking) new Uint8Array(buf, maskPtr, masks * maskBytes).fill(0);
  if (split) {
    const kind = activation === "silu" ? ELEMENTWISE_KIND.SILU : marking ? ELEMENTWISE_KIND.RELU2_MARK : ELEMENTWISE_KIND.RELU2;
    runRows(ctx, kind, base, tokens, features, undefined, undefined, marking ? { y: maskPtr, maskBytes } : undefined);
    if (masks > 1) {
      const first = new Uint8Array(buf, maskPtr, features);
      for (let t = 1; t < masks; t++) {
        const other = new Uint8Array(buf, maskPtr + t * maskBytes, features);
        for (let i = 0; i < features; i++) first[i] = first[i]! | other[i]!;
      }
    }
  } else if (activation === "silu") ex.ew_silu(base, n4);
  else ex.ew_relu2(base, n4, features, marking ? maskPtr : 0);
  if (!inPlace) x.set(new Float32Array(buf, base, n));
  if (!activeRows) return -1;
  if (activation === "silu") {
    activeRows.fill(1);
    return features;
  }
  activeRows.set(new Uint8Array(buf, maskPtr, features));
  // the marks are 0 or 1: their count is their sum
  return ex.sum_i8(maskPtr, maskBytes);
}

/** x ← x ⊙ y or x ← x + y in place. */
export function binary(ctx: WasmContext, op: "add" | "multiply", x: Float32Array, y: Float32Array): void {
  ctx.alive();
  if (x.length !== y.length) throw new KernelInputError(`${op}: x has ${x.length} values, y has ${y.length}`);
  const { heap, exports: ex } = ctx;
  const n = x.length;
  const kernel = op === "add" ? ex.ew_add : ex.ew_mul;
  if (heap.owns(x)) {
    // x lives in wasm memory (a workspace or KV buffer): in place, y read in place too when it lives there; the
    // kernel takes whole f32x4 steps, so the last n mod 4 (past which x's neighbours may lie) are done here
    const n4 = n & ~3;
    let yPtr = y.byteOffset;
    if (!heap.owns(y)) {
      yPtr = heap.scratch(n4 * 4);
      new Float32Array(heap.buffer, yPtr, n4).set(y.subarray(0, n4));
    }
    // a prompt's stream (megabytes: the gated product over [tokens, 6912]) as rows of BINARY_ROW floats split across
    // the threads, the rows' remainder here
    const rows = Math.floor(n4 / BINARY_ROW);
    const split = splitRows(ctx, rows, BINARY_ROW) ? rows * BINARY_ROW : 0;
    if (split > 0) runRows(ctx, op === "add" ? ELEMENTWISE_KIND.ADD : ELEMENTWISE_KIND.MUL, x.byteOffset, rows, BINARY_ROW, undefined, undefined, { y: yPtr });
    kernel(x.byteOffset + split * 4, yPtr + split * 4, n4 - split);
    const f = Math.fround;
    for (let i = n4; i < n; i++) x[i] = op === "add" ? f(x[i]! + y[i]!) : f(x[i]! * y[i]!);
    return;
  }
  const n4 = pad4(n);
  const base = heap.scratch(n4 * 8);
  const buf = heap.buffer;
  new Float32Array(buf, base, n).set(x);
  new Float32Array(buf, base + n4 * 4, n).set(y);
  kernel(base, base + n4 * 4, n4);
  x.set(new Float32Array(buf, base, n));
}

/** RMSNorm over one group: x [tokens, features] → a new y; the caller has checked the arguments. */
export function rmsNorm(ctx: WasmContext, x: Float32Array, tokens: number, features: number, gain: Float32Array, eps: number, out?: Float32Array): Float32Array {
  ctx.alive();
  const { heap, exports: ex } = ctx;
  const n = x.length;
  if (out) outputBuffer(out, n, "norm out");
  // x and the gain read and out written in place when they live in wasm memory (the kernel touches exactly n floats
  // of x and out, features of the gain; a model's norms keep their gains there: layers' norm.ts)
  const xInPlace = heap.owns(x);
  const outInPlace = out !== undefined && heap.owns(out);
  const gainInPlace = heap.owns(gain);
  // scratch: [gain: f32 features, unless in place][x, unless in place][y, unless in place]
  const gainBytes = gainInPlace ? 0 : (features * 4 + 15) & ~15;
  const xBytes = xInPlace ? 0 : (n * 4 + 15) & ~15;
  const base = heap.scratch(gainBytes + xBytes + (outInPlace ? 0 : n * 4));
  const buf = heap.buffer;
  if (!gainInPlace) new Float32Array(buf, base, features).set(gain);
  const gainPtr = gainInPlace ? gain.byteOffset : base;
  const xPtr = xInPlace ? x.byteOffset : base + gainBytes;
  if (!xInPlace) new Float32Array(buf, xPtr, n).set(x);
  const yPtr = outInPlace ? out.byteOffset : base + gainBytes + xBytes;
  if (splitRows(ctx, tokens, features)) runRows(ctx, ELEMENTWISE_KIND.RMS_NORM, xPtr, tokens, features, { y: yPtr, gain: gainPtr, eps });
  else ex.ew_rms_norm(xPtr, yPtr, gainPtr, tokens, features, eps);
  if (outInPlace) return out;
  const y = new Float32Array(buf, yPtr, n);
  if (!out) return y.slice();
  out.set(y);
  return out;
}

/** RoPE in place on x [tokens, heads, headDim] in wasm, from the reference's cos/sin table (js/rope.ts): its bits. */
export function rope(ctx: WasmContext, x: Float32Array, tokens: number, heads: number, headDim: number, positions: Int32Array, theta: number, style: "half" | "interleaved"): void {
  ctx.alive();
  checkRope(x, tokens, heads, headDim, positions, style);
  const { heap, exports: ex } = ctx;
  const { cos, sin } = rotations(positions, theta, headDim);
  const inPlace = heap.owns(x);
  // scratch: [cos: f64 tokens·half][sin][x: f32, when not in place]
  const tableBytes = cos.length * 8;
  const base = heap.scratch(2 * tableBytes + (inPlace ? 0 : x.length * 4));
  const buf = heap.buffer;
  new Float64Array(buf, base, cos.length).set(cos);
  new Float64Array(buf, base + tableBytes, sin.length).set(sin);
  const xPtr = inPlace ? x.byteOffset : base + 2 * tableBytes;
  if (!inPlace) new Float32Array(buf, xPtr, x.length).set(x);
  const half = headDim / 2;
  const [stride, step] = style === "half" ? [1, half] : [2, 1];
  // a prompt's tokens split across the threads (a 2B4T q of 128 tokens: 327 680 floats)
  if (splitRows(ctx, tokens, heads * headDim)) {
    const c = ctx.pool.control;
    const a = JOB_SLOT.ELEMENTWISE_ROWS;
    c[a.ROPE_COS] = base;
    c[a.ROPE_SIN] = base + tableBytes;
    c[a.ROPE_HEAD_DIM] = headDim;
    c[a.ROPE_STRIDE] = stride;
    c[a.ROPE_STEP] = step;
    runRows(ctx, ELEMENTWISE_KIND.ROPE, xPtr, tokens, heads * headDim);
  } else ex.ew_rope(xPtr, tokens, heads, headDim, base, base + tableBytes, stride, step);
  if (!inPlace) x.set(new Float32Array(buf, xPtr, x.length));
}
