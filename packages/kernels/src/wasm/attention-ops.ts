/**
 * Attention on the wasm backend: scores q·kᵀ and the weighted sum of values over an f32 KV store, query heads split
 * across threads (JOB_OP.ATTENTION_SCORES / ATTENTION_VALUES). A store from allocF32 (heap.ts KvArrays) lies in wasm
 * memory and is read in place; any other is copied per call.
 */
import { checkAttention, checkCausalAttention } from "../js/attention";
import { checkSoftmax } from "../js/softmax";
import { outputBuffer } from "../validate-inputs";
import { JOB_OP, JOB_SLOT } from "./abi";
import type { WasmContext } from "./context";

/**
 * One attention job for all heads: `input` (q [heads, headDim] or p [heads, positions]) goes to scratch, the KV
 * store [positions, kvHeads, headDim] is read in place when it lives in this heap and copied after the output
 * otherwise; returns the raw output [heads, outLen] (a scratch view, valid until the next kernel call).
 */
function runAttention(
  ctx: WasmContext,
  op: typeof JOB_OP.ATTENTION_SCORES | typeof JOB_OP.ATTENTION_VALUES,
  input: Float32Array,
  heads: number,
  store: Float32Array,
  kvHeads: number,
  headDim: number,
  positions: number,
  outLen: number,
): Float32Array {
  ctx.alive();
  const { heap, pool } = ctx;
  const c = pool.control;
  // scratch: [input][out: heads·outLen f32][store copy, if not in place]
  const inBytes = (input.length * 4 + 15) & ~15;
  const outBytes = (heads * outLen * 4 + 15) & ~15;
  const storeLen = positions * kvHeads * headDim;
  const inPlace = heap.owns(store);
  const base = heap.scratch(inBytes + outBytes + (inPlace ? 0 : storeLen * 4));
  new Float32Array(heap.buffer, base, input.length).set(input);
  const copyTo = base + inBytes + outBytes;
  if (!inPlace) new Float32Array(heap.buffer, copyTo, storeLen).set(store.subarray(0, storeLen));
  const a = JOB_SLOT.ATTENTION;
  c[JOB_SLOT.OP] = op;
  c[a.IN_PTR] = base;
  c[a.STORE_PTR] = inPlace ? store.byteOffset : copyTo;
  c[a.OUT_PTR] = base + inBytes;
  c[JOB_SLOT.ROWS] = heads;
  c[a.KV_HEADS] = kvHeads;
  c[a.GROUP] = heads / kvHeads;
  c[a.HEAD_DIM] = headDim;
  c[a.POSITIONS] = positions;
  pool.run(ctx.exports);
  return new Float32Array(heap.buffer, base + inBytes, heads * outLen);
}

/** scores [heads, positions] = (q [heads, headDim] · keys[j, h / group]) × scale. */
export function attentionScores(
  ctx: WasmContext,
  q: Float32Array,
  heads: number,
  keys: Float32Array,
  kvHeads: number,
  headDim: number,
  positions: number,
  scale: number,
  outBuf?: Float32Array,
): Float32Array {
  checkAttention("attentionScores", q, heads, keys, kvHeads, headDim, positions);
  const y = outputBuffer(outBuf, heads * positions);
  const raw = runAttention(ctx, JOB_OP.ATTENTION_SCORES, q, heads, keys, kvHeads, headDim, positions, positions);
  // scaled in JS, in f32, as the reference does (the kernel returns the raw dot)
  const sc = Math.fround(scale);
  for (let i = 0; i < raw.length; i++) y[i] = raw[i]! * sc;
  return y;
}

/** out [heads, headDim] = Σ_j p[h, j]·values[j, h / group] for probabilities p [heads, positions]. */
export function attentionValues(ctx: WasmContext, p: Float32Array, heads: number, values: Float32Array, kvHeads: number, headDim: number, positions: number, outBuf?: Float32Array): Float32Array {
  checkAttention("attentionValues", p, heads, values, kvHeads, headDim, positions);
  const y = outputBuffer(outBuf, heads * headDim);
  y.set(runAttention(ctx, JOB_OP.ATTENTION_VALUES, p, heads, values, kvHeads, headDim, positions, headDim));
  return y;
}

/**
 * Fewest multiply-adds (scores and values) for which causalAttention splits its items across threads: a 2B4T decode
 * token (20 heads × 128) at position 31 or later. Measured on a 2-vCPU AMD EPYC (Zen 5) VM, one token's time on one
 * thread over its time split across two (400 alternated calls each): 0.87 at position 16, 0.96–0.98 at 24–28, 1.04
 * at 32, 1.06–1.51 at 36–64. (It was 2¹⁸, position 50, set on a Zen 3 VM where position 6 favoured one thread and
 * 134 the split.)
 */
const SPLIT_ATTENTION_MIN = 5 * 2 ** 15;

/**
 * Causal attention of `tokens` queries q [tokens, heads, headDim] at positions start.. over the KV store (read in place
 * when it lives in this heap): one job of tokens·heads items, each scores → softmax → values in wasm
 * (attention-causal.wat.ts); the reference's bits (js/attention.ts causalAttentionImpl).
 */
export function causalAttention(
  ctx: WasmContext,
  q: Float32Array,
  tokens: number,
  heads: number,
  keys: Float32Array,
  values: Float32Array,
  kvHeads: number,
  headDim: number,
  start: number,
  scale: number,
  outBuf?: Float32Array,
): Float32Array {
  checkCausalAttention(q, tokens, heads, keys, values, kvHeads, headDim, start);
  ctx.alive();
  const y = outputBuffer(outBuf, tokens * heads * headDim);
  const { heap, pool } = ctx;
  const c = pool.control;
  const positions = start + tokens;
  const storeLen = positions * kvHeads * headDim;
  const qBytes = (q.length * 4 + 15) & ~15;
  // an item is a token and a span of query heads that read one KV head: two where the group is even, so the pair
  // shares its value loads (attention-causal.wat.ts)
  const group = heads / kvHeads;
  const span = group % 2 === 0 ? 2 : 1;
  // each thread's score rows on cache lines of their own: a line two threads write in turn moves between their cores
  // at every write (the scores, their scaling and the softmax's passes each write a row)
  const rowBytes = (span * positions * 4 + 63) & ~63;
  const keysInPlace = heap.owns(keys);
  const valuesInPlace = heap.owns(values);
  const storeBytes = (storeLen * 4 + 15) & ~15;
  // q read and the output written in place when they live in wasm memory (a model's workspace), unless they overlap
  const qInPlace = heap.owns(q);
  const outInPlace = heap.owns(y) && !(qInPlace && y.byteOffset < q.byteOffset + q.byteLength && q.byteOffset < y.byteOffset + y.byteLength);
  // scratch: [q][out][scale][a score row per thread, 64-byte aligned][keys copy][values copy] (q, out and the stores
  // only when not in place)
  const outPtr = qInPlace ? 0 : qBytes;
  const scalePtr = outPtr + (outInPlace ? 0 : qBytes);
  const rowsPtr = scalePtr + 16;
  const keysPtr = rowsPtr + 64 + pool.threads * rowBytes;
  const valuesPtr = keysPtr + (keysInPlace ? 0 : storeBytes);
  const base = heap.scratch(valuesPtr + (valuesInPlace ? 0 : storeBytes));
  const buf = heap.buffer;
  if (!qInPlace) new Float32Array(buf, base, q.length).set(q);
  new Float32Array(buf, base + scalePtr, 1)[0] = scale;
  if (!keysInPlace) new Float32Array(buf, base + keysPtr, storeLen).set(keys.subarray(0, storeLen));
  if (!valuesInPlace) new Float32Array(buf, base + valuesPtr, storeLen).set(values.subarray(0, storeLen));
  const a = JOB_SLOT.ATTENTION_CAUSAL;
  c[JOB_SLOT.OP] = JOB_OP.ATTENTION_CAUSAL;
  c[a.Q_PTR] = qInPlace ? q.byteOffset : base;
  c[a.KEYS_PTR] = keysInPlace ? keys.byteOffset : base + keysPtr;
  c[a.VALUES_PTR] = valuesInPlace ? values.byteOffset : base + valuesPtr;
  c[a.OUT_PTR] = outInPlace ? y.byteOffset : base + outPtr;
  c[JOB_SLOT.ROWS] = (tokens * heads) / span;
  c[a.KV_HEADS] = kvHeads;
  c[a.GROUP] = group;
  c[a.HEAD_DIM] = headDim;
  c[a.HEADS] = heads;
  c[a.START] = start;
  c[a.SCALE_PTR] = base + scalePtr;
  c[a.SCRATCH_PTR] = (base + rowsPtr + 63) & ~63;
  c[a.SCRATCH_BYTES] = rowBytes;
  c[a.SPAN] = span;
  // a decode step over a short context runs on this thread alone (see SPLIT_ATTENTION_MIN)
  const multiplyAdds = 2 * heads * headDim * (tokens * start + (tokens * (tokens + 1)) / 2);
  pool.run(ctx.exports, multiplyAdds < SPLIT_ATTENTION_MIN ? 1 : pool.threads);
  if (!outInPlace) y.set(new Float32Array(heap.buffer, base + outPtr, y.length));
  return y;
}

/** x [rows, cols] softmaxed in place in wasm (softmax.wat.ts), the reference's bits. */
export function softmaxRows(ctx: WasmContext, x: Float32Array, rows: number, cols: number): void {
  checkSoftmax(x, rows, cols);
  ctx.alive();
  const { heap, exports: ex } = ctx;
  if (heap.owns(x)) {
    ex.softmax_rows(x.byteOffset, rows, cols);
    return;
  }
  const base = heap.scratch(x.length * 4);
  const view = new Float32Array(heap.buffer, base, x.length);
  view.set(x);
  ex.softmax_rows(base, rows, cols);
  x.set(view);
}
