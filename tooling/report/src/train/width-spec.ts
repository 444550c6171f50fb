/**
 * The model family of the scaling runs: the `tiny` preset's shape (4 layers, FFN = 2.6875 × hidden, head size 32,
 * two query heads per KV head, the 1024-token Brown BPE vocabulary, tied embeddings) at other widths. Width 128 is
 * exactly the `tiny` preset of `pnpm bench:train` (BENCHMARKS.md "Training"), so its numbers line up with the
 * acceptance run's. Non-embedding parameters are the size axis, as in scaling-law plots (the embedding of a
 * 1024-token vocabulary is a large share of these tiny models and is full precision in every variant).
 */
import type { Variant } from "@onebit/layers";
import { type ModelSpec, parameterCounts, preset } from "@onebit/model";

export function widthSpec(variant: Variant, width: number, options: { layers?: number; hiddenAct?: "relu2" | "silu"; groups?: number; subNorm?: boolean } = {}): ModelSpec {
  if (width % 32 !== 0) throw new RangeError(`width: a multiple of the head size 32, got ${width}`);
  const heads = width / 32;
  return preset(variant, "tiny", {
    hidden_size: width,
    intermediate_size: Math.round((width * 344) / 128),
    num_hidden_layers: options.layers ?? 4,
    num_attention_heads: heads,
    num_key_value_heads: Math.max(1, heads / 2),
    ...(options.hiddenAct ? { hidden_act: options.hiddenAct } : {}),
    ...(options.groups || options.subNorm !== undefined ? { onebit: { ...(options.groups ? { groups: options.groups } : {}), ...(options.subNorm === undefined ? {} : { sub_norm: options.subNorm }) } } : {}),
  });
}

export function nonEmbeddingParameters(spec: ModelSpec): number {
  const c = parameterCounts(spec);
  return c.total - c.embedding - c.lm_head;
}
