import type { Variant } from "@onebit/layers";
import type { ModelSpec } from "../model-spec";
import { preset } from "../presets";

/**
 * A micro model of any variant for unit tests (not exported from the package): vocabulary 64, hidden 32, FFN 48,
 * 2 layers, 4 heads over 2 KV heads, context 64 — every code path of a real model, run in milliseconds.
 */
export function microSpec(variant: Variant): ModelSpec {
  return preset(variant, "tiny", { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });
}
