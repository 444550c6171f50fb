/**
 * From a tokenizer file to a Tokenizer. A JSON file is recognised by its shape: onebit's own BPE
 * ({ type: "onebit-bpe", version, merges }) or a Hugging Face tokenizer.json (an object with a "model" object);
 * a GGUF file's tokenizer comes from its metadata.
 */
import { BpeTokenizer } from "../bpe-tokenizer";
import { ModelFileError } from "../weights/weight-source";
import { GgufVocab, type GgufVocabOptions } from "./gguf-vocab";
import type { GgufMetadata } from "./gguf-metadata-values";
import { HfTokenizer, type HfTokenizerOptions } from "./hf-tokenizer";
import { OnebitBpeTokenizer } from "./onebit-bpe-adapter";
import type { Tokenizer } from "./tokenizer";

/**
 * `json`: the parsed file; `fileName` names it in errors. `config`: a tokenizer.json's tokenizer_config.json,
 * parsed, when there is one (it carries the chat template, bos/eos names and add_bos_token).
 */
export function tokenizerFromJson(json: unknown, fileName: string, config?: unknown, options: Omit<HfTokenizerOptions, "config"> = {}): Tokenizer {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ModelFileError(fileName, "(top level)", `expected a tokenizer object, found ${Array.isArray(json) ? "an array" : json === null ? "null" : typeof json}`);
  const j = json as Record<string, unknown>;
  if (j.type === "onebit-bpe") {
    if (config !== undefined) throw new ModelFileError(fileName, "type", `"onebit-bpe" tokenizers take no tokenizer_config.json, but one was given`);
    return new OnebitBpeTokenizer(BpeTokenizer.fromJSON(json, fileName));
  }
  if (typeof j.model === "object" && j.model !== null) return HfTokenizer.fromJson(json, fileName, { ...options, config });
  throw new ModelFileError(
    fileName,
    "(top level)",
    `expected onebit's BPE ({"type": "onebit-bpe", …}) or a Hugging Face tokenizer.json ({"model": {…}, …}), found keys ${JSON.stringify(Object.keys(j).slice(0, 8))}`,
  );
}

/** A GGUF file's tokenizer (tokenizer.ggml.* and tokenizer.chat_template keys); `fileName` names it in errors. */
export function tokenizerFromGguf(metadata: GgufMetadata, fileName: string, options: GgufVocabOptions = {}): GgufVocab {
  return GgufVocab.fromMetadata(metadata, fileName, options);
}
