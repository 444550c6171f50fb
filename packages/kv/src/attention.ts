/**
 * Causal grouped-query attention of new query tokens over a KV cache, on a kernels backend's attention ops
 * (scores → softmax → weighted values; the wasm backend reads an f32 cache in place). A low-bit or f16 cache is
 * decoded one layer at a time into a scratch [positions, kvHeads, headDim] buffer, never as a whole.
 *   q: [tokens, heads, headDim] (post-RoPE) for positions start .. start+tokens−1
 *   out: [tokens, heads, headDim]
 */
import { attentionScoresImpl, attentionValuesImpl, type Backend, dequantizeUnsignedImpl, softmaxImpl } from "@onebit/kernels";
import { roundHalfEven } from "@onebit/quant";
import type { KvCache } from "./kv-cache";

export interface AttentionOptions {
  /** Quantize the queries to 4 bits per (token, head) before the scores (a4.8's 4-bit QKV heads). */
  queryBits?: 4;
  /** The backend whose attention (and low-bit decode) ops to run (default: the js reference ops). */
  backend?: Pick<Backend, "attentionScores" | "attentionValues" | "softmax" | "dequantizeUnsigned">;
}

const REFERENCE_OPS = { attentionScores: attentionScoresImpl, attentionValues: attentionValuesImpl, softmax: softmaxImpl, dequantizeUnsigned: dequantizeUnsignedImpl };

export function attendCached(
  cache: KvCache,
  layer: number,
  q: Float32Array,
  tokens: number,
  heads: number,
  start: number,
  options: AttentionOptions = {},
): Float32Array {
  const d = cache.headDim;
  const kvHeads = cache.kvHeads;
  if (!Number.isInteger(heads / kvHeads)) throw new RangeError(`attention: heads ${heads} must be a multiple of kvHeads ${kvHeads}`);
  if (q.length !== tokens * heads * d) throw new RangeError(`attention q: has ${q.length} values, expected tokens·heads·headDim = ${tokens * heads * d}`);
  const ops = options.backend ?? REFERENCE_OPS;
  const total = start + tokens;
  const keys = cache.floats("k", layer, total, ops);
  const values = cache.floats("v", layer, total, ops);
  const out = new Float32Array(tokens * heads * d);
  const scale = 1 / Math.sqrt(d);
  for (let t = 0; t < tokens; t++) {
    const positions = start + t + 1; // causal: positions 0..start+t
    let qt = q.subarray(t * heads * d, (t + 1) * heads * d); // [heads, d]
    if (options.queryBits === 4) {
      qt = qt.slice();
      for (let h = 0; h < heads; h++) quantizeHeadInPlace(qt.subarray(h * d, (h + 1) * d), 4);
    }
    const scores = ops.attentionScores(qt, heads, keys, kvHeads, d, positions, scale); // [heads, positions]
    ops.softmax(scores, heads, positions);
    ops.attentionValues(scores, heads, values, kvHeads, d, positions, out.subarray(t * heads * d, (t + 1) * heads * d));
  }
  return out;
}

/** Unsigned b-bit min–max quantize-dequantize of one head (the query side of 4-bit QKV heads). */
function quantizeHeadInPlace(x: Float32Array, bits: number): void {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const levels = 2 ** bits - 1;
  const s = (hi - lo) / levels;
  if (s === 0) return;
  for (let i = 0; i < x.length; i++) {
    const q = Math.min(levels, Math.max(0, roundHalfEven((x[i]! - lo) / s)));
    x[i] = q * s + lo;
  }
}
