/**
 * Latent float weights (what training produces) → the packed weights inference runs: every float block projection
 * is quantized and packed as its BitLinear prescribes (onebit-t2 / onebit-b1 with f32 scales; FP projections stay
 * float); packed projections, tables and every other tensor pass through unchanged. The same quantization
 * `saveCheckpoint` applies, so a model packed here computes what the exported checkpoint does, without a file
 * system (a browser hands the result to a Transformer, the GGUF planner or onebitFolderFiles).
 */
import { quantizeBitLinearWeight } from "@onebit/layers";
import { ModelInputError } from "../model-input-error";
import type { ModelSpec } from "../model-spec";
import { numel, tensorList } from "../tensor-names";
import { bitLinearSpecFor, type ModelWeights } from "../transformer";
import { isQuantizedTable } from "../weights/quantized-table";

export function packLatentWeights(spec: ModelSpec, weights: ModelWeights): ModelWeights {
  const out: ModelWeights = new Map();
  for (const t of tensorList(spec)) {
    const w = weights.get(t.name);
    if (!w) throw new ModelInputError(`packLatentWeights: tensor "${t.name}" is missing`);
    if (w instanceof Float32Array && w.length !== numel(t.shape))
      throw new ModelInputError(`packLatentWeights: tensor "${t.name}" has ${w.length} values, expected ${numel(t.shape)} (${JSON.stringify(t.shape)})`);
    out.set(t.name, t.projection && w instanceof Float32Array && !isQuantizedTable(w) ? quantizeBitLinearWeight(bitLinearSpecFor(spec, t.projection), w) : w);
  }
  return out;
}
