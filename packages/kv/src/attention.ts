/**
 * Causal grouped-query attention of new query tokens over a KV cache. Keys and values are decoded head by head
 * from the cache's own storage as they are used (a low-bit cache is never expanded as a whole).
 *   q: [tokens, heads, headDim] (post-RoPE) for positions start .. start+tokens−1
 *   out: [tokens, heads, headDim]
 */
import { roundHalfEven } from "@onebit/quant";
import type { KvCache } from "./kv-cache";

export interface AttentionOptions {
  /** Quantize the queries to 4 bits per (token, head) before the scores (a4.8's 4-bit QKV heads). */
  queryBits?: 4;
}

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
  const group = heads / cache.kvHeads;
  if (!Number.isInteger(group)) throw new RangeError(`attention: heads ${heads} must be a multiple of kvHeads ${cache.kvHeads}`);
  if (q.length !== tokens * heads * d) throw new RangeError(`attention q: has ${q.length} values, expected tokens·heads·headDim = ${tokens * heads * d}`);
  const out = new Float32Array(tokens * heads * d);
  const keyBuf = new Float32Array(d);
  const valBuf = new Float32Array(d);
  const total = start + tokens;
  const scores = new Float64Array(total);
  const scale = 1 / Math.sqrt(d);
  const qh = new Float32Array(d);
  for (let t = 0; t < tokens; t++) {
    const last = start + t; // causal: attend to positions 0..last
    for (let h = 0; h < heads; h++) {
      qh.set(q.subarray((t * heads + h) * d, (t * heads + h + 1) * d));
      if (options.queryBits === 4) quantizeHeadInPlace(qh, 4);
      const kvh = Math.floor(h / group);
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= last; j++) {
        cache.readK(layer, j, kvh, keyBuf);
        let s = 0;
        for (let i = 0; i < d; i++) s += qh[i]! * keyBuf[i]!;
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        const e = Math.exp(scores[j]! - max);
        scores[j] = e;
        sum += e;
      }
      const o = (t * heads + h) * d;
      for (let j = 0; j <= last; j++) {
        cache.readV(layer, j, kvh, valBuf);
        const p = scores[j]! / sum;
        for (let i = 0; i < d; i++) out[o + i] += p * valBuf[i]!;
      }
    }
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
