/**
 * The one entry point that turns a path into a runnable model, whatever wrote it: a `.gguf` file (llama.cpp,
 * bitnet.cpp, onebit), a Hugging Face folder (BitNetForCausalLM, LlamaForCausalLM; single or sharded
 * safetensors), or onebit's own checkpoint folder. The format is recognised from the bytes and files, the
 * architecture from the table; errors name the file and the field.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Architecture } from "../architectures/architecture";
import { onebitArchitecture } from "../architectures/onebit";
import { architectureForConfig } from "../architectures/registry";
import { loadCheckpoint } from "../checkpoint";
import { type GgufSource, openGguf } from "../gguf/gguf-reader";
import type { GgufTypedValue } from "../gguf/gguf-value-types";
import type { ModelSpec } from "../model-spec";
import { openSafetensorsFolder } from "../safetensors/sharded-source";
import { tokenizerFromGguf, tokenizerFromJson } from "../tokenizers/load-tokenizer";
import { OnebitBpeTokenizer } from "../tokenizers/onebit-bpe-adapter";
import type { Tokenizer } from "../tokenizers/tokenizer";
import type { ModelWeights } from "../transformer";
import { fileByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { modelFromGguf } from "./gguf-model";
import { modelFromHf } from "./hf-model";

export type ModelFormat = "onebit" | "gguf" | "hf";

export interface OpenedModel {
  path: string;
  format: ModelFormat;
  architecture: Architecture;
  spec: ModelSpec;
  weights: ModelWeights;
  tokenizer?: Tokenizer;
  /** The raw tokenizer JSON of a onebit folder (kept so a conversion can write it back unchanged). */
  tokenizerJson?: unknown;
  /** A GGUF source's `tokenizer.*` keys with their types (a GGUF → GGUF conversion copies them). */
  ggufTokenizer?: Array<[string, GgufTypedValue]>;
  /** A Hugging Face source's tokenizer files as read (an HF → HF conversion copies them). */
  hfTokenizer?: { tokenizer: unknown; tokenizerConfig?: unknown };
  /** Things the user should know about how the model was read. */
  notes: string[];
}

export interface OpenModelOptions {
  onProgress?: (done: number, total: number) => void;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ModelFileError(path, "file", `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(path, "(root)", `not valid JSON (${(e as Error).message})`);
  }
}

async function optionalJson(path: string): Promise<unknown> {
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  return readJson(path);
}

async function isGgufFile(path: string): Promise<boolean> {
  const src = await fileByteSource(path);
  try {
    if (src.size < 4) return false;
    const magic = await src.read(0, 4);
    return String.fromCharCode(...magic) === "GGUF";
  } finally {
    await src.close();
  }
}

/** A tokenizer with ids the model has no embedding row for is refused now, not at the first such token. */
function checkTokenizerFits(tokenizer: Tokenizer | undefined, spec: ModelSpec, file: string): void {
  if (tokenizer && tokenizer.vocabSize > spec.vocab_size)
    throw new ModelFileError(file, "vocabulary", `the tokenizer has ${tokenizer.vocabSize} tokens but the model's embedding has ${spec.vocab_size} rows`);
}

/** The path's kind, or a ModelFileError naming it; a file must start with the GGUF magic and is opened as one. */
async function openPath(path: string): Promise<{ gguf: GgufSource } | { dir: string }> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw new ModelFileError(path, "path", `cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (info.isDirectory()) return { dir: path };
  if (!info.isFile()) throw new ModelFileError(path, "path", "is neither a file nor a folder");
  if (!(await isGgufFile(path))) throw new ModelFileError(path, "magic", 'not a GGUF file (expected the bytes "GGUF" first); models are .gguf files or folders with config.json');
  return { gguf: await openGguf(await fileByteSource(path)) };
}

export async function openModel(path: string, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const opened = await openPath(path);
  if ("gguf" in opened) {
    const source = opened.gguf;
    try {
      // the tensors' reads start first: the vocabulary (≈ 0.5 s for LLaMA-3's) is built while they come in
      const loading = modelFromGguf(source, options.onProgress);
      let tokenizer: ReturnType<typeof tokenizerFromGguf> | undefined;
      try {
        tokenizer = source.metadata.has("tokenizer.ggml.model") ? tokenizerFromGguf(source.metadata, path) : undefined;
      } catch (e) {
        await loading.catch(() => {}); // its reads end before the source closes; the tokenizer's error is the one to report
        throw e;
      }
      const m = await loading;
      checkTokenizerFits(tokenizer, m.spec, path);
      const ggufTokenizer = [...source.typedMetadata].filter(([k]) => k.startsWith("tokenizer."));
      const notes = [...m.notes];
      if (!tokenizer) notes.push("the file carries no tokenizer (tokenizer.ggml.*): text commands cannot run it");
      return { path, format: "gguf", architecture: m.architecture, spec: m.spec, weights: m.weights, tokenizer, ggufTokenizer, notes };
    } finally {
      await source.close();
    }
  }
  const configPath = join(path, "config.json");
  const config = await readJson(configPath);
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new ModelFileError(configPath, "(root)", `expected a JSON object, found ${config === null ? "null" : Array.isArray(config) ? "an array" : typeof config}`);
  const weightsSource = await openSafetensorsFolder(path);
  if (weightsSource.metadata.get("format") === "onebit") {
    await weightsSource.close();
    const ckpt = await loadCheckpoint(path);
    // onebit's own BPE JSON, or a tokenizer.json (+ tokenizer_config.json) a conversion from another format wrote
    const tokConfig = await optionalJson(join(path, "tokenizer_config.json"));
    const tokenizer = ckpt.tokenizer === undefined ? undefined : tokenizerFromJson(ckpt.tokenizer, join(path, "tokenizer.json"), tokConfig);
    checkTokenizerFits(tokenizer, ckpt.spec, join(path, "tokenizer.json"));
    const hfTokenizer = tokenizer && !(tokenizer instanceof OnebitBpeTokenizer) ? { tokenizer: ckpt.tokenizer, tokenizerConfig: tokConfig } : undefined;
    return { path, format: "onebit", architecture: onebitArchitecture, spec: ckpt.spec, weights: ckpt.weights, tokenizer, tokenizerJson: ckpt.tokenizer, hfTokenizer, notes: [] };
  }
  try {
    const architecture = architectureForConfig(config as Record<string, unknown>, configPath);
    const m = await modelFromHf(architecture, config as Record<string, unknown>, configPath, weightsSource, options.onProgress);
    const tokJson = await optionalJson(join(path, "tokenizer.json"));
    const tokConfig = await optionalJson(join(path, "tokenizer_config.json"));
    const tokenizer = tokJson === undefined ? undefined : tokenizerFromJson(tokJson, join(path, "tokenizer.json"), tokConfig);
    checkTokenizerFits(tokenizer, m.spec, join(path, "tokenizer.json"));
    const notes = [...m.notes];
    if (!tokenizer) notes.push("the folder has no tokenizer.json: text commands cannot run it");
    const hfTokenizer = tokJson === undefined ? undefined : { tokenizer: tokJson, tokenizerConfig: tokConfig };
    return { path, format: "hf", architecture, spec: m.spec, weights: m.weights, tokenizer, hfTokenizer, notes };
  } finally {
    await weightsSource.close();
  }
}

/** Only the tokenizer of a model path (a GGUF's header, or a folder's tokenizer.json): no weights are read. */
export async function openTokenizer(path: string): Promise<Tokenizer> {
  const opened = await openPath(path);
  if ("gguf" in opened) {
    const source = opened.gguf;
    try {
      if (!source.metadata.has("tokenizer.ggml.model")) throw new ModelFileError(path, "tokenizer.ggml.model", "missing: the file carries no tokenizer");
      return tokenizerFromGguf(source.metadata, path);
    } finally {
      await source.close();
    }
  }
  const file = join(path, "tokenizer.json");
  const json = await readJson(file);
  return tokenizerFromJson(json, file, await optionalJson(join(path, "tokenizer_config.json")));
}
