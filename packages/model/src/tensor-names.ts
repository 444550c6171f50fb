/**
 * Tensor names (Hugging Face LLaMA / BitNet) and shapes of a ModelSpec, and per-component parameter counts.
 */
import type { Projection } from "@onebit/layers";
import type { ModelSpec } from "./model-spec";

export interface TensorInfo {
  name: string;
  shape: [number, number] | [number];
  /** The block projection this tensor is, if it is one (quantized unless the variant is fp). */
  projection?: Projection;
  layer?: number;
  component: "embedding" | "attention" | "ffn" | "norm" | "lm_head";
}

export function projectionShape(spec: ModelSpec, p: Projection): [out: number, inF: number] {
  const h = spec.hidden_size;
  const d = spec.head_dim;
  switch (p) {
    case "q":
      return [spec.num_attention_heads * d, h];
    case "k":
    case "v":
      return [spec.num_key_value_heads * d, h];
    case "o":
      return [h, spec.num_attention_heads * d];
    case "gate":
    case "up":
      return [spec.intermediate_size, h];
    case "down":
      return [h, spec.intermediate_size];
  }
}

const HF_NAME: Record<Projection, string> = {
  q: "self_attn.q_proj",
  k: "self_attn.k_proj",
  v: "self_attn.v_proj",
  o: "self_attn.o_proj",
  gate: "mlp.gate_proj",
  up: "mlp.up_proj",
  down: "mlp.down_proj",
};

export function projectionName(layer: number, p: Projection): string {
  return `model.layers.${layer}.${HF_NAME[p]}.weight`;
}

export function tensorList(spec: ModelSpec): TensorInfo[] {
  const h = spec.hidden_size;
  const list: TensorInfo[] = [{ name: "model.embed_tokens.weight", shape: [spec.vocab_size, h], component: "embedding" }];
  for (let l = 0; l < spec.num_hidden_layers; l++) {
    list.push({ name: `model.layers.${l}.input_layernorm.weight`, shape: [h], layer: l, component: "norm" });
    for (const p of ["q", "k", "v", "o"] as const) list.push({ name: projectionName(l, p), shape: projectionShape(spec, p), projection: p, layer: l, component: "attention" });
    if (spec.onebit.sub_norm) list.push({ name: `model.layers.${l}.self_attn.attn_sub_norm.weight`, shape: [spec.num_attention_heads * spec.head_dim], layer: l, component: "norm" });
    list.push({ name: `model.layers.${l}.post_attention_layernorm.weight`, shape: [h], layer: l, component: "norm" });
    for (const p of ["gate", "up", "down"] as const) list.push({ name: projectionName(l, p), shape: projectionShape(spec, p), projection: p, layer: l, component: "ffn" });
    if (spec.onebit.sub_norm) list.push({ name: `model.layers.${l}.mlp.ffn_sub_norm.weight`, shape: [spec.intermediate_size], layer: l, component: "norm" });
  }
  list.push({ name: "model.norm.weight", shape: [h], component: "norm" });
  if (!spec.tie_word_embeddings) list.push({ name: "lm_head.weight", shape: [spec.vocab_size, h], component: "lm_head" });
  return list;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameters by component and in total. */
export function parameterCounts(spec: ModelSpec): Record<TensorInfo["component"] | "total", number> {
  const counts = { embedding: 0, attention: 0, ffn: 0, norm: 0, lm_head: 0, total: 0 };
  for (const t of tensorList(spec)) {
    counts[t.component] += numel(t.shape);
    counts.total += numel(t.shape);
  }
  return counts;
}

/** Seeded initialisation: N(0, 0.02²) matrices (LLaMA-style), ones for norm gains. */
export function initWeights(spec: ModelSpec, seed = 1, std = 0.02): Map<string, Float32Array> {
  let s = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  const weights = new Map<string, Float32Array>();
  for (const t of tensorList(spec)) {
    const a = new Float32Array(numel(t.shape));
    if (t.component === "norm") a.fill(1);
    else
      for (let i = 0; i < a.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(uniform())) * std;
        const th = 2 * Math.PI * uniform();
        a[i] = r * Math.cos(th);
        if (i + 1 < a.length) a[i + 1] = r * Math.sin(th);
      }
    weights.set(t.name, a);
  }
  return weights;
}
