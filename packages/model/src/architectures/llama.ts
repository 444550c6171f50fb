/**
 * Full-precision LLaMA (transformers LlamaForCausalLM; llama.cpp `llama`): the baseline the papers compare
 * against. llama.cpp's `llama` uses NORM RoPE (interleaved pairs), so convert_hf_to_gguf.py permutes the q/k rows
 * of a rotate_half checkpoint (LlamaModel.permute); the GGUF reader and writer here do the same.
 */
import type { Architecture } from "./architecture";
import { mismatch } from "./expressible";
import { llamaConfig, llamaGgufMetadata, specFromLlamaGguf, specOrFileError } from "./llama-family";

export const llamaArchitecture: Architecture = {
  id: "llama",
  description: "full-precision LLaMA (SwiGLU, no sub-norms)",
  runtimes: ["transformers", "llama.cpp"],
  hf: { modelTypes: ["llama"], architectures: ["LlamaForCausalLM"] },
  gguf: { arch: "llama", permuteQk: true },
  cannotExpress: (spec) => mismatch(spec, { variant: "fp", hiddenAct: "silu", subNorm: false }),
  specFromConfig: (config, file) => {
    const { onebit: _ignored, ...rest } = config;
    return specOrFileError({ hidden_act: "silu", ...rest, onebit: { variant: "fp", sub_norm: false, groups: 1, norm: "rms", rope_style: "half" } }, file);
  },
  specFromGguf: (meta, file, hasOutput) => specFromLlamaGguf(meta, file, "llama", hasOutput, { modelType: "llama", hfArchitecture: "LlamaForCausalLM", hidden_act: "silu", onebit: { variant: "fp", sub_norm: false } }),
  toConfig: (spec) => llamaConfig(spec, { model_type: "llama", architectures: ["LlamaForCausalLM"] }),
  toGgufMetadata: (spec) => llamaGgufMetadata(spec, "llama"),
};
