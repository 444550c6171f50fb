/**
 * The model specs the Train tab offers: "tiny" is the project's preset (hidden 128, 4 layers, ≈ 0.86 M parameters:
 * the acceptance run's size), "micro" a quarter of it for a quick look (hidden 64, 2 layers). Both use the shipped
 * model's 1024-token Brown BPE. 1-bit variants get ReLU²GLU and SubLN, the fp baseline SwiGLU without SubLN (a
 * LLaMA block), as the presets define them.
 */
import { type ModelSpec, preset } from "@onebit/model";
import type { TrainSize, TrainVariant } from "./train-protocol";

export const TRAIN_SIZES: Record<TrainSize, { label: string; overrides: Record<string, number> }> = {
  micro: { label: "micro (hidden 64, 2 layers)", overrides: { hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 256 } },
  tiny: { label: "tiny (hidden 128, 4 layers: the b1.58-tiny preset)", overrides: {} },
};

export const VARIANT_LABELS: Record<TrainVariant, string> = { "b1.58": "BitNet b1.58", "a4.8": "BitNet a4.8", bitnet: "BitNet (binary)", fp: "fp baseline" };

export function trainSpec(variant: TrainVariant, size: TrainSize, vocabSize: number): ModelSpec {
  return preset(variant, "tiny", { ...TRAIN_SIZES[size].overrides, vocab_size: vocabSize });
}

/** `onebit train`'s defaults: the best peak rates of the acceptance run. */
export function defaultLr(variant: TrainVariant): number {
  return variant === "fp" ? 3e-3 : 5e-3;
}
