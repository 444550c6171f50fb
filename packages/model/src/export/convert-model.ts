/**
 * `convert`: any model onebit opens → a .gguf file, a Hugging Face folder or a onebit folder. The library side
 * of `onebit convert`; the CLI adds flags and progress.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { OpenedModel } from "../load/open-model";
import { saveCheckpoint } from "../checkpoint";
import { writeGguf } from "../gguf/gguf-writer";
import { OnebitBpeTokenizer } from "../tokenizers/onebit-bpe-adapter";
import { writeFolderAtomically, ExportDestinationError } from "./folder-commit";
import { type GgufProjectionType, type GgufTableType, planGgufExport } from "./gguf-export";
import { exportHfFolder } from "./hf-export";
import { ggufTokenizerFields, hfTokenizerFiles } from "./tokenizer-export";

export const CONVERT_TARGETS = ["gguf", "hf", "onebit"] as const;
export type ConvertTarget = (typeof CONVERT_TARGETS)[number];

export interface ConvertOptions {
  to: ConvertTarget;
  type?: GgufProjectionType;
  embeddingType?: GgufTableType;
  denseDtype?: "F32" | "BF16";
  /** Replace an existing output file (folders are never overwritten). */
  force?: boolean;
  name?: string;
  /** A .gguf output: called as the file is written, with the bytes written so far and the file's total. */
  onProgress?: (written: number, total: number) => void;
}

export interface ConvertResult {
  /** The architecture written (GGUF arch, HF architecture id, or "onebit"). */
  architecture: string;
  /** Things the user should know (fallbacks, rounding, a missing tokenizer). */
  notes: string[];
}

export async function convertModel(model: OpenedModel, output: string, options: ConvertOptions): Promise<ConvertResult> {
  const notes: string[] = [];
  if (options.to === "gguf") {
    if (existsSync(output) && !options.force) throw new ExportDestinationError(`${output}: exists; give --force to replace it`);
    const tok = ggufTokenizerFields(model, model.spec.vocab_size);
    if (tok.missing) notes.push(tok.missing);
    const plan = planGgufExport(model.spec, model.weights, { type: options.type, embeddingType: options.embeddingType, tokenizer: tok.fields, name: options.name });
    await writeGguf(output, { metadata: plan.metadata.map(({ key, type, value }) => ({ key, type, value })), tensors: plan.tensors }, undefined, { onProgress: options.onProgress });
    return { architecture: plan.architecture.gguf!.arch, notes: [...plan.notes, ...notes] };
  }
  if (options.to === "hf") {
    const tok = hfTokenizerFiles(model);
    if (tok.missing) notes.push(tok.missing);
    const r = await exportHfFolder(output, model.spec, model.weights, { denseDtype: options.denseDtype, tokenizerJson: tok.tokenizer, tokenizerConfig: tok.tokenizerConfig });
    return { architecture: r.architecture, notes };
  }
  // onebit folder: onebit's own BPE JSON, else a tokenizer.json (onebit reads both)
  let tokenizer: unknown;
  let tokenizerConfig: unknown;
  if (model.tokenizer instanceof OnebitBpeTokenizer) tokenizer = model.tokenizer.bpe.toJSON();
  else {
    const tok = hfTokenizerFiles(model);
    if (tok.missing) notes.push(tok.missing);
    tokenizer = tok.tokenizer;
    tokenizerConfig = tok.tokenizerConfig; // the chat template lives there
  }
  await writeFolderAtomically(output, async (dir) => {
    await saveCheckpoint(dir, { spec: model.spec, weights: model.weights, tokenizer });
    if (tokenizerConfig !== undefined) await writeFile(join(dir, "tokenizer_config.json"), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
  });
  return { architecture: "onebit", notes };
}
