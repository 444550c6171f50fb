/**
 * A model's tokenizer in the form each output format carries it: GGUF `tokenizer.*` keys, or Hugging Face
 * tokenizer.json + tokenizer_config.json. A GGUF source's keys and a Hugging Face source's files are copied as
 * they are; onebit's own BPE is written by tokenizers/gguf-vocab-export.ts and hf-tokenizer-export.ts. What cannot
 * be carried over is said (the result's `missing`), never dropped silently.
 */
import type { GgufKv } from "../architectures/architecture";
import type { GgufTypedValue } from "../gguf/gguf-value-types";
import { onebitBpeToGguf } from "../tokenizers/gguf-vocab-export";
import { onebitBpeToHf } from "../tokenizers/hf-tokenizer-export";
import { OnebitBpeTokenizer } from "../tokenizers/onebit-bpe-adapter";
import type { Tokenizer } from "../tokenizers/tokenizer";

export interface TokenizerSource {
  tokenizer?: Tokenizer;
  /** A GGUF source's tokenizer.* keys. */
  ggufTokenizer?: Array<[string, GgufTypedValue]>;
  /** A Hugging Face source's tokenizer.json / tokenizer_config.json, as read. */
  hfTokenizer?: { tokenizer: unknown; tokenizerConfig?: unknown };
}

/** The GGUF tokenizer keys for a model with `vocabSize` embedding rows, or why there are none. */
export function ggufTokenizerFields(src: TokenizerSource, vocabSize: number): { fields: GgufKv[]; missing?: string } {
  if (src.ggufTokenizer) return { fields: src.ggufTokenizer.map(([key, v]) => ({ key, ...v })) };
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
  if (src.tokenizer instanceof OnebitBpeTokenizer) {
    const files = onebitBpeToHf(src.tokenizer.bpe);
    return { tokenizer: files.tokenizer, tokenizerConfig: files.tokenizerConfig };
  }
  if (!src.tokenizer) return { missing: "the model has no tokenizer" };
  return { missing: `a ${src.tokenizer.kind} tokenizer cannot be written as tokenizer.json yet; the folder has no tokenizer` };
}
