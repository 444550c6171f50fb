/**
 * A loaded model → a Hugging Face folder that transformers loads: BitNetForCausalLM with packed uint8
 * [out/4, in] weights + weight_scale (the microsoft/bitnet-b1.58-2B-4T layout, quantization_mode "offline"), or
 * LlamaForCausalLM for full-precision models; config.json through the architecture table, dense tensors F32
 * (exact) or BF16, tokenizer.json + tokenizer_config.json. Large models are sharded as save_pretrained does.
 * Each tensor's bytes are made when the writer asks for them (the safetensors writer streams one at a time), and a
 * projection or table still in a GGUF source file is read from it then: one tensor is held at a time.
 */
import { OnebitError } from "@onebit/quant";
import type { ByteRange, PackedLinearWeight } from "@onebit/kernels";
import { hfArchitectureFor } from "../architectures/registry";
import { HF_SAFETENSORS_METADATA } from "../hf/hf-bitnet-config";
import { planHfPacked } from "../hf/hf-bitnet-weights";
import { f32ToHfDense } from "../hf/hf-dense-weights";
import type { ModelSpec } from "../model-spec";
import { writeShardedSafetensors } from "../safetensors/sharded-writer";
import type { TensorPlan } from "../safetensors/safetensors-writer";
import { tensorList } from "../tensor-names";
import type { ModelWeights } from "../transformer";
import { isQuantizedTable, type QuantizedTable } from "../weights/quantized-table";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFolderAtomically } from "./folder-commit";
import { t2Codes } from "./t2-codes";
import { tableRange } from "./table-bytes";

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
  if (dense !== "F32" && dense !== "BF16") throw new HfExportError(`denseDtype: expected "F32" or "BF16", got ${JSON.stringify(dense)}`);
  // the plan (names, dtypes, shapes, sizes: every check) now; each tensor's bytes when the writer reaches it
  const tensors: Array<{ plan: TensorPlan; bytes: () => Uint8Array | ByteRange }> = [];
  for (const t of tensorList(spec)) {
    const w = weights.get(t.name);
    if (!w) throw new HfExportError(`tensor "${t.name}" is missing from the model`);
    if (t.projection && !(w instanceof Float32Array) && !isQuantizedTable(w)) {
      const hf = planHfPacked(w as PackedLinearWeight, t.name, { linearClass: "autobitlinear" });
      const { byteLength, ...weight } = hf.weight;
      tensors.push({ plan: { ...weight, dtype: "U8", byteLength }, bytes: () => hf.pack(t2Codes(w as PackedLinearWeight)) });
      const scale = hf.weightScale;
      tensors.push({ plan: { name: scale.name, dtype: scale.dtype as TensorPlan["dtype"], shape: scale.shape, byteLength: scale.data.length }, bytes: () => scale.data });
      continue;
    }
    const n = t.shape.reduce((a, d) => a * d, 1);
    const values = isQuantizedTable(w) ? undefined : (w as Float32Array);
    if (values && values.length !== n) throw new HfExportError(`tensor "${t.name}": has ${values.length} values, shape ${JSON.stringify(t.shape)} needs ${n}`);
    if (isQuantizedTable(w) && w.rows * w.cols !== n) throw new HfExportError(`tensor "${t.name}": a ${w.rows}×${w.cols} table, shape ${JSON.stringify(t.shape)} needs ${n} values`);
    const bytes = () => (values ? f32ToHfDense(values, t.shape, dense, t.name).data : tableRange(w as QuantizedTable, dense));
    tensors.push({ plan: { name: t.name, dtype: dense, shape: [...t.shape], byteLength: n * (dense === "F32" ? 4 : 2) }, bytes });
  }
  const files: string[] = [];
  await writeFolderAtomically(dest, async (dir) => {
    const written = await writeShardedSafetensors(
      dir,
      tensors.map((t) => t.plan),
      (_, i) => tensors[i]!.bytes(),
      options.maxShardBytes ?? 5e9,
      HF_SAFETENSORS_METADATA,
    );
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
