/**
 * The `config.json` side of transformers' BitNet (src/transformers/models/bitnet/configuration_bitnet.py
 * BitNetConfig, src/transformers/utils/quantization_config.py BitNetQuantConfig).
 *
 * microsoft/bitnet-b1.58-2B-4T (packed weights) declares
 *   "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline"}
 * and its `-bf16` sibling (latent master weights) the same with "quantization_mode": "online". Which linear class a
 * checkpoint names decides what its `weight_scale` means (see hf-bitnet-weights.ts), so it is read, never assumed;
 * when the key is absent, transformers' own default applies: BitNetQuantConfig(linear_class="bitlinear",
 * quantization_mode="offline").
 */
import { type ModelSpec, ModelSpecError } from "../model-spec";
import { shown } from "../safetensors/safetensors-header";
import { ModelFileError } from "../weights/weight-source";
import { ModelInputError } from "../model-input-error";

export type HfLinearClass = "autobitlinear" | "bitlinear";
export type HfQuantizationMode = "offline" | "online";

export interface HfBitnetQuantization {
  linearClass: HfLinearClass;
  /** "offline": packed uint8 weights + weight_scale; "online": latent float weights, quantized on load. */
  mode: HfQuantizationMode;
  /** Module names kept as plain nn.Linear (transformers always adds "lm_head"). */
  modulesToNotConvert: string[];
}

/** What microsoft/bitnet-b1.58-2B-4T's config.json holds, and what onebit writes. */
export const BITNET_QUANTIZATION_CONFIG = { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" } as const;

/**
 * `__metadata__` for safetensors files meant for transformers: its `load_state_dict` refuses a file whose
 * metadata exists without `format` in ["pt", "tf", "flax", "mlx"] (src/transformers/modeling_utils.py).
 */
export const HF_SAFETENSORS_METADATA: Readonly<Record<string, string>> = { format: "pt" };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Read `quantization_config` from a parsed config.json. Refuses a config that is not BitNet-quantized. */
export function parseHfBitnetQuantization(config: unknown, file: string): HfBitnetQuantization {
  if (!isObject(config)) throw new ModelFileError(file, "(root)", `expected a JSON object, found ${shown(config)}`);
  const q = Object.hasOwn(config, "quantization_config") ? config.quantization_config : undefined;
  if (!isObject(q)) throw new ModelFileError(file, "quantization_config", `expected a BitNet quantization_config object, found ${shown(q)} (an unquantized checkpoint has no ternary weights to load)`);
  const get = (k: string) => (Object.hasOwn(q, k) ? q[k] : undefined);
  if (get("quant_method") !== "bitnet") throw new ModelFileError(file, "quantization_config.quant_method", `expected "bitnet", found ${shown(get("quant_method"))}`);
  const linearClass = get("linear_class") ?? "bitlinear";
  if (linearClass !== "bitlinear" && linearClass !== "autobitlinear")
    throw new ModelFileError(file, "quantization_config.linear_class", `expected "autobitlinear" or "bitlinear", found ${shown(linearClass)}`);
  const mode = get("quantization_mode") ?? "offline";
  if (mode !== "offline" && mode !== "online") throw new ModelFileError(file, "quantization_config.quantization_mode", `expected "offline" or "online", found ${shown(mode)}`);
  // AutoBitLinear(use_rms_norm=True) normalizes its input before quantizing; onebit's BitLinear has no such norm.
  const rms = get("use_rms_norm");
  if (rms !== undefined && rms !== false && rms !== null)
    throw new ModelFileError(file, "quantization_config.use_rms_norm", `expected false (onebit's BitLinear has no input RMSNorm), found ${shown(rms)}`);
  const skip = get("modules_to_not_convert");
  if (skip !== undefined && skip !== null && !(Array.isArray(skip) && skip.every((s) => typeof s === "string")))
    throw new ModelFileError(file, "quantization_config.modules_to_not_convert", `expected a list of module names, found ${shown(skip)}`);
  return { linearClass, mode, modulesToNotConvert: [...new Set(["lm_head", ...((skip as string[] | null | undefined) ?? [])])] };
}

/**
 * The config.json transformers needs to run an onebit model as BitNetForCausalLM with packed weights. Only what
 * transformers' BitNet computes can be exported: b1.58 per-tensor ternary weights, SubLN, RMSNorm, half-split
 * RoPE and the reference code's clamp ε. `onebit` is kept, so onebit reads the spec back unchanged.
 */
export function hfBitnetConfig(spec: ModelSpec, options: { linearClass?: HfLinearClass } = {}): Record<string, unknown> {
  const ob = spec.onebit;
  const need = <K extends keyof typeof ob>(field: K, value: (typeof ob)[K], why: string) => {
    if (ob[field] !== value) throw new ModelSpecError(`onebit.${String(field)}`, `transformers' BitNet ${why}: expected ${shown(value)}, found ${shown(ob[field])}`);
  };
  need("variant", "b1.58", "runs BitNet b1.58 (ternary weights, int8 activations)");
  need("groups", 1, "stores one weight_scale per linear");
  need("sub_norm", true, "has attn_sub_norm and ffn_sub_norm in every layer");
  need("norm", "rms", "uses RMSNorm");
  need("rope_style", "half", "rotates (x[i], x[i + d/2]) pairs");
  need("eps_mode", "clamp", "clamps statistics at 1e-5");
  const linearClass = options.linearClass ?? BITNET_QUANTIZATION_CONFIG.linear_class;
  if (linearClass !== "autobitlinear" && linearClass !== "bitlinear") throw new ModelInputError(`linearClass: expected "autobitlinear" or "bitlinear", got ${shown(linearClass)}`);
  return {
    architectures: ["BitNetForCausalLM"],
    model_type: "bitnet",
    vocab_size: spec.vocab_size,
    hidden_size: spec.hidden_size,
    intermediate_size: spec.intermediate_size,
    num_hidden_layers: spec.num_hidden_layers,
    num_attention_heads: spec.num_attention_heads,
    num_key_value_heads: spec.num_key_value_heads,
    head_dim: spec.head_dim,
    hidden_act: spec.hidden_act,
    max_position_embeddings: spec.max_position_embeddings,
    rms_norm_eps: spec.rms_norm_eps,
    rope_theta: spec.rope_theta,
    tie_word_embeddings: spec.tie_word_embeddings,
    bos_token_id: spec.bos_token_id,
    eos_token_id: spec.eos_token_id,
    attention_bias: false,
    attention_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: "bfloat16",
    quantization_config: { ...BITNET_QUANTIZATION_CONFIG, linear_class: linearClass },
    onebit: { ...ob },
  };
}
