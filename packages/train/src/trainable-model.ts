/**
 * The tfjs executor of a ModelSpec (docs/design.md invariant 3: one description, two executors). Latent weights are
 * full-precision tf.Variables named exactly as @onebit/model's tensors; the forward pass quantizes them on the fly
 * (ste-quant.ts) as linearQuantFor prescribes, so an export loaded by @onebit/model computes the same function.
 * Shapes: ids [B, T] → x [B, T, hidden] → logits [B, T, vocab].
 */
import type { A48Stage, Projection } from "@onebit/layers";
import { bitLinearSpecFor, initWeights, type ModelSpec, projectionName, type TensorInfo, tensorList } from "@onebit/model";
import { fakeQuantActivation, fakeQuantWeight } from "./ste-quant";
import { tf } from "./tf-backend";
import { matMul } from "./matmul";

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

export class TrainableModel {
  readonly variables = new Map<string, tf.Variable>();
  /** a4.8 stage (1: W1.58A8, 2: hybrid INT4 + Top-K); other variants ignore it. */
  stage: A48Stage = 1;
  /** Zero fraction of each projection's quantized input in the last forward pass (when tracked). */
  lastSparsity: Partial<Record<Projection, number>> = {};
  trackSparsity = false;

  /** Query / KV heads this model (or shard) computes. */
  private readonly localHeads: number;
  private readonly localKvHeads: number;

  constructor(
    readonly spec: ModelSpec,
    init: Map<string, Float32Array> = initWeights(spec, 1),
    /** Tensor-parallel shard `index` of `count` (parallel-trainer.ts); absent: the whole model in one process. */
    readonly shard?: ShardContext,
  ) {
    const count = shard?.count ?? 1;
    if (shard && spec.onebit.groups !== count) throw new RangeError(`TrainableModel: ${count} shards need onebit.groups = ${count}, the spec has ${spec.onebit.groups}`);
    if (spec.num_key_value_heads % count !== 0) throw new RangeError(`TrainableModel: num_key_value_heads ${spec.num_key_value_heads} does not split into ${count} shards`);
    this.localHeads = spec.num_attention_heads / count;
    this.localKvHeads = spec.num_key_value_heads / count;
    for (const t of tensorList(spec)) {
      const v = init.get(t.name);
      if (!v) throw new RangeError(`TrainableModel: initial tensor "${t.name}" is missing`);
      const [value, shape] = shard ? shardOf(t, v, shard.index, count) : [v, t.shape];
      this.variables.set(t.name, tf.variable(tf.tensor(value, shape), true, t.name));
    }
  }

  private v(name: string): tf.Variable {
    const x = this.variables.get(name);
    if (!x) throw new RangeError(`TrainableModel: no variable "${name}"`);
    return x;
  }

  /** RMSNorm / LayerNorm over the last axis, in `groups` independent groups of features (BitNet arXiv 2310.11453 §2.3 group-wise LN). */
  private rmsNorm(x: Tensor, gain: Tensor, groups = 1): Tensor {
    const eps = this.spec.rms_norm_eps;
    const shape = x.shape;
    const xg = groups === 1 ? x : x.reshape([...shape.slice(0, -1), groups, shape[shape.length - 1]! / groups]);
    let y: Tensor;
    if (this.spec.onebit.norm === "layer") {
      const c = xg.sub(xg.mean(-1, true));
      y = c.mul(c.square().mean(-1, true).add(eps).rsqrt());
    } else y = xg.mul(xg.square().mean(-1, true).add(eps).rsqrt());
    return (groups === 1 ? y : y.reshape(shape)).mul(gain);
  }

  /** Sub-norms (before o and down) are group-wise with G groups; a shard holds exactly one group. */
  private subNorm(x: Tensor, gain: Tensor): Tensor {
    return this.rmsNorm(x, gain, this.shard ? 1 : this.spec.onebit.groups);
  }

  private linear(x: Tensor, layer: number, p: Projection): Tensor {
    const ls = bitLinearSpecFor(this.spec, p, this.stage);
    // a shard's weight and input are exactly one of the G groups: statistics from the shard alone
    const groups = this.shard ? 1 : ls.groups;
    const w = fakeQuantWeight(this.v(projectionName(layer, p)), ls.quant.weight, { groups, groupAxis: ls.groupAxis, epsMode: ls.epsMode });
    // (a4.8's Top-K too is per group: a shard ranks its own block of each token's features)
    const xq = fakeQuantActivation(x, ls.quant.activation, { groups: ls.groupAxis === "in" ? groups : 1, topKFraction: ls.quant.topKFraction, epsMode: ls.epsMode });
    if (this.trackSparsity && ls.quant.activation !== "none") {
      const zeros = xq.equal(0).cast("float32").mean().dataSync()[0]!;
      this.lastSparsity[p] = ((this.lastSparsity[p] ?? 0) * layer + zeros) / (layer + 1);
    }
    const [b, t, f] = x.shape as [number, number, number];
    return matMul(xq.reshape([b * t, f]), w, true).reshape([b, t, w.shape[0]!]);
  }

  /** RoPE on [B, T, heads, d] for positions 0..T−1, matching @onebit/kernels' ropeImpl. */
  private rope(x: Tensor): Tensor {
    const [, t, , d] = x.shape as [number, number, number, number];
    const half = d / 2;
    const theta = this.spec.rope_theta;
    const ang = new Float32Array(t * half);
    for (let p = 0; p < t; p++) for (let i = 0; i < half; i++) ang[p * half + i] = p * theta ** ((-2 * i) / d);
    const angles = tf.tensor(ang, [1, t, 1, half]);
    const cos = angles.cos();
    const sin = angles.sin();
    if (this.spec.onebit.rope_style === "half") {
      const [x1, x2] = tf.split(x, 2, -1) as [Tensor, Tensor];
      return tf.concat([x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))], -1);
    }
    const pairs = x.reshape([...x.shape.slice(0, 3), half, 2]);
    const [a, b] = tf.split(pairs, 2, -1) as [Tensor, Tensor];
    const c = cos.expandDims(-1);
    const s = sin.expandDims(-1);
    return tf.concat([a.mul(c).sub(b.mul(s)), b.mul(c).add(a.mul(s))], -1).reshape(x.shape);
  }

  /** ids [B, T] → logits [B, T, vocab]. */
  forward(ids: Tensor): Tensor {
    const spec = this.spec;
    const [B, T] = ids.shape as [number, number];
    const H = spec.hidden_size;
    const heads = this.localHeads;
    const kvHeads = this.localKvHeads;
    // Megatron's f and g: column-parallel inputs all-reduce their gradient, row-parallel outputs their value
    const enter = (t: Tensor) => (this.shard ? this.shard.enterParallel(t) : t);
    const reduce = (t: Tensor) => (this.shard ? this.shard.allReduce(t) : t);
    const d = spec.head_dim;
    const embed = this.v("model.embed_tokens.weight");
    // one-hot matmul instead of gather: its gradient needs no scatter kernel (tfjs-backend-wasm has none)
    let x = matMul(tf.oneHot(ids.reshape([B * T]).cast("int32"), spec.vocab_size).cast("float32"), embed).reshape([B, T, H]);
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9).reshape([1, 1, T, T]); // 0 on/below the diagonal, −1e9 above
    for (let l = 0; l < spec.num_hidden_layers; l++) {
      const h = enter(this.rmsNorm(x, this.v(`model.layers.${l}.input_layernorm.weight`)));
      const q = this.rope(this.linear(h, l, "q").reshape([B, T, heads, d])).transpose([0, 2, 1, 3]); // [B, heads, T, d]
      let k = this.rope(this.linear(h, l, "k").reshape([B, T, kvHeads, d])).transpose([0, 2, 1, 3]);
      let v = this.linear(h, l, "v").reshape([B, T, kvHeads, d]).transpose([0, 2, 1, 3]);
      if (heads !== kvHeads) {
        // grouped-query attention: query head h reads KV head ⌊h / (heads/kvHeads)⌋
        // (slices + concat: tfjs has no rank-5 tile gradient and the wasm backend no gather gradient)
        const rep = heads / kvHeads;
        const expand = (t: Tensor) => tf.concat(Array.from({ length: heads }, (_, hq) => t.slice([0, Math.floor(hq / rep), 0, 0], [B, 1, T, d])), 1);
        k = expand(k);
        v = expand(v);
      }
      const scores = matMul(q, k, true).div(Math.sqrt(d)).add(mask); // [B, heads, T, T]
      let att = matMul(scores.softmax(), v).transpose([0, 2, 1, 3]).reshape([B, T, heads * d]);
      if (spec.onebit.sub_norm) att = this.subNorm(att, this.v(`model.layers.${l}.self_attn.attn_sub_norm.weight`));
      x = x.add(reduce(this.linear(att, l, "o")));
      const f = enter(this.rmsNorm(x, this.v(`model.layers.${l}.post_attention_layernorm.weight`)));
      const g = this.linear(f, l, "gate");
      const a = spec.hidden_act === "relu2" ? g.relu().square() : g.mul(g.sigmoid());
      let m = this.linear(f, l, "up").mul(a);
      if (spec.onebit.sub_norm) m = this.subNorm(m, this.v(`model.layers.${l}.mlp.ffn_sub_norm.weight`));
      x = x.add(reduce(this.linear(m, l, "down")));
    }
    const out = this.rmsNorm(x, this.v("model.norm.weight")).reshape([B * T, H]);
    const head = spec.tie_word_embeddings ? embed : this.v("lm_head.weight");
    return matMul(out, head, true).reshape([B, T, spec.vocab_size]);
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
