/**
 * ModelSpec: the one plain-data description of a model (docs/design.md invariant 3).
 * Field names follow Hugging Face's LLaMA/BitNet `config.json`; onebit's own choices live under `onebit`.
 * `parseModelSpec` validates, fills defaults and ignores unknown keys, so a real HF config.json parses.
 * `@onebit/model` builds the inference Transformer from it; `@onebit/train` builds the tfjs graph from it.
 */
import { OnebitError, formatBytes } from "@onebit/quant";
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
  /** G for group quantization (BitNet arXiv 2310.11453 §2.3): statistics per group along the partitioned axis. 1 = per tensor. */
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

export class ModelSpecError extends OnebitError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("MODEL_SPEC", `ModelSpec.${field}: ${message}`);
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

/**
 * Ceilings checked before anything allocates: a config.json is untrusted input, and one absurd number (say
 * num_hidden_layers: 1e9) otherwise surfaces 30 s later as an out-of-memory crash or "Invalid typed array length".
 * Sizes and counts are int32 (as tfjs shapes and GGUF readers store them); token ids must survive float32 and
 * Int32Array round trips, so the vocabulary stays ≤ 2^24.
 */
export const MAX_DIMENSION = 2 ** 31 - 1;
export const MAX_VOCAB_SIZE = 2 ** 24;
/** Positions beyond this would not even fit one head's RoPE table or KV row in memory at real widths. */
export const MAX_CONTEXT = 2 ** 24;
/** The largest single tensor (elements): a typed array's length limit in Node 20 / V8. */
export const MAX_TENSOR_ELEMENTS = 2 ** 32 - 1;
/**
 * Default ceiling on the model's float32 size (parameters × 4 bytes): 64 GiB, i.e. ~17 B parameters — the latent
 * weights training keeps and the embedding inference keeps in f32 must fit a large workstation.
 */
export const DEFAULT_MODEL_BYTES_LIMIT = 64 * 2 ** 30;

export interface ParseModelSpecOptions {
  /** Refuse a spec whose parameters × 4 bytes exceed this (default DEFAULT_MODEL_BYTES_LIMIT). */
  maxModelBytes?: number;
}

function positiveInt(obj: Record<string, unknown>, field: string, fallback?: number, max = MAX_DIMENSION): number {
  const v = obj[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
    throw new ModelSpecError(field, `expected a positive integer, got ${JSON.stringify(v)}`);
  if (v > max) throw new ModelSpecError(field, `expected a positive integer ≤ ${max}, got ${v}`);
  return v;
}


/** Counts as integers while readable, in exponent form beyond. */
function formatCount(n: number): string {
  return n < 1e9 ? String(n) : n.toExponential(3);
}

/**
 * Parameters of a spec, by the same shapes as tensorList (computed in closed form so a huge layer count costs
 * nothing to check). Norm gains are included; they never decide the outcome but keep the count exact.
 */
export function specParameterCount(spec: ModelSpec): number {
  const { embedding, perLayer, final } = parameterTerms(spec);
  return embedding + spec.num_hidden_layers * perLayer + final;
}

function parameterTerms(spec: Pick<ModelSpec, "vocab_size" | "hidden_size" | "intermediate_size" | "num_attention_heads" | "num_key_value_heads" | "head_dim" | "tie_word_embeddings" | "onebit">) {
  const h = spec.hidden_size;
  const qOut = spec.num_attention_heads * spec.head_dim;
  const kvOut = spec.num_key_value_heads * spec.head_dim;
  const attention = h * qOut + 2 * h * kvOut + qOut * h;
  const ffn = 3 * h * spec.intermediate_size;
  const norms = 2 * h + (spec.onebit.sub_norm ? qOut + spec.intermediate_size : 0);
  const embedding = spec.vocab_size * h * (spec.tie_word_embeddings ? 1 : 2);
  return { embedding, attention, ffn, perLayer: attention + ffn + norms, final: h, qOut, kvOut };
}

/**
 * Group quantization splits each projection along its tensor-parallel axis (out features for q, k, v, gate, up;
 * in features for o and down, as transformer.ts and the trainer group them): G must divide that dimension, or the
 * first forward pass fails deep inside a reshape. Checked here so every entry point refuses it by name.
 */
function checkGroups(spec: ModelSpec): void {
  const G = spec.onebit.groups;
  if (G === 1) return;
  const q = spec.num_attention_heads * spec.head_dim;
  const kv = spec.num_key_value_heads * spec.head_dim;
  const splits: Array<[string, string, number]> = [
    ["q_proj", "out features (num_attention_heads × head_dim)", q],
    ["k_proj", "out features (num_key_value_heads × head_dim)", kv],
    ["v_proj", "out features (num_key_value_heads × head_dim)", kv],
    ["o_proj", "in features (num_attention_heads × head_dim)", q],
    ["gate_proj", "out features (intermediate_size)", spec.intermediate_size],
    ["up_proj", "out features (intermediate_size)", spec.intermediate_size],
    ["down_proj", "in features (intermediate_size)", spec.intermediate_size],
  ];
  for (const [proj, what, n] of splits)
    if (n % G !== 0) throw new ModelSpecError("onebit.groups", `${G} does not divide ${proj}'s ${what} ${n}; use a divisor of ${n}`);
}

/**
 * Refuse a spec too large to hold, naming the field responsible: the layer count when one layer fits but all of
 * them do not, else the widest dimension of the part that dominates.
 */
function checkModelSize(spec: ModelSpec, maxBytes: number): void {
  const t = parameterTerms(spec);
  const h = spec.hidden_size;
  const inter = spec.intermediate_size;
  // single tensors first: one of them over the typed-array limit fails at allocation whatever the total
  const tensors: Array<[string, number, string]> = [
    [spec.vocab_size >= h ? "vocab_size" : "hidden_size", spec.vocab_size * h, `the embedding (vocab_size ${spec.vocab_size} × hidden_size ${h})`],
    [inter >= h ? "intermediate_size" : "hidden_size", inter * h, `each FFN projection (intermediate_size ${inter} × hidden_size ${h})`],
    [t.qOut >= h ? (spec.head_dim >= spec.num_attention_heads ? "head_dim" : "num_attention_heads") : "hidden_size", t.qOut * h, `q_proj (num_attention_heads ${spec.num_attention_heads} × head_dim ${spec.head_dim} × hidden_size ${h})`],
  ];
  for (const [field, n, what] of tensors)
    if (n > MAX_TENSOR_ELEMENTS) throw new ModelSpecError(field, `${what} has ${formatCount(n)} elements, over the ${MAX_TENSOR_ELEMENTS} a single array can hold`);
  const total = t.embedding + spec.num_hidden_layers * t.perLayer + t.final;
  const bytes = 4 * total;
  if (bytes <= maxBytes) return;
  let field: string;
  if (t.embedding >= spec.num_hidden_layers * t.perLayer) field = spec.vocab_size >= h ? "vocab_size" : "hidden_size";
  else if (4 * (t.embedding + t.perLayer + t.final) <= maxBytes) field = "num_hidden_layers";
  else if (t.ffn >= t.attention) field = inter >= h ? "intermediate_size" : "hidden_size";
  else field = t.qOut >= h ? (spec.head_dim >= spec.num_attention_heads ? "head_dim" : "num_attention_heads") : "hidden_size";
  const value = (spec as unknown as Record<string, number>)[field];
  throw new ModelSpecError(
    field,
    `${value} makes the model ${formatCount(total)} parameters (${formatBytes(bytes)} as float32: embedding ${formatCount(t.embedding)} + ${spec.num_hidden_layers} layers × ${formatCount(t.perLayer)}), over the ${formatBytes(maxBytes)} limit`,
  );
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
export function parseModelSpec(input: unknown, options: ParseModelSpecOptions = {}): ModelSpec {
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
  const vocab_size = positiveInt(o, "vocab_size", undefined, MAX_VOCAB_SIZE);
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
    max_position_embeddings: positiveInt(o, "max_position_embeddings", 2048, MAX_CONTEXT),
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
  checkModelSize(spec, options.maxModelBytes ?? DEFAULT_MODEL_BYTES_LIMIT);
  checkGroups(spec);
  return spec;
}
