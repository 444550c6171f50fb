/**
 * Every tensor a LLaMA-alike 1-bit decoder can have, once: its name in each file format, its shape from the
 * spec, what it is (component, projection) and how tensor-parallel training splits it (role). Architectures pick
 * the kinds they carry (see architecture.ts); loaders, writers, the Transformer, training and `inspect` all read
 * names and roles from here — nothing matches tensor names by string suffix.
 *
 * Names: "hf" is Hugging Face LLaMA/BitNet (`model.layers.{l}.self_attn.q_proj.weight`, also onebit's own
 * checkpoints); "gguf" is llama.cpp's (`blk.{l}.attn_q.weight`, llama.cpp src/llama-arch.cpp LLM_TENSOR_NAMES).
 */
import type { Projection } from "@onebit/layers";
import type { ModelSpec } from "../model-spec";
import { ModelInputError } from "../model-input-error";

/**
 * How G-way tensor parallelism splits a tensor (Megatron-LM, Shoeybi et al. 2019 §3): "column" keeps a block of
 * output rows (q, k, v, gate, up — and the sub-norm gains over those outputs), "row" keeps a block of input
 * columns (o, down), "replicated" is held whole by every worker (embeddings, pre-norms, the final norm).
 */
export type TensorRole = "column" | "row" | "replicated";
export type TensorComponent = "embedding" | "attention" | "ffn" | "norm" | "lm_head";
export type NamingScheme = "hf" | "gguf";

export type TensorKindId =
  | "token_embd"
  | "attn_norm"
  | "attn_q"
  | "attn_k"
  | "attn_v"
  | "attn_output"
  | "attn_sub_norm"
  | "ffn_norm"
  | "ffn_gate"
  | "ffn_up"
  | "ffn_down"
  | "ffn_sub_norm"
  | "output_norm"
  | "output";

export interface TensorKind {
  id: TensorKindId;
  /** One tensor per layer ({l} in the names) or one per model. */
  perLayer: boolean;
  names: Record<NamingScheme, string>;
  component: TensorComponent;
  role: TensorRole;
  /** The block projection this tensor is (a BitLinear unless the variant is fp). */
  projection?: Projection;
  shape(spec: ModelSpec): [number] | [number, number];
  /** Whether a model of this spec has the tensor at all. */
  present(spec: ModelSpec): boolean;
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

const always = () => true;
const subNorm = (spec: ModelSpec) => spec.onebit.sub_norm;
const hidden = (spec: ModelSpec): [number] => [spec.hidden_size];

function projection(id: TensorKindId, p: Projection, hf: string, gguf: string): TensorKind {
  return {
    id,
    perLayer: true,
    names: { hf: `model.layers.{l}.${hf}.weight`, gguf: `blk.{l}.${gguf}.weight` },
    component: p === "gate" || p === "up" || p === "down" ? "ffn" : "attention",
    role: p === "o" || p === "down" ? "row" : "column",
    projection: p,
    shape: (spec) => projectionShape(spec, p),
    present: always,
  };
}

/** In file order: embedding, then each layer's tensors, then the final norm and the LM head. */
export const TENSOR_KINDS: readonly TensorKind[] = [
  { id: "token_embd", perLayer: false, names: { hf: "model.embed_tokens.weight", gguf: "token_embd.weight" }, component: "embedding", role: "replicated", shape: (s) => [s.vocab_size, s.hidden_size], present: always },
  { id: "attn_norm", perLayer: true, names: { hf: "model.layers.{l}.input_layernorm.weight", gguf: "blk.{l}.attn_norm.weight" }, component: "norm", role: "replicated", shape: hidden, present: always },
  projection("attn_q", "q", "self_attn.q_proj", "attn_q"),
  projection("attn_k", "k", "self_attn.k_proj", "attn_k"),
  projection("attn_v", "v", "self_attn.v_proj", "attn_v"),
  projection("attn_output", "o", "self_attn.o_proj", "attn_output"),
  { id: "attn_sub_norm", perLayer: true, names: { hf: "model.layers.{l}.self_attn.attn_sub_norm.weight", gguf: "blk.{l}.attn_sub_norm.weight" }, component: "norm", role: "column", shape: (s) => [s.num_attention_heads * s.head_dim], present: subNorm },
  { id: "ffn_norm", perLayer: true, names: { hf: "model.layers.{l}.post_attention_layernorm.weight", gguf: "blk.{l}.ffn_norm.weight" }, component: "norm", role: "replicated", shape: hidden, present: always },
  projection("ffn_gate", "gate", "mlp.gate_proj", "ffn_gate"),
  projection("ffn_up", "up", "mlp.up_proj", "ffn_up"),
  projection("ffn_down", "down", "mlp.down_proj", "ffn_down"),
  { id: "ffn_sub_norm", perLayer: true, names: { hf: "model.layers.{l}.mlp.ffn_sub_norm.weight", gguf: "blk.{l}.ffn_sub_norm.weight" }, component: "norm", role: "column", shape: (s) => [s.intermediate_size], present: subNorm },
  { id: "output_norm", perLayer: false, names: { hf: "model.norm.weight", gguf: "output_norm.weight" }, component: "norm", role: "replicated", shape: hidden, present: always },
  { id: "output", perLayer: false, names: { hf: "lm_head.weight", gguf: "output.weight" }, component: "lm_head", role: "replicated", shape: (s) => [s.vocab_size, s.hidden_size], present: (s) => !s.tie_word_embeddings },
];

const BY_ID = new Map(TENSOR_KINDS.map((k) => [k.id, k]));
const BY_PROJECTION = new Map(TENSOR_KINDS.filter((k) => k.projection).map((k) => [k.projection!, k]));

export function tensorKind(id: TensorKindId): TensorKind {
  return BY_ID.get(id)!;
}

export function projectionKind(p: Projection): TensorKind {
  const k = BY_PROJECTION.get(p);
  if (!k) throw new ModelInputError(`projection "${p}": not one of ${[...BY_PROJECTION.keys()].join(", ")}`);
  return k;
}

/** A kind's tensor name in a scheme (layer required for per-layer kinds). */
/** Every template names a `.weight`; a module's other tensors (`.scale`, `.weight_scale`) sit beside it. */
const WEIGHT = ".weight";

/** The module a tensor belongs to: `model.layers.3.self_attn.q_proj`, `blk.3.attn_q`. */
export function moduleName(kind: TensorKind, scheme: NamingScheme, layer?: number): string {
  return tensorName(kind, scheme, layer).slice(0, -WEIGHT.length);
}

/**
 * The GGUF name of a projection's optional per-tensor multiplier (`blk.{l}.attn_q.scale`, F32 [1]: llama.cpp's
 * bitnet graph multiplies the matmul output by it), or undefined for tensors that are not projections.
 */
export function ggufScaleName(kind: TensorKind, layer: number): string | undefined {
  return kind.projection ? `${moduleName(kind, "gguf", layer)}.scale` : undefined;
}

export function tensorName(kind: TensorKind, scheme: NamingScheme, layer?: number): string {
  const template = kind.names[scheme];
  if (!template.endsWith(WEIGHT)) throw new ModelInputError(`tensor kind ${kind.id}: template "${template}" does not name a ${WEIGHT}`);
  if (!kind.perLayer) return template;
  if (layer === undefined || !Number.isInteger(layer) || layer < 0) throw new ModelInputError(`tensor kind ${kind.id}: a layer index is needed, got ${layer}`);
  return template.replace("{l}", String(layer));
}

/** name → (kind, layer) for one scheme, built once per scheme from the templates (exact matches only). */
export function parseTensorName(name: string, scheme: NamingScheme): { kind: TensorKind; layer?: number } | undefined {
  for (const kind of TENSOR_KINDS) {
    const t = kind.names[scheme];
    if (!kind.perLayer) {
      if (t === name) return { kind };
      continue;
    }
    const [before, after] = t.split("{l}") as [string, string];
    if (!name.startsWith(before) || !name.endsWith(after)) continue;
    const mid = name.slice(before.length, name.length - after.length);
    if (/^(0|[1-9][0-9]{0,5})$/.test(mid)) return { kind, layer: Number(mid) };
  }
  return undefined;
}
