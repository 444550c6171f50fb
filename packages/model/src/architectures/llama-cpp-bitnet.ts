/**
 * llama.cpp's `bitnet` architecture (LLM_ARCH_BITNET; 1bitLLM bitnet_b1_58-large/-3B, converted by
 * convert_hf_to_gguf.py BitnetModel): SwiGLU FFN, attention and FFN sub-norms, ternary projections (TQ1_0/TQ2_0,
 * optional `blk.{l}.*.scale` multipliers), NEOX RoPE (rotate_half: llama.cpp llama_model_rope_type lists
 * LLM_ARCH_BITNET with the pairs offset by n_rot/2, so q/k rows are stored unpermuted). Its graph has no
 * output tensor: the token embedding is the LM head (build_bitnet), so only tied models can be written as it.
 */
import type { Architecture } from "./architecture";
import { mismatch } from "./expressible";
import { llamaGgufMetadata, specFromLlamaGguf } from "./llama-family";

export const llamaCppBitnetArchitecture: Architecture = {
  id: "llama.cpp-bitnet",
  description: "llama.cpp `bitnet`: b1.58 with SwiGLU and sub-norms (1bitLLM bitnet_b1_58 family)",
  runtimes: ["llama.cpp", "bitnet.cpp"],
  gguf: { arch: "bitnet", scaleTensors: true },
  cannotExpress: (spec) => mismatch(spec, { variant: "b1.58", hiddenAct: "silu", subNorm: true, tied: true }),
  specFromGguf: (meta, file, hasOutput) => specFromLlamaGguf(meta, file, "bitnet", hasOutput, { modelType: "bitnet", hfArchitecture: "BitNetForCausalLM", hidden_act: "silu", onebit: { variant: "b1.58", sub_norm: true } }),
  toGgufMetadata: (spec) => llamaGgufMetadata(spec, "bitnet"),
};
