/**
 * The tfjs executor of a ModelSpec (ARCHITECTURE invariant 3: one description, two executors). Latent weights are
 * full-precision tf.Variables named exactly as @onebit/model's tensors; the forward pass quantizes them on the fly
 * (ste-quant.ts) as linearQuantFor prescribes, so an export loaded by @onebit/model computes the same function.
 * Shapes: ids [B, T] → x [B, T, hidden] → logits [B, T, vocab].
 */
import { type A48Stage, type Projection } from "@onebit/layers";
import { bitLinearSpecFor, initWeights, type ModelSpec, projectionName, tensorList } from "@onebit/model";
import { fakeQuantActivation, fakeQuantWeight } from "./ste-quant";
import { tf } from "./tf-backend";
import { matMul } from "./matmul";

type Tensor = tf.Tensor;

export class TrainableModel {
  readonly variables = new Map<string, tf.Variable>();
  /** a4.8 stage (1: W1.58A8, 2: hybrid INT4 + Top-K); other variants ignore it. */
  stage: A48Stage = 1;
  /** Zero fraction of each projection's quantized input in the last forward pass (when tracked). */
  lastSparsity: Partial<Record<Projection, number>> = {};
  trackSparsity = false;

  constructor(
    readonly spec: ModelSpec,
    init: Map<string, Float32Array> = initWeights(spec, 1),
  ) {
    for (const t of tensorList(spec)) {
      const v = init.get(t.name);
      if (!v) throw new RangeError(`TrainableModel: initial tensor "${t.name}" is missing`);
      this.variables.set(t.name, tf.variable(tf.tensor(v, t.shape), true, t.name));
    }
  }

  private v(name: string): tf.Variable {
    const x = this.variables.get(name);
    if (!x) throw new RangeError(`TrainableModel: no variable "${name}"`);
    return x;
  }

  private rmsNorm(x: Tensor, gain: Tensor): Tensor {
    const eps = this.spec.rms_norm_eps;
    if (this.spec.onebit.norm === "layer") {
      const mean = x.mean(-1, true);
      const c = x.sub(mean);
      return c.mul(c.square().mean(-1, true).add(eps).rsqrt()).mul(gain);
    }
    return x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(gain);
  }

  private linear(x: Tensor, layer: number, p: Projection): Tensor {
    const ls = bitLinearSpecFor(this.spec, p, this.stage);
    const w = fakeQuantWeight(this.v(projectionName(layer, p)), ls.quant.weight, { groups: ls.groups, groupAxis: ls.groupAxis, epsMode: ls.epsMode });
    const xq = fakeQuantActivation(x, ls.quant.activation, { groups: ls.groupAxis === "in" ? ls.groups : 1, topKFraction: ls.quant.topKFraction, epsMode: ls.epsMode });
    if (this.trackSparsity && ls.quant.activation !== "none") {
      const zeros = xq.equal(0).cast("float32").mean().dataSync()[0]!;
      this.lastSparsity[p] = ((this.lastSparsity[p] ?? 0) * layer + zeros) / (layer + 1);
    }
    const [b, t, f] = x.shape as [number, number, number];
    return matMul(xq.reshape([b * t, f]), w, true).reshape([b, t, ls.outFeatures]);
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
    const heads = spec.num_attention_heads;
    const kvHeads = spec.num_key_value_heads;
    const d = spec.head_dim;
    const embed = this.v("model.embed_tokens.weight");
    // one-hot matmul instead of gather: its gradient needs no scatter kernel (tfjs-backend-wasm has none)
    let x = matMul(tf.oneHot(ids.reshape([B * T]).cast("int32"), spec.vocab_size).cast("float32"), embed).reshape([B, T, H]);
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9).reshape([1, 1, T, T]); // 0 on/below the diagonal, −1e9 above
    for (let l = 0; l < spec.num_hidden_layers; l++) {
      const h = this.rmsNorm(x, this.v(`model.layers.${l}.input_layernorm.weight`));
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
      if (spec.onebit.sub_norm) att = this.rmsNorm(att, this.v(`model.layers.${l}.self_attn.attn_sub_norm.weight`));
      x = x.add(this.linear(att, l, "o"));
      const f = this.rmsNorm(x, this.v(`model.layers.${l}.post_attention_layernorm.weight`));
      const g = this.linear(f, l, "gate");
      const a = spec.hidden_act === "relu2" ? g.relu().square() : g.mul(g.sigmoid());
      let m = this.linear(f, l, "up").mul(a);
      if (spec.onebit.sub_norm) m = this.rmsNorm(m, this.v(`model.layers.${l}.mlp.ffn_sub_norm.weight`));
      x = x.add(this.linear(m, l, "down"));
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
