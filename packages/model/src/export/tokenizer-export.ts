/**
 * A model's tokenizer in the form each output format carries it: GGUF `tokenizer.*` keys, or Hugging Face
 * tokenizer.json + tokenizer_config.json. A GGUF source's keys and a Hugging Face source's files are copied as
 * they are; across formats they are converted as llama.cpp's convert_hf_to_gguf.py converts a byte-level BPE
 * (tokenizers/hf-to-gguf-tokenizer.ts) and back (tokenizers/gguf-to-hf-tokenizer.ts); onebit's own BPE is written by
 * tokenizers/gguf-vocab-export.ts and hf-tokenizer-export.ts. What cannot be carried over is said (the result's
 * `missing`: why there is no tokenizer, or what the written one lacks), never dropped silently.
 */
import { join } from "node:path";
import type { GgufKv } from "../architectures/architecture";
import type { GgufTypedValue } from "../gguf/gguf-value-types";
import { ggufTokenizerToHf } from "../tokenizers/gguf-to-hf-tokenizer";
import { GGUF_TOKENIZER_KEYS } from "../tokenizers/gguf-tokenizer-keys";
import { GgufVocab } from "../tokenizers/gguf-vocab";
import { onebitBpeToGguf } from "../tokenizers/gguf-vocab-export";
import { hfTokenizerToGguf } from "../tokenizers/hf-to-gguf-tokenizer";
import { onebitBpeToHf } from "../tokenizers/hf-tokenizer-export";
import { OnebitBpeTokenizer } from "../tokenizers/onebit-bpe-adapter";
import type { Tokenizer } from "../tokenizers/tokenizer";
import { ModelFileError } from "../weights/weight-source";

export interface TokenizerSource {
  /** The model's file or folder, to name the tokenizer files in messages. */
  path?: string;
  tokenizer?: Tokenizer;
  /** A GGUF source's tokenizer.* keys. */
  ggufTokenizer?: Array<[string, GgufTypedValue]>;
  /** A Hugging Face source's tokenizer.json / tokenizer_config.json, as read. */
  hfTokenizer?: { tokenizer: unknown; tokenizerConfig?: unknown };
}

const joinNotes = (notes: string[]) => (notes.length > 0 ? notes.join("; ") : undefined);

/** The GGUF tokenizer keys for a model with `vocabSize` embedding rows, or why there are none. */
export function ggufTokenizerFields(src: TokenizerSource, vocabSize: number): { fields: GgufKv[]; missing?: string } {
  if (src.ggufTokenizer) return { fields: src.ggufTokenizer.map(([key, v]) => ({ key, ...v })) };
  if (src.hfTokenizer) {
    const file = src.path === undefined ? "tokenizer.json" : join(src.path, "tokenizer.json");
    const configFile = src.path === undefined ? "tokenizer_config.json" : join(src.path, "tokenizer_config.json");
    try {
      const { fields, notes } = hfTokenizerToGguf(src.hfTokenizer.tokenizer, file, { config: src.hfTokenizer.tokenizerConfig, configFile, vocabSize });
      return { fields, missing: joinNotes(notes) };
    } catch (e) {
      if (!(e instanceof ModelFileError)) throw e;
      return { fields: [], missing: `the tokenizer cannot be written as GGUF tokenizer keys (${e.message}); the file has no tokenizer` };
    }
  }
  if (src.tokenizer instanceof OnebitBpeTokenizer)
    return {
      fields: onebitBpeToGguf(src.tokenizer.bpe, vocabSize).map((kv) => ({ key: kv.key, type: kv.type === "array" ? (`${kv.itemType!}[]` as const) : kv.type, value: kv.value })),
    };
  if (!src.tokenizer) return { fields: [], missing: "the model has no tokenizer; llama.cpp will refuse the file (tokenizer.ggml.model is required)" };
  return { fields: [], missing: `a ${src.tokenizer.kind} tokenizer cannot be written as GGUF tokenizer keys yet; the file has no tokenizer` };
}

/** tokenizer.json + tokenizer_config.json for a Hugging Face folder, or why there are none. */
export function hfTokenizerFiles(src: TokenizerSource): { tokenizer?: unknown; tokenizerConfig?: unknown; missing?: string } {
  if (src.hfTokenizer) return { tokenizer: src.hfTokenizer.tokenizer, tokenizerConfig: src.hfTokenizer.tokenizerConfig };
  if (src.ggufTokenizer) {
    const file = src.path ?? "the GGUF file";
    const meta = new Map(src.ggufTokenizer.map(([key, v]) => [key, v.value]));
    // the pre-tokenizer the model was opened with, when that overrode the file's (GgufVocabOptions.pre)
    const opened = src.tokenizer instanceof GgufVocab ? src.tokenizer.pre : undefined;
    const inFile = meta.get(GGUF_TOKENIZER_KEYS.pre);
    const pre = opened !== undefined && opened !== inFile && !(inFile === undefined && opened === "default") ? opened : undefined;
    try {
      const files = ggufTokenizerToHf(meta, file, { pre });
      return { tokenizer: files.tokenizer, tokenizerConfig: files.tokenizerConfig, missing: joinNotes(files.notes) };
    } catch (e) {
      if (!(e instanceof ModelFileError)) throw e;
      return { missing: `the tokenizer cannot be written as tokenizer.json (${e.message}); the folder has no tokenizer` };
    }
  }
  if (src.tokenizer instanceof OnebitBpeTokenizer) {
    const files = onebitBpeToHf(src.tokenizer.bpe);
    return { tokenizer: files.tokenizer, tokenizerConfig: files.tokenizerConfig };
  }
  if (!src.tokenizer) return { missing: "the model has no tokenizer" };
  return { missing: `a ${src.tokenizer.kind} tokenizer cannot be written as tokenizer.json yet; the folder has no tokenizer` };
}
