/**
 * Model presets: every variant in VARIANTS (the FP baseline, BitNet, b1.58, a4.8 with INT4 activations and a4.8
 * with FP4 ones) at two small sizes that train on a laptop, named "<variant>-<size>", plus the shape of the public
 * BitNet b1.58 2B4T (arXiv 2504.12285 §2). The FP baseline uses SwiGLU without sub-norms; the 1-bit variants
 * ReLU²GLU with SubLN, as b1.58 2B4T does.
 */
import { VARIANTS, type Variant } from "@onebit/layers";
import { type ModelSpec, parseModelSpec } from "./model-spec";
import { ModelInputError } from "./model-input-error";

export type PresetSize = "tiny" | "small";

const SIZES: Record<PresetSize, Record<string, number>> = {
  // ≈ 1M parameters with a 1024-token vocabulary (embeddings tied)
  tiny: { vocab_size: 1024, hidden_size: 128, intermediate_size: 344, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 512 },
  // ≈ 10M parameters with a 4096-token vocabulary
  small: { vocab_size: 4096, hidden_size: 320, intermediate_size: 864, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 1024 },
};

export function preset(variant: Variant, size: PresetSize = "tiny", overrides: Record<string, unknown> = {}): ModelSpec {
  if (!VARIANTS.includes(variant)) throw new ModelInputError(`preset variant: expected one of ${VARIANTS.join(", ")}, got ${JSON.stringify(variant)}`);
  if (!(size in SIZES)) throw new ModelInputError(`preset size: expected one of ${Object.keys(SIZES).join(", ")}, got ${JSON.stringify(size)}`);
  return parseModelSpec({
    ...SIZES[size],
    hidden_act: variant === "fp" ? "silu" : "relu2",
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
    ...overrides,
    onebit: { variant, groups: 1, sub_norm: variant !== "fp", norm: "rms", rope_style: "half", eps_mode: "clamp", ...((overrides.onebit as object) ?? {}) },
  });
}

/** microsoft/bitnet-b1.58-2B-4T's config (arXiv 2504.12285 §2; its config.json), as a ModelSpec. */
export function bitnet2B4TSpec(): ModelSpec {
  return parseModelSpec({
    model_type: "bitnet",
    architectures: ["BitNetForCausalLM"],
    vocab_size: 128256,
    hidden_size: 2560,
    intermediate_size: 6912,
    num_hidden_layers: 30,
    num_attention_heads: 20,
    num_key_value_heads: 5,
    head_dim: 128,
    hidden_act: "relu2",
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    tie_word_embeddings: true,
    bos_token_id: 128000,
    eos_token_id: 128001,
    onebit: { variant: "b1.58", groups: 1, sub_norm: true, norm: "rms", rope_style: "half", eps_mode: "clamp" },
  });
}

export const PRESET_NAMES = [...VARIANTS.flatMap((v) => (["tiny", "small"] as const).map((s) => `${v}-${s}`)), "bitnet-b1.58-2B-4T"];

/** Look a preset up by name: "b1.58-tiny", "a4.8-small", "fp-tiny", "bitnet-b1.58-2B-4T", … */
export function presetByName(name: string): ModelSpec {
  if (name === "bitnet-b1.58-2B-4T") return bitnet2B4TSpec();
  const m = /^(.+)-(tiny|small)$/.exec(name);
  if (!m || !VARIANTS.includes(m[1] as Variant)) throw new ModelInputError(`unknown preset "${name}"; presets: ${PRESET_NAMES.join(", ")}`);
  return preset(m[1] as Variant, m[2] as PresetSize);
}

/**
 * Layer-swap pass (as MLX's `quantize` swaps layers): turn an FP spec into a 1-bit one. It sets `onebit.variant`,
 * which every block projection follows (there is no per-projection choice), and `onebit.sub_norm` (SubLN, on
 * unless `options.subNorm` is false); the embedding, the norms and the LM head stay full precision, and every
 * other field — hidden_act included — is kept.
 */
export function bitnetify(spec: ModelSpec, variant: Exclude<Variant, "fp"> = "b1.58", options: { subNorm?: boolean } = {}): ModelSpec {
  if (!VARIANTS.includes(variant) || variant === ("fp" as Variant)) throw new ModelInputError(`bitnetify variant: expected a 1-bit variant (${VARIANTS.filter((v) => v !== "fp").join(", ")}), got ${JSON.stringify(variant)}`);
  return parseModelSpec({ ...spec, onebit: { ...spec.onebit, variant, sub_norm: options.subNorm ?? true } });
}
