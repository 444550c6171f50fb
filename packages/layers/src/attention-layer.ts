/**
 * Self-attention of a LLaMA-alike block: q, k, v BitLinear → RoPE → KV cache → causal GQA attention → optional
 * attn_sub_norm → o_proj (BitLinear). Shapes: x [tokens, hidden] → q [tokens, heads·d], k/v [tokens, kvHeads·d].
 */
import { type Activations, type Backend, hostArray, type PackedLinearWeight } from "@onebit/kernels";
import { attendCached, type KvCache } from "@onebit/kv";
import { BitLinear, type BitLinearSpec, forwardShared, projectionsOfOneInput } from "./bit-linear";
import { LayerSpecError } from "./layer-spec-error";
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
    if (spec.heads % spec.kvHeads !== 0) throw new LayerSpecError(`attention.kvHeads: ${spec.kvHeads} must divide heads ${spec.heads}`);
    // placed together: on wasm one weight over their rows, one bitLinear for the three (projectionsOfOneInput)
    [this.q, this.k, this.v] = projectionsOfOneInput([spec.q, spec.k, spec.v], [weights.q, weights.k, weights.v], backend) as [BitLinear, BitLinear, BitLinear];
    this.o = new BitLinear(spec.o, weights.o, backend);
    if (spec.subNorm && !weights.subNorm) throw new LayerSpecError("attn_sub_norm: the spec has a sub-norm but no weight was given");
    this.subNorm = spec.subNorm ? new Norm(spec.subNorm, weights.subNorm!, backend) : null;
  }

  /** x [tokens, hidden] at positions start..start+tokens−1 of the sequence in `cache`. */
  forward(x: Activations, tokens: number, cache: KvCache, layer: number, start: number): Activations {
    const [q, k, v] = forwardShared([this.q, this.k, this.v], x, tokens) as [Activations, Activations, Activations];
    return this.output(this.attendProjected(q, k, v, tokens, cache, layer, start), tokens);
  }

  /**
   * q [tokens, heads·d], k/v [tokens, kvHeads·d] already projected → RoPE → the cache → causal attention →
   * attention [tokens, heads·d] (before the sub-norm and o, which `output` applies; the decoder graph calls the
   * projections, this, the sub-norm and o as separate steps). `out` (host backends) receives the attention.
   */
  attendProjected(q: Activations, k: Activations, v: Activations, tokens: number, cache: KvCache, layer: number, start: number, out?: Float32Array): Activations {
    const { heads, kvHeads, headDim, ropeTheta: theta, ropeStyle: style } = this.spec;
    const positions = new Int32Array(tokens); // (Int32Array.from with a mapping function: ≈ 1 µs a decode step's call, in its profile)
    for (let t = 0; t < tokens; t++) positions[t] = start + t;
    this.backend.rope({ x: q, tokens, heads, headDim, positions, theta, style });
    this.backend.rope({ x: k, tokens, heads: kvHeads, headDim, positions, theta, style });
    cache.write(layer, start, tokens, k, v); // post-RoPE, as a4.8 quantizes it
    return attendCached(cache, layer, q, tokens, heads, start, { queryBits: this.spec.queryBits, backend: this.backend, out });
  }

  /**
   * One decode step of B independent sequences: row b of x [B, hidden] is the next token of the sequence in
   * caches[b], at position starts[b]. The q/k/v/o projections run once over all B rows (the batched kernel path;
   * activations are quantized per token, so a row's result does not depend on its neighbours); RoPE, the cache
   * write and attention are per sequence, each against its own cache.
   */
  forwardBatch(x: Activations, caches: readonly KvCache[], layer: number, starts: readonly number[]): Activations {
    const [q, k, v] = forwardShared([this.q, this.k, this.v], x, caches.length) as [Activations, Activations, Activations];
    return this.output(this.attendBatch(q, k, v, caches, layer, starts), caches.length);
  }

  /** forwardBatch after the projections: q [B, heads·d], k/v [B, kvHeads·d] → [B, heads·d] (host backends). */
  attendBatch(qAny: Activations, kAny: Activations, vAny: Activations, caches: readonly KvCache[], layer: number, starts: readonly number[]): Activations {
    const { heads, kvHeads, headDim, ropeTheta: theta, ropeStyle: style } = this.spec;
    const batch = caches.length;
    if (starts.length !== batch) throw new LayerSpecError(`attention.forwardBatch starts: expected ${batch} positions (one per cache), found ${starts.length}`);
    // each sequence reads its own rows: host memory (a device backend decodes one sequence per step)
    const q = hostArray(qAny, "attention.forwardBatch q");
    const k = hostArray(kAny, "attention.forwardBatch k");
    const v = hostArray(vAny, "attention.forwardBatch v");
    const positions = Int32Array.from(starts);
    this.backend.rope({ x: q, tokens: batch, heads, headDim, positions, theta, style });
    this.backend.rope({ x: k, tokens: batch, heads: kvHeads, headDim, positions, theta, style });
    const qWidth = heads * headDim;
    const kvWidth = kvHeads * headDim;
    const att = new Float32Array(batch * qWidth);
    for (let b = 0; b < batch; b++) {
      const cache = caches[b]!;
      const start = starts[b]!;
      cache.write(layer, start, 1, k.subarray(b * kvWidth, (b + 1) * kvWidth), v.subarray(b * kvWidth, (b + 1) * kvWidth));
      const qb = q.subarray(b * qWidth, (b + 1) * qWidth);
      att.set(hostArray(attendCached(cache, layer, qb, 1, heads, start, { queryBits: this.spec.queryBits, backend: this.backend }), "attention"), b * qWidth);
    }
    return att;
  }

  /** The attention output [tokens, heads·d] → sub-norm → o projection: [tokens, hidden]. */
  output(att: Activations, tokens: number): Activations {
    const h = this.subNorm ? this.subNorm.forward(att, tokens) : att;
    return this.o.forward(h, tokens);
  }
}
