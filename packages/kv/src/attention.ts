/**
 * Causal grouped-query attention of new query tokens over a KV cache, on a kernels backend's attention ops
 * (scores → softmax → weighted values; the wasm backend reads an f32 cache in place). A low-bit or f16 cache is
 * decoded one layer at a time into a scratch [positions, kvHeads, headDim] buffer, never as a whole.
 *   q: [tokens, heads, headDim] (post-RoPE) for positions start .. start+tokens−1
 *   out: [tokens, heads, headDim]
 */
import { type Activations, attentionScoresImpl, attentionValuesImpl, type Backend, dequantizeUnsignedImpl, hostArray, ResidencyError, softmaxImpl } from "@onebit/kernels";
import { roundHalfEven } from "@onebit/quant";
import { KvCacheError, type KvCache } from "./kv-cache";

/** The kernels attention runs on: a backend's, or the js reference. */
export type AttentionOps = Pick<Backend, "attentionScores" | "attentionValues" | "softmax" | "dequantizeUnsigned" | "copyInto" | "allocF32" | "freeF32" | "residency">;

export interface AttentionOptions {
  /** Quantize the queries to 4 bits per (token, head) before the scores (a4.8's 4-bit QKV heads). */
  queryBits?: 4;
  /** The backend whose attention (and low-bit decode) kernels to run (default: the js reference). */
  backend?: AttentionOps;
}

const REFERENCE_OPS: AttentionOps = {
  residency: "host",
  attentionScores: ({ q, heads, keys, kvHeads, headDim, positions, scale, out }) => attentionScoresImpl(hostArray(q, "q"), heads, hostArray(keys, "keys"), kvHeads, headDim, positions, scale, out),
  attentionValues: ({ p, heads, values, kvHeads, headDim, positions, out }) =>
    attentionValuesImpl(hostArray(p, "p"), heads, hostArray(values, "values"), kvHeads, headDim, positions, out === undefined ? undefined : hostArray(out, "out")),
  softmax: ({ x, rows, cols }) => softmaxImpl(hostArray(x, "scores"), rows, cols),
  dequantizeUnsigned: ({ codes, bitOffset, bits, groups, groupSize, scales, offsets, out }) => dequantizeUnsignedImpl(codes, bitOffset, bits, groups, groupSize, scales, offsets, out),
  copyInto: ({ src, dst, dstOffset, srcOffset = 0, length }) => {
    const s = hostArray(src, "src");
    hostArray(dst, "dst").set(s.subarray(srcOffset, srcOffset + (length ?? s.length - srcOffset)), dstOffset);
  },
  allocF32: (length) => new Float32Array(length),
  freeF32: () => {},
};

export function attendCached(cache: KvCache, layer: number, q: Activations, tokens: number, heads: number, start: number, options: AttentionOptions = {}): Activations {
  const d = cache.headDim;
  const kvHeads = cache.kvHeads;
  if (!Number.isInteger(heads / kvHeads)) throw new KvCacheError(`attention: heads ${heads} must be a multiple of kvHeads ${kvHeads}`);
  if (q.length !== tokens * heads * d) throw new KvCacheError(`attention q: has ${q.length} values, expected tokens·heads·headDim = ${tokens * heads * d}`);
  const ops = options.backend ?? REFERENCE_OPS;
  const total = start + tokens;
  const keys = cache.floats("k", layer, total, ops);
  const values = cache.floats("v", layer, total, ops);
  const scale = 1 / Math.sqrt(d);
  const width = heads * d;
  if (ops.residency === "device") {
    // the queries and the output stay on the device: token t's query row is copied out, its output row copied in
    if (options.queryBits === 4) throw new ResidencyError("attention: 4-bit queries are quantized in host memory; run a4.8 low-bit attention on a host backend");
    if (tokens === 1) {
      const scores = ops.attentionScores({ q, heads, keys, kvHeads, headDim: d, positions: total, scale });
      ops.softmax({ x: scores, rows: heads, cols: total });
      return ops.attentionValues({ p: scores, heads, values, kvHeads, headDim: d, positions: total });
    }
    const out = ops.allocF32(tokens * width);
    const qt = ops.allocF32(width);
    for (let t = 0; t < tokens; t++) {
      ops.copyInto({ src: q, srcOffset: t * width, length: width, dst: qt, dstOffset: 0 });
      const positions = start + t + 1; // causal: positions 0..start+t
      const scores = ops.attentionScores({ q: qt, heads, keys, kvHeads, headDim: d, positions, scale });
      ops.softmax({ x: scores, rows: heads, cols: positions });
      ops.copyInto({ src: ops.attentionValues({ p: scores, heads, values, kvHeads, headDim: d, positions }), dst: out, dstOffset: t * width });
    }
    ops.freeF32(qt);
    return out;
  }
  const qh = hostArray(q, "attention q");
  const out = new Float32Array(tokens * width);
  for (let t = 0; t < tokens; t++) {
    const positions = start + t + 1; // causal: positions 0..start+t
    let qt = qh.subarray(t * width, (t + 1) * width); // [heads, d]
    if (options.queryBits === 4) {
      qt = qt.slice();
      for (let h = 0; h < heads; h++) quantizeHeadInPlace(qt.subarray(h * d, (h + 1) * d), 4);
    }
    const scores = hostArray(ops.attentionScores({ q: qt, heads, keys, kvHeads, headDim: d, positions, scale }), "scores"); // [heads, positions]
    ops.softmax({ x: scores, rows: heads, cols: positions });
    ops.attentionValues({ p: scores, heads, values, kvHeads, headDim: d, positions, out: out.subarray(t * width, (t + 1) * width) });
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
