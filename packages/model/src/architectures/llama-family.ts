/**
 * What every LLaMA-alike architecture shares: the GGUF hyper-parameter keys llama.cpp reads for `llama`,
 * `bitnet` and bitnet.cpp's `bitnet-b1.58` (llama.cpp src/llama-arch.cpp LLM_KV_NAMES, src/llama-model.cpp
 * load_hparams), the Hugging Face config.json fields (transformers LlamaConfig / BitNetConfig), and onebit's own
 * `onebit.*` keys that carry what those formats cannot (variant, groups, norm, ε convention).
 */
import { ModelSpecError, type ModelSpec, parseModelSpec } from "../model-spec";
import { rawStringArray } from "../gguf/gguf-string-array";
import { ModelFileError } from "../weights/weight-source";
import type { GgufKv } from "./architecture";

function metaNumber(meta: ReadonlyMap<string, unknown>, key: string, file: string, integer: boolean, fallback?: number): number {
  let v = meta.get(key);
  if (v === undefined) {
    if (fallback === undefined) throw new ModelFileError(file, key, "missing (a required GGUF metadata key)");
    return fallback;
  }
  if (typeof v === "bigint") v = Number(v);
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v)))
    throw new ModelFileError(file, key, `expected ${integer ? "an integer" : "a number"}, found ${typeof v === "object" ? "an array" : JSON.stringify(v)}`);
  return v;
}

/**
 * GGUF stores rms_norm_eps and rope theta as f32: 1e-5 reads back as 9.99999974737875e-6. The shortest decimal
 * that rounds to the same f32 (as numpy prints float32) recovers the value the writer meant, so a spec survives
 * a round trip through GGUF unchanged.
 */
function shortestF32(v: number): number {
  if (Math.fround(v) !== v) return v;
  for (let p = 1; p <= 9; p++) {
    const x = Number(v.toPrecision(p));
    if (Math.fround(x) === v) return x;
  }
  return v;
}

function metaString(meta: ReadonlyMap<string, unknown>, key: string, file: string): string | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new ModelFileError(file, key, `expected a string, found ${typeof v}`);
  return v;
}

function metaBool(meta: ReadonlyMap<string, unknown>, key: string, file: string): boolean | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new ModelFileError(file, key, `expected a bool, found ${typeof v}`);
  return v;
}

/** Run parseModelSpec and turn its field errors into file errors. */
export function specOrFileError(config: Record<string, unknown>, file: string, keyOf: (field: string) => string = (f) => f): ModelSpec {
  try {
    return parseModelSpec(config);
  } catch (e) {
    if (e instanceof ModelSpecError) throw new ModelFileError(file, keyOf(e.field), e.message.replace(/^ModelSpec\.[^:]+: /, ""));
    throw e;
  }
}

/** The onebit.* keys a GGUF may carry (written by onebit; absent from other writers' files). */
function onebitFromGguf(meta: ReadonlyMap<string, unknown>, file: string, defaults: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = { ...defaults };
  for (const k of ["variant", "norm", "rope_style", "eps_mode"]) {
    const v = metaString(meta, `onebit.${k}`, file);
    if (v !== undefined) o[k] = v;
  }
  const sub = metaBool(meta, "onebit.sub_norm", file);
  if (sub !== undefined) o.sub_norm = sub;
  if (meta.has("onebit.groups")) o.groups = metaNumber(meta, "onebit.groups", file, true);
  return o;
}

/**
 * A LLaMA-family GGUF's hyper-parameters → spec. `fixed` holds what the architecture itself implies (hidden_act,
 * onebit defaults); onebit.* keys in the file override the onebit part.
 */
export function specFromLlamaGguf(meta: ReadonlyMap<string, unknown>, file: string, arch: string, hasOutput: boolean, fixed: { hidden_act: string; modelType: string; hfArchitecture: string; onebit: Record<string, unknown> }): ModelSpec {
  const k = (s: string) => `${arch}.${s}`;
  // a GgufSource's token array is counted from its bytes: its 128k strings are not made for a length
  const raw = rawStringArray(meta, "tokenizer.ggml.tokens");
  const tokens = raw ? undefined : meta.get("tokenizer.ggml.tokens");
  const vocabFromTokens = raw ? raw.length : Array.isArray(tokens) ? tokens.length : undefined;
  const heads = metaNumber(meta, k("attention.head_count"), file, true);
  const hidden = metaNumber(meta, k("embedding_length"), file, true);
  const config: Record<string, unknown> = {
    model_type: fixed.modelType,
    architectures: [fixed.hfArchitecture],
    vocab_size: metaNumber(meta, k("vocab_size"), file, true, vocabFromTokens),
    hidden_size: hidden,
    intermediate_size: metaNumber(meta, k("feed_forward_length"), file, true),
    num_hidden_layers: metaNumber(meta, k("block_count"), file, true),
    num_attention_heads: heads,
    num_key_value_heads: metaNumber(meta, k("attention.head_count_kv"), file, true, heads),
    head_dim: metaNumber(meta, k("attention.key_length"), file, true, metaNumber(meta, k("rope.dimension_count"), file, true, hidden / heads)),
    hidden_act: metaString(meta, "onebit.hidden_act", file) ?? fixed.hidden_act,
    max_position_embeddings: metaNumber(meta, k("context_length"), file, true),
    rms_norm_eps: shortestF32(metaNumber(meta, k("attention.layer_norm_rms_epsilon"), file, false, 1e-5)),
    rope_theta: shortestF32(metaNumber(meta, k("rope.freq_base"), file, false, 10000)),
    tie_word_embeddings: !hasOutput,
    bos_token_id: metaNumber(meta, "tokenizer.ggml.bos_token_id", file, true, 0),
    eos_token_id: metaNumber(meta, "tokenizer.ggml.eos_token_id", file, true, 0),
    onebit: onebitFromGguf(meta, file, fixed.onebit),
  };
  const keyOf = (field: string): string => {
    const map: Record<string, string> = {
      vocab_size: k("vocab_size"),
      hidden_size: k("embedding_length"),
      intermediate_size: k("feed_forward_length"),
      num_hidden_layers: k("block_count"),
      num_attention_heads: k("attention.head_count"),
      num_key_value_heads: k("attention.head_count_kv"),
      head_dim: k("rope.dimension_count"),
      max_position_embeddings: k("context_length"),
      rms_norm_eps: k("attention.layer_norm_rms_epsilon"),
      rope_theta: k("rope.freq_base"),
      bos_token_id: "tokenizer.ggml.bos_token_id",
      eos_token_id: "tokenizer.ggml.eos_token_id",
    };
    return map[field] ?? field;
  };
  return specOrFileError(config, file, keyOf);
}

/** spec → the LLaMA-family GGUF keys under `arch`, plus onebit.* (ignored by other readers, exact for onebit). */
export function llamaGgufMetadata(spec: ModelSpec, arch: string): GgufKv[] {
  const u32 = (key: string, value: number): GgufKv => ({ key: `${arch}.${key}`, type: "u32", value });
  const f32 = (key: string, value: number): GgufKv => ({ key: `${arch}.${key}`, type: "f32", value });
  const o = spec.onebit;
  return [
    u32("vocab_size", spec.vocab_size),
    u32("context_length", spec.max_position_embeddings),
    u32("embedding_length", spec.hidden_size),
    u32("block_count", spec.num_hidden_layers),
    u32("feed_forward_length", spec.intermediate_size),
    u32("attention.head_count", spec.num_attention_heads),
    u32("attention.head_count_kv", spec.num_key_value_heads),
    u32("attention.key_length", spec.head_dim),
    u32("attention.value_length", spec.head_dim),
    u32("rope.dimension_count", spec.head_dim),
    f32("rope.freq_base", spec.rope_theta),
    f32("attention.layer_norm_rms_epsilon", spec.rms_norm_eps),
    { key: "onebit.variant", type: "string", value: o.variant },
    { key: "onebit.groups", type: "u32", value: o.groups },
    { key: "onebit.sub_norm", type: "bool", value: o.sub_norm },
    { key: "onebit.norm", type: "string", value: o.norm },
    { key: "onebit.rope_style", type: "string", value: o.rope_style },
    { key: "onebit.eps_mode", type: "string", value: o.eps_mode },
    { key: "onebit.hidden_act", type: "string", value: spec.hidden_act },
  ];
}

/** The Hugging Face config.json of a LLaMA-alike spec (the onebit block kept, transformers ignores it). */
export function llamaConfig(spec: ModelSpec, extra: Record<string, unknown>): Record<string, unknown> {
  const { onebit, ...rest } = spec;
  return { ...rest, ...extra, onebit, torch_dtype: "bfloat16", rope_scaling: null, attention_bias: false };
}

