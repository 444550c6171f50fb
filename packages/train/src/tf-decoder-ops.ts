/**
 * The tfjs executor of the decoder: @onebit/model's `decoderForward` walks the architecture (decoder-graph.ts) over
 * these operations, so training runs the same graph as inference from the same definition. Activations are
 * [B, T, features]; weights are the model's latent float32 tf.Variables, fake-quantized on the fly (ste-quant.ts)
 * as linearQuantFor prescribes for each projection, so an export loaded by @onebit/model computes the same function.
 *
 * Tensor parallelism (Megatron-LM, arXiv 1909.08053 §3): a shard holds one of G groups of every column- and
 * row-parallel tensor. Megatron's f and g follow each tensor's role in @onebit/model's tensor table: a "column"
 * projection's input enters the parallel region (`enterParallel`: identity forward, gradient summed over shards;
 * once per shared input), a "row" projection's output leaves it (`allReduce`: summed forward, identity backward).
 */
import type { A48Stage, LinearQuant, Projection } from "@onebit/layers";
import { bitLinearSpecFor, type DecoderOps, type ModelSpec, parseTensorName, projectionKind, projectionName, tensorKind, tensorName } from "@onebit/model";
import { matMul } from "./matmul";
import { fakeQuantActivation, fakeQuantWeight } from "./ste-quant";
import { tf } from "./tf-backend";
import type { ShardContext } from "./trainable-model";

type Tensor = tf.Tensor;

/** What the operations read from the model they run (TrainableModel). */
export interface TfDecoderModel {
  readonly spec: ModelSpec;
  /** Tensor-parallel shard `index` of `count`; absent: the whole model. */
  readonly shard?: ShardContext | undefined;
  /** a4.8 stage (1: W1.58A8, 2: hybrid INT4 + Top-K); other variants ignore it. */
  readonly stage: A48Stage;
  /**
   * Training-time ablations (a4.8 arXiv 2411.04965 Fig. 4, Table 4): a projection's quantization instead of the
   * variant's (linearQuantFor). Absent: the spec's variant decides.
   */
  readonly quantOverride?: ((projection: Projection, stage: A48Stage) => LinearQuant) | undefined;
  /** When set, each projection's quantized-input zero fraction is averaged over layers into lastSparsity. */
  readonly trackSparsity: boolean;
  lastSparsity: Partial<Record<Projection, number>>;
  /** The latent weight of a canonical tensor name (this shard's block of it when sharded). */
  variable(name: string): tf.Variable;
}

/** `DecoderOps` over tfjs tensors for one forward pass of `ids` [B, T]. */
export class TfDecoderOps implements DecoderOps<Tensor> {
  private readonly batch: number;
  private readonly seqLen: number;
  /** Shards a G-way split runs in (1: unsharded). */
  private readonly count: number;
  /** Query / KV heads this model (or shard) computes. */
  private readonly heads: number;
  private readonly kvHeads: number;
  private rotation?: { cos: Tensor; sin: Tensor };
  private causalMask?: Tensor;

  constructor(
    private readonly model: TfDecoderModel,
    private readonly ids: Tensor,
  ) {
    [this.batch, this.seqLen] = ids.shape as [number, number];
    this.count = model.shard?.count ?? 1;
    this.heads = model.spec.num_attention_heads / this.count;
    this.kvHeads = model.spec.num_key_value_heads / this.count;
  }

  embed(): Tensor {
    const { batch: B, seqLen: T } = this;
    const spec = this.model.spec;
    const table = this.model.variable(tensorName(tensorKind("token_embd"), "hf"));
    // one-hot matmul instead of gather: its gradient needs no scatter kernel (tfjs-backend-wasm has none)
    return matMul(tf.oneHot(this.ids.reshape([B * T]).cast("int32"), spec.vocab_size).cast("float32"), table).reshape([B, T, spec.hidden_size]);
  }

  /**
   * RMSNorm / LayerNorm over the last axis in `groups` independent groups of features (BitNet arXiv 2310.11453 §2.3
   * group-wise LN). A gain split across shards (a sub-norm's, role "column") covers groups/count of them here: with
   * one group per shard, exactly one.
   */
  norm(x: Tensor, weight: string, groups: number): Tensor {
    const role = parseTensorName(weight, "hf")?.kind.role ?? "replicated";
    const local = role === "column" ? groups / this.count : groups;
    const eps = this.model.spec.rms_norm_eps;
    const shape = x.shape;
    const xg = local === 1 ? x : x.reshape([...shape.slice(0, -1), local, shape[shape.length - 1]! / local]);
    let y: Tensor;
    if (this.model.spec.onebit.norm === "layer") {
      const c = xg.sub(xg.mean(-1, true));
      y = c.mul(c.square().mean(-1, true).add(eps).rsqrt());
    } else y = xg.mul(xg.square().mean(-1, true).add(eps).rsqrt());
    return (local === 1 ? y : y.reshape(shape)).mul(this.model.variable(weight));
  }

  project(x: Tensor, layer: number, projections: readonly Projection[]): Tensor[] {
    const shard = this.model.shard;
    let entered: Tensor | undefined;
    return projections.map((p) => {
      const role = projectionKind(p).role;
      if (role === "column") {
        entered ??= shard ? shard.enterParallel(x) : x;
        return this.linear(entered, layer, p);
      }
      const y = this.linear(x, layer, p);
      return role === "row" && shard ? shard.allReduce(y) : y;
    });
  }

  /** A BitLinear with fake-quantized weight and input (straight-through gradients): [B, T, in] → [B, T, out]. */
  private linear(x: Tensor, layer: number, p: Projection): Tensor {
    const model = this.model;
    const ls = bitLinearSpecFor(model.spec, p, model.stage);
    const quant = model.quantOverride?.(p, model.stage) ?? ls.quant;
    // a shard's weight and input are exactly one of the G groups: statistics from the shard alone
    const groups = model.shard ? 1 : ls.groups;
    const w = fakeQuantWeight(model.variable(projectionName(layer, p)), quant.weight, { groups, groupAxis: ls.groupAxis, epsMode: ls.epsMode });
    // (a4.8's Top-K too is per group: a shard ranks its own block of each token's features)
    const xq = fakeQuantActivation(x, quant.activation, { groups: ls.groupAxis === "in" ? groups : 1, topKFraction: quant.topKFraction, epsMode: ls.epsMode });
    if (model.trackSparsity && quant.activation !== "none") {
      const zeros = xq.equal(0).cast("float32").mean().dataSync()[0]!;
      model.lastSparsity[p] = ((model.lastSparsity[p] ?? 0) * layer + zeros) / (layer + 1);
    }
    const [b, t, f] = x.shape as [number, number, number];
    return matMul(xq.reshape([b * t, f]), w, true).reshape([b, t, w.shape[0]!]);
  }

  attend(q: Tensor, k: Tensor, v: Tensor): Tensor {
    const { batch: B, seqLen: T, heads, kvHeads } = this;
    const d = this.model.spec.head_dim;
    const qh = this.rope(q.reshape([B, T, heads, d])).transpose([0, 2, 1, 3]); // [B, heads, T, d]
    let kh = this.rope(k.reshape([B, T, kvHeads, d])).transpose([0, 2, 1, 3]);
    let vh = v.reshape([B, T, kvHeads, d]).transpose([0, 2, 1, 3]);
    if (heads !== kvHeads) {
      // grouped-query attention: query head h reads KV head ⌊h / (heads/kvHeads)⌋
      // (slices + concat: tfjs has no rank-5 tile gradient and the wasm backend no gather gradient)
      const rep = heads / kvHeads;
      const expand = (t: Tensor) => tf.concat(Array.from({ length: heads }, (_, hq) => t.slice([0, Math.floor(hq / rep), 0, 0], [B, 1, T, d])), 1);
      kh = expand(kh);
      vh = expand(vh);
    }
    const scores = matMul(qh, kh, true).div(Math.sqrt(d)).add(this.mask()); // [B, heads, T, T]
    return matMul(scores.softmax(), vh).transpose([0, 2, 1, 3]).reshape([B, T, heads * d]);
  }

  gatedFfn(x: Tensor, layer: number, activation: ModelSpec["hidden_act"]): Tensor {
    const [gate, up] = this.project(x, layer, ["gate", "up"]) as [Tensor, Tensor];
    const a = activation === "relu2" ? gate.relu().square() : gate.mul(gate.sigmoid());
    return up.mul(a);
  }

  residual(x: Tensor, branch: Tensor): Tensor {
    return x.add(branch);
  }

  logits(x: Tensor): Tensor {
    const { batch: B, seqLen: T } = this;
    const spec = this.model.spec;
    const head = this.model.variable(tensorName(tensorKind(spec.tie_word_embeddings ? "token_embd" : "output"), "hf"));
    return matMul(x.reshape([B * T, spec.hidden_size]), head, true).reshape([B, T, spec.vocab_size]);
  }

  /** 0 on and below the diagonal, −1e9 above: [1, 1, T, T]. */
  private mask(): Tensor {
    const T = this.seqLen;
    this.causalMask ??= tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9).reshape([1, 1, T, T]);
    return this.causalMask;
  }

  /** RoPE on [B, T, heads, d] for positions 0..T−1, matching @onebit/kernels' ropeImpl (RoFormer, arXiv 2104.09864). */
  private rope(x: Tensor): Tensor {
    const spec = this.model.spec;
    const T = this.seqLen;
    const d = spec.head_dim;
    const half = d / 2;
    if (!this.rotation) {
      const ang = new Float32Array(T * half);
      for (let p = 0; p < T; p++) for (let i = 0; i < half; i++) ang[p * half + i] = p * spec.rope_theta ** ((-2 * i) / d);
      const angles = tf.tensor(ang, [1, T, 1, half]);
      this.rotation = { cos: angles.cos(), sin: angles.sin() };
    }
    const { cos, sin } = this.rotation;
    if (spec.onebit.rope_style === "half") {
      const [x1, x2] = tf.split(x, 2, -1) as [Tensor, Tensor];
      return tf.concat([x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))], -1);
    }
    const pairs = x.reshape([...x.shape.slice(0, 3), half, 2]);
    const [a, b] = tf.split(pairs, 2, -1) as [Tensor, Tensor];
    const c = cos.expandDims(-1);
    const s = sin.expandDims(-1);
    return tf.concat([a.mul(c).sub(b.mul(s)), b.mul(c).add(a.mul(s))], -1).reshape(x.shape);
  }
}
