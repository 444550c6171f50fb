/**
 * Hugging Face LlamaForCausalLM quantized by transformers' BitNet integration (integrations/bitnet.py;
 * HF1BitLLM/Llama3-8B-1.58-100B-tokens, tiiuae/Falcon3-*-1.58bit): config.json says `model_type: "llama"` and
 * `quantization_config: {quant_method: "bitnet"}`, and every linear but lm_head is a BitLinear — BitNet b1.58
 * (arXiv 2402.17764): packed uint8 [out/4, in] ternary weights + `weight_scale`, per-token absmax INT8 activations
 * clamped at 1e-5. The rest is LLaMA: SwiGLU (silu), RMSNorm, rotate_half RoPE, and NO sub-norms. Those configs
 * name no `linear_class`, so transformers' default BitLinear applies and `weight_scale` DIVIDES
 * (hf/hf-bitnet-weights.ts); hf-model.ts reads the quantization_config, as for BitNetForCausalLM.
 *
 * No GGUF identity: llama.cpp's `bitnet` graph (build_bitnet) always applies attn_sub_norm/ffn_sub_norm, `llama`
 * has full-precision projections, and bitnet.cpp's `bitnet-b1.58` is ReLU² with sub-norms — so `convert` writes
 * these models to GGUF as onebit's own arch, with that reason in its notes. (llama.cpp's convert_hf_to_gguf.py,
 * ModelBase.dequant_model / dequant_bitnet, instead writes the weights dequantized as a float `llama`, which no
 * longer quantizes activations: a different model.)
 */
import type { Architecture } from "./architecture";
import { mismatch } from "./expressible";
import { BITNET_QUANTIZATION_CONFIG } from "../hf/hf-bitnet-config";
import { llamaConfig, specOrFileError } from "./llama-family";

export const hfLlamaBitnetArchitecture: Architecture = {
  id: "hf-llama-bitnet",
  description: "Hugging Face LlamaForCausalLM with quant_method bitnet (Llama3-8B-1.58, Falcon3-*-1.58bit): b1.58, SwiGLU, no sub-norms",
  runtimes: ["transformers"],
  hf: { modelTypes: ["llama"], architectures: ["LlamaForCausalLM"], quantMethod: "bitnet" },
  cannotExpress: (spec) => mismatch(spec, { variant: "b1.58", hiddenAct: "silu", subNorm: false, eps: "clamp" }),
  specFromConfig: (config, file) => {
    const { onebit: _ignored, ...rest } = config;
    return specOrFileError({ hidden_act: "silu", ...rest, onebit: { variant: "b1.58", sub_norm: false, groups: 1, norm: "rms", rope_style: "half", eps_mode: "clamp" } }, file);
  },
  // hf-export.ts writes weight_scale as AutoBitLinear's multiplier, so the config names that linear class
  toConfig: (spec) => llamaConfig(spec, { model_type: "llama", architectures: ["LlamaForCausalLM"], quantization_config: { ...BITNET_QUANTIZATION_CONFIG } }),
};
