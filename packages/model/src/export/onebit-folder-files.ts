/**
 * A onebit checkpoint folder (checkpoint.ts describes the layout) as file bytes in memory — config.json,
 * model.safetensors (packed projections + `<name>_scale`, F32 elsewhere, metadata format "onebit") and
 * tokenizer.json — for a browser to zip or download. Weights may be latent floats (packed here, as saveCheckpoint
 * does) or already packed; `openModelFiles` reads the result back.
 */
import { encodeSafetensors, f32Tensor, type SafeTensor } from "../safetensors";
import { ModelInputError } from "../model-input-error";
import type { ModelSpec } from "../model-spec";
import { numel, tensorList } from "../tensor-names";
import type { ModelWeights } from "../transformer";
import { isQuantizedTable, tableToF32 } from "../weights/quantized-table";
import { packLatentWeights } from "./pack-latent-weights";

export function onebitFolderFiles(checkpoint: { spec: ModelSpec; weights: ModelWeights; tokenizer?: unknown }): Map<string, Uint8Array> {
  const { spec } = checkpoint;
  const packed = packLatentWeights(spec, checkpoint.weights);
  const tensors = new Map<string, SafeTensor>();
  for (const t of tensorList(spec)) {
    const stored = packed.get(t.name)!;
    const w = isQuantizedTable(stored) ? tableToF32(stored) : stored; // onebit folders hold dense tensors as F32
    if (w instanceof Float32Array) {
      if (w.length !== numel(t.shape)) throw new ModelInputError(`onebitFolderFiles: tensor "${t.name}" has ${w.length} values, expected ${numel(t.shape)}`);
      tensors.set(t.name, f32Tensor(w, [...t.shape]));
    } else {
      tensors.set(t.name, { dtype: "U8", shape: [w.outFeatures, w.data.length / w.outFeatures], data: w.data });
      tensors.set(`${t.name}_scale`, f32Tensor(w.scales, [w.scales.length]));
    }
  }
  const text = (s: string) => new TextEncoder().encode(s);
  const files = new Map<string, Uint8Array>();
  files.set("config.json", text(`${JSON.stringify(spec, null, 2)}\n`));
  files.set("model.safetensors", encodeSafetensors(tensors, { format: "onebit", variant: spec.onebit.variant }));
  if (checkpoint.tokenizer !== undefined) files.set("tokenizer.json", text(`${JSON.stringify(checkpoint.tokenizer)}\n`));
  return files;
}
