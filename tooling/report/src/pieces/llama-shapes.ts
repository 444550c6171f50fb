/**
 * The model sizes of the b1.58 paper's efficiency results (arXiv 2402.17764 Table 1: 700M, 1.3B, 3B; Figure 2 adds
 * 7B, 13B, 70B), as LLaMA shapes: 32000-token vocabulary, untied embedding and LM head, multi-head attention
 * (70B: 8 KV heads, as LLaMA-2 70B). The paper does not list its shapes; these are LLaMA-1/2's (7B, 13B, 70B) and
 * OpenLLaMA's 3B, with 700M / 1.3B following the same pattern — their parameter counts land on the paper's labels.
 * fp models use the LLaMA block (SwiGLU, no sub-norms); 1-bit models the 2B4T block (ReLU²GLU, SubLN).
 */
import type { Variant } from "@onebit/layers";
import { type ModelSpec, preset } from "@onebit/model";

export interface LlamaShape {
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
}

export const LLAMA_SHAPES: readonly LlamaShape[] = [
  { name: "700M", hidden: 1536, layers: 24, heads: 16, kvHeads: 16, ffn: 4096 },
  { name: "1.3B", hidden: 2048, layers: 24, heads: 32, kvHeads: 32, ffn: 5460 },
  { name: "3B", hidden: 3200, layers: 26, heads: 32, kvHeads: 32, ffn: 8640 },
  { name: "7B", hidden: 4096, layers: 32, heads: 32, kvHeads: 32, ffn: 11008 },
  { name: "13B", hidden: 5120, layers: 40, heads: 40, kvHeads: 40, ffn: 13824 },
  { name: "70B", hidden: 8192, layers: 80, heads: 64, kvHeads: 8, ffn: 28672 },
];

export function llamaSpec(shape: LlamaShape, variant: Variant, layers = shape.layers): ModelSpec {
  return preset(variant, "tiny", {
    vocab_size: 32000,
    hidden_size: shape.hidden,
    intermediate_size: shape.ffn,
    num_hidden_layers: layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: shape.hidden / shape.heads,
    max_position_embeddings: 2048,
    tie_word_embeddings: false,
  });
}
