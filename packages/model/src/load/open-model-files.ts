/**
 * `openModel` for bytes that are not a path: a browser's picked files, a zip's entries, a folder on a web server
 * (load/model-files.ts). The same formats are recognised the same way — one GGUF file (by its magic), or a folder
 * with config.json holding onebit's checkpoint (safetensors metadata format "onebit") or a Hugging Face model
 * (single or sharded safetensors) — and the same readers do the work, tensor by tensor from the lazy sources.
 * `beforeTensors` sees the tensor table once the headers are read and before any tensor is, so a caller can refuse
 * a model that will not fit (a browser tab's memory) without reading it.
 * Sharded folders go through sharded-source.ts, which joins shard names with node:path: a browser bundle maps
 * node:path to a POSIX path module (apps/web aliases it to pathe).
 */
import { onebitArchitecture } from "../architectures/onebit";
import { architectureForConfig } from "../architectures/registry";
import { openGguf } from "../gguf/gguf-reader";
import { type ModelSpec, parseModelSpec } from "../model-spec";
import { openShardedSafetensors } from "../safetensors/sharded-source";
import { openSafetensors } from "../safetensors/safetensors-source";
import { INDEX_FILE_NAME, SINGLE_FILE_NAME } from "../safetensors/file-names";
import { tokenizerFromGguf, tokenizerFromJson } from "../tokenizers/load-tokenizer";
import { OnebitBpeTokenizer } from "../tokenizers/onebit-bpe-adapter";
import type { Tokenizer } from "../tokenizers/tokenizer";
import type { ByteSource } from "../weights/byte-source";
import { ModelFileError, type TensorEntry, type WeightSource } from "../weights/weight-source";
import { modelFromGguf } from "./gguf-model";
import { modelFromHf } from "./hf-model";
import type { ModelFiles } from "./model-files";
import { onebitWeightsFromSource } from "./onebit-weights";
import type { OpenedModel, OpenModelOptions } from "./open-model";

export interface TensorTable {
  /** The weights file (or shard index) the table comes from. */
  file: string;
  tensors: ReadonlyMap<string, TensorEntry>;
  /** Σ of the tensors' bytes in the file(s): what loading reads. */
  tensorBytes: number;
}

export interface OpenModelFilesOptions extends OpenModelOptions {
  /** Called after the headers are parsed and before any tensor is read; throw to refuse the model. */
  beforeTensors?: (table: TensorTable) => void;
}

function tableOf(source: WeightSource): TensorTable {
  let tensorBytes = 0;
  for (const t of source.tensors.values()) tensorBytes += t.byteLength;
  return { file: source.path, tensors: source.tensors, tensorBytes };
}

/** The picked thing is one file when it lists exactly one file and that is not config.json. */
function singleFile(files: ModelFiles): string | undefined {
  return files.list?.length === 1 && files.list[0] !== "config.json" ? files.list[0] : undefined;
}

async function readAll(source: ByteSource): Promise<Uint8Array> {
  try {
    return await source.read(0, source.size);
  } finally {
    await source.close();
  }
}

/** A JSON file of the folder, parsed, or undefined when the folder has none. */
async function readJson(files: ModelFiles, name: string): Promise<unknown> {
  const source = await files.open(name);
  if (!source) return undefined;
  const shown = source.name;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await readAll(source));
  } catch (e) {
    throw new ModelFileError(shown, "file", e instanceof TypeError ? "is not valid UTF-8" : `cannot be read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(shown, "(root)", `not valid JSON (${(e as Error).message})`);
  }
}

function checkTokenizerFits(tokenizer: Tokenizer | undefined, spec: ModelSpec, file: string): void {
  if (tokenizer && tokenizer.vocabSize > spec.vocab_size)
    throw new ModelFileError(file, "vocabulary", `the tokenizer has ${tokenizer.vocabSize} tokens but the model's embedding has ${spec.vocab_size} rows`);
}

async function openGgufModel(files: ModelFiles, name: string, options: OpenModelFilesOptions): Promise<OpenedModel> {
  const bytes = (await files.open(name))!;
  const shown = bytes.name;
  const magic = bytes.size >= 4 ? await bytes.read(0, 4) : new Uint8Array(0);
  if (String.fromCharCode(...magic) !== "GGUF") {
    await bytes.close();
    const found = magic.length < 4 ? `a file of ${bytes.size} bytes` : `the bytes ${JSON.stringify(String.fromCharCode(...magic).replace(/[^\x20-\x7e]/g, "?"))}`;
    throw new ModelFileError(shown, "magic", `not a GGUF file (expected the bytes "GGUF" first, found ${found}); models are .gguf files or folders (or zips) with config.json`);
  }
  const source = await openGguf(bytes);
  try {
    options.beforeTensors?.(tableOf(source));
    const m = await modelFromGguf(source, options.onProgress);
    const tokenizer = source.metadata.has("tokenizer.ggml.model") ? tokenizerFromGguf(source.metadata, shown) : undefined;
    checkTokenizerFits(tokenizer, m.spec, shown);
    const notes = [...m.notes];
    if (!tokenizer) notes.push("the file carries no tokenizer (tokenizer.ggml.*): it cannot read text");
    const ggufTokenizer = [...source.typedMetadata].filter(([k]) => k.startsWith("tokenizer."));
    return { path: shown, format: "gguf", architecture: m.architecture, spec: m.spec, weights: m.weights, tokenizer, ggufTokenizer, notes };
  } finally {
    await source.close();
  }
}

async function openWeights(files: ModelFiles, folder: string): Promise<WeightSource> {
  const present = async (name: string) => {
    if (files.list) return files.list.includes(name);
    const s = await files.open(name);
    await s?.close();
    return s !== undefined;
  };
  const [hasSingle, hasIndex] = await Promise.all([present(SINGLE_FILE_NAME), present(INDEX_FILE_NAME)]);
  if (hasSingle && hasIndex) throw new ModelFileError(folder, "weights", `holds both ${SINGLE_FILE_NAME} and ${INDEX_FILE_NAME}; expected one (remove the stale one)`);
  if (!hasSingle && !hasIndex) throw new ModelFileError(folder, "weights", `expected ${SINGLE_FILE_NAME} or ${INDEX_FILE_NAME}, found neither${files.list ? ` (the folder holds ${files.list.slice(0, 8).join(", ")})` : ""}`);
  if (hasSingle) return openSafetensors((await files.open(SINGLE_FILE_NAME))!);
  // shard names are plain file names (the index reader refuses anything else), so the last segment is the file
  return openShardedSafetensors(`${folder}/${INDEX_FILE_NAME}`, {
    open: async (path) => {
      const source = await files.open(path.slice(path.lastIndexOf("/") + 1));
      if (!source) throw Object.assign(new Error(`${path}: no such file`), { code: "ENOENT" });
      return source;
    },
  });
}

export async function openModelFiles(files: ModelFiles, options: OpenModelFilesOptions = {}): Promise<OpenedModel> {
  const single = singleFile(files);
  if (single !== undefined) return openGgufModel(files, single, options);
  const folder = files.name.replace(/\/+$/, "");
  const configPath = `${folder}/config.json`;
  const config = await readJson(files, "config.json");
  if (config === undefined)
    throw new ModelFileError(folder, "config.json", `missing: a model is one .gguf file, or a folder (or zip) with config.json and safetensors weights${files.list ? `; found ${files.list.length} files (${files.list.slice(0, 6).join(", ")}${files.list.length > 6 ? ", …" : ""})` : ""}`);
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new ModelFileError(configPath, "(root)", `expected a JSON object, found ${config === null ? "null" : Array.isArray(config) ? "an array" : typeof config}`);
  const weightsSource = await openWeights(files, folder);
  try {
    const tokJson = await readJson(files, "tokenizer.json");
    const tokConfig = await readJson(files, "tokenizer_config.json");
    const tokFile = `${folder}/tokenizer.json`;
    if (weightsSource.metadata.get("format") === "onebit") {
      let spec: ModelSpec;
      try {
        spec = parseModelSpec(config);
      } catch (e) {
        throw new ModelFileError(configPath, "spec", (e as Error).message);
      }
      options.beforeTensors?.(tableOf(weightsSource));
      const weights = await onebitWeightsFromSource(spec, weightsSource, configPath, options.onProgress);
      const tokenizer = tokJson === undefined ? undefined : tokenizerFromJson(tokJson, tokFile, tokConfig);
      checkTokenizerFits(tokenizer, spec, tokFile);
      const hfTokenizer = tokenizer && !(tokenizer instanceof OnebitBpeTokenizer) ? { tokenizer: tokJson, tokenizerConfig: tokConfig } : undefined;
      const notes = tokenizer ? [] : ["the folder has no tokenizer.json: it cannot read text"];
      return { path: folder, format: "onebit", architecture: onebitArchitecture, spec, weights, tokenizer, tokenizerJson: tokJson, hfTokenizer, notes };
    }
    const architecture = architectureForConfig(config as Record<string, unknown>, configPath);
    options.beforeTensors?.(tableOf(weightsSource));
    const m = await modelFromHf(architecture, config as Record<string, unknown>, configPath, weightsSource, options.onProgress);
    const tokenizer = tokJson === undefined ? undefined : tokenizerFromJson(tokJson, tokFile, tokConfig);
    checkTokenizerFits(tokenizer, m.spec, tokFile);
    const notes = [...m.notes];
    if (!tokenizer) notes.push("the folder has no tokenizer.json: it cannot read text");
    const hfTokenizer = tokJson === undefined ? undefined : { tokenizer: tokJson, tokenizerConfig: tokConfig };
    return { path: folder, format: "hf", architecture, spec: m.spec, weights: m.weights, tokenizer, hfTokenizer, notes };
  } finally {
    await weightsSource.close();
  }
}
