/**
 * ModelSpec: the one plain-data description of a model (ARCHITECTURE invariant 3).
 * Field names follow Hugging Face's LLaMA/BitNet `config.json`; onebit's own choices live under `onebit`.
 * `parseModelSpec` validates, fills defaults and ignores unknown keys, so a real HF config.json parses.
 * `@onebit/model` builds the inference Transformer from it; `@onebit/train` builds the tfjs graph from it.
 */
import { type Variant, VARIANTS } from "@onebit/layers";

export type HiddenAct = "relu2" | "silu";
export type NormType = "rms" | "layer";
/** RoPE pairing: "half" rotates (x[i], x[i + d/2]) (HF LLaMA/BitNet), "interleaved" rotates (x[2i], x[2i+1]) (GPT-J / Meta). */
export type RopeStyle = "half" | "interleaved";
/** ε convention of activation/weight quantizers: "clamp" = the reference code's max(γ, 1e-5); "add" = the papers' γ + ε. */
export type EpsMode = "clamp" | "add";

export interface OnebitConfig {
  /** Which paper's BitLinear every block projection uses (see linearQuantFor in @onebit/layers). */
  variant: Variant;
  /** G for group quantization (SPEC §1): statistics per group along the partitioned axis. 1 = per tensor. */
  groups: number;
  /** SubLN: attn_sub_norm before o_proj and ffn_sub_norm before down_proj (as BitNet b1.58 2B4T). */
  sub_norm: boolean;
  norm: NormType;
  rope_style: RopeStyle;
  eps_mode: EpsMode;
}

export interface ModelSpec {
  model_type: string;
  architectures: string[];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  /** "relu2" = ReLU²GLU, "silu" = SwiGLU. */
  hidden_act: HiddenAct;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  bos_token_id: number;
  eos_token_id: number | number[];
  onebit: OnebitConfig;
}

export class ModelSpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`ModelSpec.${field}: ${message}`);
    this.name = "ModelSpecError";
  }
}

const DEFAULT_ONEBIT: OnebitConfig = {
  variant: "b1.58",
  groups: 1,
  sub_norm: true,
  norm: "rms",
  rope_style: "half",
  eps_mode: "clamp",
};

function positiveInt(obj: Record<string, unknown>, field: string, fallback?: number): number {
  const v = obj[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
    throw new ModelSpecError(field, `expected a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function positiveNumber(obj: Record<string, unknown>, field: string, fallback?: number): number {
  const v = obj[field] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
    throw new ModelSpecError(field, `expected a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(obj: Record<string, unknown>, field: string, allowed: readonly T[], fallback: T): T {
  const v = obj[field] ?? fallback;
  if (!allowed.includes(v as T))
    throw new ModelSpecError(field, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** Validate a config object (e.g. a parsed config.json), fill defaults, drop unknown keys. Throws ModelSpecError naming the field. */
export function parseModelSpec(input: unknown): ModelSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new ModelSpecError("(root)", `expected an object, got ${input === null ? "null" : typeof input}`);
  const o = input as Record<string, unknown>;
  const hidden_size = positiveInt(o, "hidden_size");
  const num_attention_heads = positiveInt(o, "num_attention_heads");
  const num_key_value_heads = positiveInt(o, "num_key_value_heads", num_attention_heads);
  if (num_attention_heads % num_key_value_heads !== 0)
    throw new ModelSpecError("num_key_value_heads", `${num_key_value_heads} must divide num_attention_heads (${num_attention_heads})`);
  const head_dim = positiveInt(o, "head_dim", hidden_size / num_attention_heads);
  if (head_dim % 2 !== 0) throw new ModelSpecError("head_dim", `RoPE needs an even head_dim, got ${head_dim}`);
  const vocab_size = positiveInt(o, "vocab_size");
  const tokenId = (field: string, fallback: number): number => {
    const v = o[field] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= vocab_size)
      throw new ModelSpecError(field, `expected a token id in [0, ${vocab_size}), got ${JSON.stringify(v)}`);
    return v;
  };
  let eos_token_id: number | number[];
  if (Array.isArray(o.eos_token_id)) {
    eos_token_id = (o.eos_token_id as unknown[]).map((v, i) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= vocab_size)
        throw new ModelSpecError(`eos_token_id[${i}]`, `expected a token id in [0, ${vocab_size}), got ${JSON.stringify(v)}`);
      return v;
    });
  } else eos_token_id = tokenId("eos_token_id", Math.min(1, vocab_size - 1));

  const ob = (o.onebit ?? {}) as Record<string, unknown>;
  if (typeof ob !== "object" || ob === null || Array.isArray(ob)) throw new ModelSpecError("onebit", "expected an object");
  const groups = (() => {
    try {
      return positiveInt(ob, "groups", DEFAULT_ONEBIT.groups);
    } catch {
      throw new ModelSpecError("onebit.groups", `expected a positive integer, got ${JSON.stringify(ob.groups)}`);
    }
  })();
  const onebitField = <T extends string>(field: string, allowed: readonly T[], fallback: T): T => {
    try {
      return oneOf(ob, field, allowed, fallback);
    } catch (e) {
      throw new ModelSpecError(`onebit.${field}`, (e as Error).message.replace(/^ModelSpec\.[^:]+: /, ""));
    }
  };
  const spec: ModelSpec = {
    model_type: typeof o.model_type === "string" ? o.model_type : "bitnet",
    architectures: Array.isArray(o.architectures) ? (o.architectures as string[]) : ["BitNetForCausalLM"],
    vocab_size,
    hidden_size,
    intermediate_size: positiveInt(o, "intermediate_size"),
    num_hidden_layers: positiveInt(o, "num_hidden_layers"),
    num_attention_heads,
    num_key_value_heads,
    head_dim,
    hidden_act: oneOf(o, "hidden_act", ["relu2", "silu"] as const, "relu2"),
    max_position_embeddings: positiveInt(o, "max_position_embeddings", 2048),
    rms_norm_eps: positiveNumber(o, "rms_norm_eps", 1e-5),
    rope_theta: positiveNumber(o, "rope_theta", 10000),
    tie_word_embeddings: typeof o.tie_word_embeddings === "boolean" ? o.tie_word_embeddings : true,
    bos_token_id: tokenId("bos_token_id", 0),
    eos_token_id,
    onebit: {
      variant: onebitField("variant", VARIANTS, DEFAULT_ONEBIT.variant),
      groups,
      sub_norm: typeof ob.sub_norm === "boolean" ? ob.sub_norm : DEFAULT_ONEBIT.sub_norm,
      norm: onebitField("norm", ["rms", "layer"] as const, DEFAULT_ONEBIT.norm),
      rope_style: onebitField("rope_style", ["half", "interleaved"] as const, DEFAULT_ONEBIT.rope_style),
      eps_mode: onebitField("eps_mode", ["clamp", "add"] as const, DEFAULT_ONEBIT.eps_mode),
    },
  };
  return spec;
}
