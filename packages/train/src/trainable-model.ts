/**
 * The trainable model of a ModelSpec (docs/design.md invariant 3: one description, two executors). Latent weights are
 * full-precision tf.Variables named exactly as @onebit/model's tensors (this shard's block of each when tensor-parallel,
 * shardOf / unshard by the tensor table's roles). There is no forward pass written here: `forward` is @onebit/model's
 * `decoderForward` — the one definition of the architecture, which the inference Transformer runs too — over the tfjs
 * operations of tf-decoder-ops.ts, which quantize the weights on the fly as linearQuantFor prescribes, so an export
 * loaded by @onebit/model computes the same function. Shapes: ids [B, T] → logits [B, T, vocab].
 */
import type { A48Stage, LinearQuant, Projection } from "@onebit/layers";
import { decoderForward, initWeights, type ModelSpec, type TensorInfo, tensorList } from "@onebit/model";
import { tf } from "./tf-backend";
import { type TfDecoderModel, TfDecoderOps } from "./tf-decoder-ops";

type Tensor = tf.Tensor;

/** What a tensor-parallel shard needs from its peers (parallel-trainer.ts implements it over SharedArrayBuffer). */
export interface ShardContext {
  index: number;
  count: number;
  /** Forward: the sum of every shard's tensor; backward: identity (row-parallel outputs). */
  allReduce(t: Tensor): Tensor;
  /** Forward: identity; backward: the sum of every shard's gradient (column-parallel inputs). */
  enterParallel(t: Tensor): Tensor;
}

/**
 * Shard `index` of `count` of one tensor: column-parallel projections (q, k, v, gate, up) keep a block of rows,
 * row-parallel ones (o, down) a block of columns, sub-norm gains the matching block; everything else is replicated.
 */
export function shardOf(t: TensorInfo, v: Float32Array, index: number, count: number): [Float32Array, number[]] {
  if (count === 1 || t.role === "replicated") return [v, [...t.shape]];
  if (t.role === "row") {
    const [out, inF] = t.shape as [number, number]; // [out, in] → [out, in/count]
    const w = inF / count;
    const s = new Float32Array(out * w);
    for (let r = 0; r < out; r++) s.set(v.subarray(r * inF + index * w, r * inF + (index + 1) * w), r * w);
    return [s, [out, w]];
  }
  // column: a block of the outermost axis ([out, in] → [out/count, in]; a sub-norm gain [n] → [n/count])
  const rows = t.shape[0]! / count;
  const rowSize = t.shape.length === 2 ? t.shape[1]! : 1;
  return [v.slice(index * rows * rowSize, (index + 1) * rows * rowSize), t.shape.length === 2 ? [rows, rowSize] : [rows]];
}

/** Inverse of shardOf: the full tensor from every shard's part (in shard order). */
export function unshard(t: TensorInfo, parts: Float32Array[]): Float32Array {
  const count = parts.length;
  if (count === 1) return parts[0]!;
  if (t.role === "row") {
    const [out, inF] = t.shape as [number, number];
    const w = inF / count;
    const full = new Float32Array(out * inF);
    parts.forEach((p, g) => {
      for (let r = 0; r < out; r++) full.set(p.subarray(r * w, (r + 1) * w), r * inF + g * w);
    });
    return full;
  }
  if (t.role !== "replicated") {
    const full = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      full.set(p, off);
      off += p.length;
    }
    return full;
  }
  return parts[0]!; // replicated: every shard holds the same values
}

export class TrainableModel implements TfDecoderModel {
  readonly variables = new Map<string, tf.Variable>();
  /** a4.8 stage (1: W1.58A8, 2: hybrid INT4 + Top-K); other variants ignore it. */
  stage: A48Stage = 1;
  /** Zero fraction of each projection's quantized input in the last forward pass (when tracked). */
  lastSparsity: Partial<Record<Projection, number>> = {};
  trackSparsity = false;
  /**
   * Training-time ablations (a4.8 arXiv 2411.04965 Fig. 4, Table 4): each projection's quantization instead of
   * the variant's (linearQuantFor) — e.g. INT4 on every input, another Top-K fraction. Unset: the spec decides.
   */
  quantOverride?: (projection: Projection, stage: A48Stage) => LinearQuant;

  constructor(
    readonly spec: ModelSpec,
    init: Map<string, Float32Array> = initWeights(spec, 1),
    /** Tensor-parallel shard `index` of `count` (parallel-trainer.ts); absent: the whole model in one process. */
    readonly shard?: ShardContext,
  ) {
    const count = shard?.count ?? 1;
    if (shard && spec.onebit.groups !== count) throw new RangeError(`TrainableModel: ${count} shards need onebit.groups = ${count}, the spec has ${spec.onebit.groups}`);
    if (spec.num_key_value_heads % count !== 0) throw new RangeError(`TrainableModel: num_key_value_heads ${spec.num_key_value_heads} does not split into ${count} shards`);
    for (const t of tensorList(spec)) {
      const v = init.get(t.name);
      if (!v) throw new RangeError(`TrainableModel: initial tensor "${t.name}" is missing`);
      const [value, shape] = shard ? shardOf(t, v, shard.index, count) : [v, t.shape];
      this.variables.set(t.name, tf.variable(tf.tensor(value, shape), true, t.name));
    }
  }

  /** The latent weight of a canonical tensor name (this shard's block of it when sharded). */
  variable(name: string): tf.Variable {
    const x = this.variables.get(name);
    if (!x) throw new RangeError(`TrainableModel: no variable "${name}"`);
    return x;
  }

  /** ids [B, T] → logits [B, T, vocab]: the architecture's decoder (@onebit/model decoderForward) on tfjs. */
  forward(ids: Tensor): Tensor {
    return decoderForward(this.spec, new TfDecoderOps(this, ids));
  }

  /** Mean next-token cross-entropy of batch [B, T+1] (inputs = all but the last, targets = all but the first). */
  loss(batch: Tensor): tf.Scalar {
    const [B, T1] = batch.shape as [number, number];
    const inputs = batch.slice([0, 0], [B, T1 - 1]);
    const targets = batch.slice([0, 1], [B, T1 - 1]).reshape([B * (T1 - 1)]).cast("int32");
    const logits = this.forward(inputs).reshape([B * (T1 - 1), this.spec.vocab_size]);
    const logp = logits.logSoftmax();
    return logp.mul(tf.oneHot(targets, this.spec.vocab_size).cast("float32")).sum(-1).mean().neg() as tf.Scalar;
  }

  /** The latent weights as plain arrays (for checkpoints and export). */
  weights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.variables) out.set(name, v.dataSync() as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
