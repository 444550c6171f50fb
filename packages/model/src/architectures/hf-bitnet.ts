/**
 * Hugging Face `bitnet` / BitNetForCausalLM (transformers models/bitnet; microsoft/bitnet-b1.58-2B-4T): LLaMA
 * layout plus `self_attn.attn_sub_norm` and `mlp.ffn_sub_norm`, hidden_act from config ("relu2" for 2B4T),
 * projections either packed uint8 [out/4, in] + `weight_scale` (quantization_config.quant_method "bitnet") or
 * bf16 master weights quantized at load with absmean (the `-bf16` sibling).
 */
import type { Architecture } from "./architecture";
import { mismatch } from "./expressible";
import { hfBitnetConfig } from "../hf/hf-bitnet-config";
import { specOrFileError } from "./llama-family";

export const hfBitnetArchitecture: Architecture = {
  id: "hf-bitnet",
  description: "Hugging Face BitNetForCausalLM (microsoft/bitnet-b1.58-2B-4T and its -bf16 sibling)",
  runtimes: ["transformers"],
  hf: { modelTypes: ["bitnet"], architectures: ["BitNetForCausalLM", "BitnetForCausalLM"], quantMethod: "bitnet" },
  cannotExpress: (spec) => mismatch(spec, { variant: "b1.58", subNorm: true, eps: "clamp" }),
  specFromConfig: (config, file) => {
    const { onebit: _ignored, ...rest } = config;
    // transformers' BitNet is b1.58 with sub-norms by construction; a onebit block in the file (our own export) is
    // kept only where it agrees
    const own = (typeof config.onebit === "object" && config.onebit) || {};
    return specOrFileError({ ...rest, onebit: { ...own, variant: "b1.58", sub_norm: true, groups: 1, norm: "rms", rope_style: "half" } }, file);
  },
  toConfig: (spec) => hfBitnetConfig(spec),
};
