/**
 * A loaded model → a Hugging Face folder that transformers loads: BitNetForCausalLM with packed uint8
 * [out/4, in] weights + weight_scale (the microsoft/bitnet-b1.58-2B-4T layout, quantization_mode "offline"), or
 * LlamaForCausalLM for full-precision models; config.json through the architecture table, dense tensors F32
 * (exact) or BF16, tokenizer.json + tokenizer_config.json. Large models are sharded as save_pretrained does.
 */
import { OnebitError } from "@onebit/quant";
import type { PackedLinearWeight } from "@onebit/kernels";
import { hfArchitectureFor } from "../architectures/registry";
import { HF_SAFETENSORS_METADATA } from "../hf/hf-bitnet-config";
import { onebitToHfPacked } from "../hf/hf-bitnet-weights";
import { f32ToHfDense } from "../hf/hf-dense-weights";
import type { HfTensor } from "../hf/hf-tensor";
import type { ModelSpec } from "../model-spec";
import { writeShardedSafetensors } from "../safetensors/sharded-writer";
import type { TensorPlan } from "../safetensors/safetensors-writer";
import { tensorList } from "../tensor-names";
import type { ModelWeights } from "../transformer";
import { isQuantizedTable, tableToF32 } from "../weights/quantized-table";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFolderAtomically } from "./folder-commit";

export interface HfExportOptions {
  /** Dense tensors (embedding, norms, fp projections): "F32" (default, exact) or "BF16" (as 2B4T ships). */
  denseDtype?: "F32" | "BF16";
  /** tokenizer.json and tokenizer_config.json objects, when the model has a tokenizer. */
  tokenizerJson?: unknown;
  tokenizerConfig?: unknown;
  /** Shard above this many bytes (default 5 GB, transformers' max_shard_size default). */
  maxShardBytes?: number;
}

export class HfExportError extends OnebitError {
  constructor(message: string) {
    super("HF_EXPORT", message);
    this.name = "HfExportError";
  }
}

export async function exportHfFolder(dest: string, spec: ModelSpec, weights: ModelWeights, options: HfExportOptions = {}): Promise<{ architecture: string; files: string[] }> {
  const { architecture, reason } = hfArchitectureFor(spec);
  if (!architecture) throw new HfExportError(`transformers cannot run this model: ${reason}. Write a .gguf (arch "onebit") or a onebit folder instead`);
  const dense = options.denseDtype ?? "F32";
  const tensors: Array<Omit<HfTensor, "file">> = [];
  for (const t of tensorList(spec)) {
    const w = weights.get(t.name);
    if (!w) throw new HfExportError(`tensor "${t.name}" is missing from the model`);
    if (t.projection && !(w instanceof Float32Array) && !isQuantizedTable(w)) {
      const hf = onebitToHfPacked(w as PackedLinearWeight, t.name, { linearClass: "autobitlinear" });
      tensors.push(hf.weight, hf.weightScale);
      continue;
    }
    const values = isQuantizedTable(w) ? tableToF32(w) : (w as Float32Array);
    tensors.push(f32ToHfDense(values, t.shape, dense, t.name));
  }
  const files: string[] = [];
  await writeFolderAtomically(dest, async (dir) => {
    const plan: TensorPlan[] = tensors.map((t) => ({ name: t.name, dtype: t.dtype as TensorPlan["dtype"], shape: t.shape, byteLength: t.data.byteLength }));
    const byName = new Map(tensors.map((t) => [t.name, t.data]));
    const written = await writeShardedSafetensors(dir, plan, (p) => byName.get(p.name)!, options.maxShardBytes ?? 5e9, HF_SAFETENSORS_METADATA);
    files.push(...written.files);
    await writeFile(join(dir, "config.json"), `${JSON.stringify(architecture.toConfig!(spec), null, 2)}\n`);
    files.push("config.json");
    if (options.tokenizerJson !== undefined) {
      await writeFile(join(dir, "tokenizer.json"), JSON.stringify(options.tokenizerJson));
      files.push("tokenizer.json");
    }
    if (options.tokenizerConfig !== undefined) {
      await writeFile(join(dir, "tokenizer_config.json"), `${JSON.stringify(options.tokenizerConfig, null, 2)}\n`);
      files.push("tokenizer_config.json");
    }
  });
  return { architecture: architecture.id, files };
}
