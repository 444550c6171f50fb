/**
 * Self-attention of a LLaMA-alike block: q, k, v BitLinear → RoPE → KV cache → causal GQA attention → optional
 * attn_sub_norm → o_proj (BitLinear). Shapes: x [tokens, hidden] → q [tokens, heads·d], k/v [tokens, kvHeads·d].
 */
import type { Backend, PackedLinearWeight } from "@onebit/kernels";
import { attendCached, type KvCache } from "@onebit/kv";
import { BitLinear, type BitLinearSpec, forwardShared } from "./bit-linear";
import { Norm, type NormSpec } from "./norm";

export interface AttentionSpec {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  ropeStyle: "half" | "interleaved";
  q: BitLinearSpec;
  k: BitLinearSpec;
  v: BitLinearSpec;
  o: BitLinearSpec;
  subNorm: NormSpec | null;
  /** a4.8 4-bit queries (with a 4/3-bit KV cache: 4-bit QKV heads). */
  queryBits?: 4;
}

export interface AttentionWeights {
  q: Float32Array | PackedLinearWeight;
  k: Float32Array | PackedLinearWeight;
  v: Float32Array | PackedLinearWeight;
  o: Float32Array | PackedLinearWeight;
  subNorm?: Float32Array;
}

export class AttentionLayer {
  readonly q: BitLinear;
  readonly k: BitLinear;
  readonly v: BitLinear;
  readonly o: BitLinear;
  readonly subNorm: Norm | null;

  constructor(
    readonly spec: AttentionSpec,
    weights: AttentionWeights,
    private readonly backend: Backend,
  ) {
    if (spec.heads % spec.kvHeads !== 0) throw new RangeError(`attention.kvHeads: ${spec.kvHeads} must divide heads ${spec.heads}`);
    this.q = new BitLinear(spec.q, weights.q, backend);
    this.k = new BitLinear(spec.k, weights.k, backend);
    this.v = new BitLinear(spec.v, weights.v, backend);
    this.o = new BitLinear(spec.o, weights.o, backend);
    if (spec.subNorm && !weights.subNorm) throw new RangeError("attn_sub_norm: the spec has a sub-norm but no weight was given");
    this.subNorm = spec.subNorm ? new Norm(spec.subNorm, weights.subNorm!) : null;
  }

  /** x [tokens, hidden] at positions start..start+tokens−1 of the sequence in `cache`. */
  forward(x: Float32Array, tokens: number, cache: KvCache, layer: number, start: number): Float32Array {
    const { heads, kvHeads, headDim, ropeTheta, ropeStyle } = this.spec;
    const positions = Int32Array.from({ length: tokens }, (_, t) => start + t);
    const [q, k, v] = forwardShared([this.q, this.k, this.v], x, tokens) as [Float32Array, Float32Array, Float32Array];
    this.backend.rope(q, tokens, heads, headDim, positions, ropeTheta, ropeStyle);
    this.backend.rope(k, tokens, kvHeads, headDim, positions, ropeTheta, ropeStyle);
    cache.write(layer, start, tokens, k, v); // post-RoPE, as a4.8 quantizes it
    const att = attendCached(cache, layer, q, tokens, heads, start, { queryBits: this.spec.queryBits, backend: this.backend });
    const h = this.subNorm ? this.subNorm.forward(att, tokens) : att;
    return this.o.forward(h, tokens);
  }

  /**
   * One decode step of B independent sequences: row b of x [B, hidden] is the next token of the sequence in
   * caches[b], at position starts[b]. The q/k/v/o projections run once over all B rows (the batched kernel path;
   * activations are quantized per token, so a row's result does not depend on its neighbours); RoPE, the cache
   * write and attention are per sequence, each against its own cache.
   */
  forwardBatch(x: Float32Array, caches: readonly KvCache[], layer: number, starts: readonly number[]): Float32Array {
    const { heads, kvHeads, headDim, ropeTheta, ropeStyle } = this.spec;
    const batch = caches.length;
    if (starts.length !== batch) throw new RangeError(`attention.forwardBatch starts: expected ${batch} positions (one per cache), found ${starts.length}`);
    const positions = Int32Array.from(starts);
    const [q, k, v] = forwardShared([this.q, this.k, this.v], x, batch) as [Float32Array, Float32Array, Float32Array];
    this.backend.rope(q, batch, heads, headDim, positions, ropeTheta, ropeStyle);
    this.backend.rope(k, batch, kvHeads, headDim, positions, ropeTheta, ropeStyle);
    const qWidth = heads * headDim;
    const kvWidth = kvHeads * headDim;
    const att = new Float32Array(batch * qWidth);
    for (let b = 0; b < batch; b++) {
      const cache = caches[b]!;
      const start = starts[b]!;
      cache.write(layer, start, 1, k.subarray(b * kvWidth, (b + 1) * kvWidth), v.subarray(b * kvWidth, (b + 1) * kvWidth));
      const qb = q.subarray(b * qWidth, (b + 1) * qWidth);
      att.set(attendCached(cache, layer, qb, 1, heads, start, { queryBits: this.spec.queryBits, backend: this.backend }), b * qWidth);
    }
    const h = this.subNorm ? this.subNorm.forward(att, batch) : att;
    return this.o.forward(h, batch);
  }
}
