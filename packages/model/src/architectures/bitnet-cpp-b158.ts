/**
 * bitnet.cpp's `bitnet-b1.58` architecture (its llama.cpp fork, LLM_ARCH_BITNET_B158; BitNet b1.58 2B4T's
 * ggml-model-i2_s.gguf): ReLU² GLU FFN, attention and FFN sub-norms, ternary I2_S projections with one f32
 * scale per tensor, tied output (its graph uses the token embedding as the LM head even when output.weight is
 * present: build_bitnet_158), NEOX RoPE, no `*.scale` tensors (only its `bitnet` loads them).
 */
import type { Architecture } from "./architecture";
import { mismatch } from "./expressible";
import { llamaGgufMetadata, specFromLlamaGguf } from "./llama-family";

export const bitnetCppB158Architecture: Architecture = {
  id: "bitnet.cpp-bitnet-b1.58",
  description: "bitnet.cpp `bitnet-b1.58`: b1.58 with ReLU² and sub-norms (BitNet b1.58 2B4T)",
  runtimes: ["bitnet.cpp"],
  gguf: { arch: "bitnet-b1.58" },
  cannotExpress: (spec) => mismatch(spec, { variant: "b1.58", hiddenAct: "relu2", subNorm: true, tied: true }),
  specFromGguf: (meta, file, hasOutput) => specFromLlamaGguf(meta, file, "bitnet-b1.58", hasOutput, { modelType: "bitnet", hfArchitecture: "BitNetForCausalLM", hidden_act: "relu2", onebit: { variant: "b1.58", sub_norm: true } }),
  toGgufMetadata: (spec) => llamaGgufMetadata(spec, "bitnet-b1.58"),
};
