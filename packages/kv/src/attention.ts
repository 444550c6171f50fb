/**
 * Causal grouped-query attention of new query tokens over a KV cache, on a kernels backend's attention ops
 * (causalAttention: scores → softmax → weighted values for every query token in one kernel call; the wasm backend
 * reads an f32 cache in place). A low-bit or f16 cache is decoded one layer at a time into a scratch [positions,
 * kvHeads, headDim] buffer, never as a whole. On a device backend everything — the decode, 4-bit queries, scores,
 * softmax, values — stays on the device.
 *   q: [tokens, heads, headDim] (post-RoPE) for positions start .. start+tokens−1
 *   out: [tokens, heads, headDim]
 */
import { type Activations, type Backend, causalAttentionImpl, type DeviceTensor, hostArray, KERNELS } from "@onebit/kernels";
import { KvCacheError, type KvCache } from "./kv-cache";

/** The kernels attention runs on: a backend's, or the js reference. */
export type AttentionOps = Pick<
  Backend,
  "causalAttention" | "dequantizeUnsigned" | "quantizeUnsignedInto" | "allocF32" | "freeF32" | "residency"
>;

export interface AttentionOptions {
  /**
   * Quantize the queries to 4 bits per (token, head) before the scores (a4.8's 4-bit QKV heads): the KV cache's
   * unsigned min–max quantizer (quantizeUnsignedInto, then dequantizeUnsigned), on the backend's kernels.
   */
  queryBits?: 4;
  /** The backend whose attention (and low-bit decode) kernels to run (default: the js reference). */
  backend?: AttentionOps;
  /** Host backends: the output [tokens, heads·headDim] goes here (not q) instead of into a new array. */
  out?: Float32Array;
}

const REFERENCE_OPS: AttentionOps = {
  residency: "host",
  causalAttention: ({ q, tokens, heads, keys, values, kvHeads, headDim, start, scale, out }) =>
    causalAttentionImpl(hostArray(q, "q"), tokens, heads, hostArray(keys, "keys"), hostArray(values, "values"), kvHeads, headDim, start, scale, out),
  dequantizeUnsigned: (a) => KERNELS.dequantizeUnsigned.reference(a, "js"),
  quantizeUnsignedInto: (a) => KERNELS.quantizeUnsignedInto.reference(a, "js"),
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
  if (options.queryBits !== undefined && options.queryBits !== 4) throw new KvCacheError(`attention queryBits: expected 4 or none, got ${options.queryBits}`);
  if (options.queryBits === 4) {
    const quantized = quantizeQueries(ops, q, tokens * heads, d);
    const out = attendCached(cache, layer, quantized, tokens, heads, start, { backend: options.backend, out: options.out });
    ops.freeF32(quantized);
    return out;
  }
  return ops.causalAttention({ q, tokens, heads, keys, values, kvHeads, headDim: d, start, scale, out: ops.residency === "host" ? options.out : undefined });
}

/**
 * a4.8's 4-bit queries (arXiv 2411.04965 §2.3: Q, K and V heads quantized after RoPE): q [groups = tokens·heads,
 * d] through the unsigned 4-bit min–max quantizer per (token, head) and back — the KV cache's own kernels, so a
 * device backend keeps the queries on the device and every backend gives the reference's values bit for bit.
 * Returns a new tensor of the backend (free it with freeF32).
 */
function quantizeQueries(ops: AttentionOps, q: Activations, groups: number, d: number): Activations {
  const device = ops.residency === "device";
  const codeBytes = Math.ceil((groups * d * 4) / 8);
  const codes = device ? (ops.allocF32(Math.ceil(codeBytes / 4)) as DeviceTensor) : new Uint8Array(codeBytes);
  const scales = ops.allocF32(groups);
  const offsets = ops.allocF32(groups);
  const out = ops.allocF32(groups * d);
  ops.quantizeUnsignedInto({ x: q, groups, groupSize: d, bits: 4, codes, bitOffset: 0, scales, offsets });
  ops.dequantizeUnsigned({ codes, bitOffset: 0, bits: 4, groups, groupSize: d, scales, offsets, out });
  ops.freeF32(scales);
  ops.freeF32(offsets);
  if (device) ops.freeF32(codes as DeviceTensor);
  return out;
}
