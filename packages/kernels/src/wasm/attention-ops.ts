/**
 * Attention on the wasm backend: scores q·kᵀ and the weighted sum of values over an f32 KV store, query heads split
 * across threads (JOB_OP.ATTENTION_SCORES / ATTENTION_VALUES). A store from allocF32 (heap.ts KvArrays) lies in wasm
 * memory and is read in place; any other is copied per call.
 */
import { checkAttention } from "../js/attention";
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
