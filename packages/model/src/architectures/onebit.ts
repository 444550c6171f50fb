/**
 * onebit's own architecture: every variant (BitNet binary, b1.58, a4.8, fp), groups, norms and ε conventions.
 * As a folder: config.json (the ModelSpec) + model.safetensors (metadata format "onebit", onebit-t2/-b1 packed
 * projections) + tokenizer.json. As GGUF: general.architecture "onebit" with the LLaMA-family keys and onebit.*
 * — no other runtime reads it; `convert` chooses it only for what `bitnet`/`bitnet-b1.58`/`llama` cannot say.
 */
import type { Architecture } from "./architecture";
import { llamaGgufMetadata, specFromLlamaGguf, specOrFileError } from "./llama-family";

export const onebitArchitecture: Architecture = {
  id: "onebit",
  description: "onebit's own checkpoints: any variant (BitNet, b1.58, a4.8, fp), groups, norms",
  runtimes: ["onebit"],
  gguf: { arch: "onebit", scaleTensors: true },
  cannotExpress: () => null,
  specFromConfig: (config, file) => specOrFileError(config, file),
  specFromGguf: (meta, file, hasOutput) => specFromLlamaGguf(meta, file, "onebit", hasOutput, { modelType: "bitnet", hfArchitecture: "BitNetForCausalLM", hidden_act: "relu2", onebit: {} }),
  toConfig: (spec) => ({ ...spec }),
  toGgufMetadata: (spec) => llamaGgufMetadata(spec, "onebit"),
};
