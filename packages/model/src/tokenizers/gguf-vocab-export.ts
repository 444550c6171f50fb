/**
 * onebit's BPE tokenizer as GGUF tokenizer metadata, the fields llama.cpp's convert_hf_to_gguf.py writes for a
 * GPT-2-style byte-level BPE (gguf-py gguf_writer add_tokenizer_model/…; read back by src/llama-vocab.cpp):
 *
 *   tokenizer.ggml.model "gpt2", tokenizer.ggml.pre "gpt-2"
 *     onebit's pre-tokenizer is GPT-2's regex with the trailing |\s+ alternative. llama-vocab.cpp lists the
 *     GPT-2 regex without it, but runs it through unicode_regex_split_custom_gpt2, whose last branch is exactly
 *     that \s+ (gpt2-split.ts), so the pieces agree — except on two code points: onebit's JavaScript \s counts
 *     U+FEFF as whitespace and not U+0085; llama.cpp's Unicode White_Space the other way round. Text holding a
 *     BOM or NEL character can tokenize differently in llama.cpp (the tests pin this).
 *   tokenizer.ggml.tokens  the special tokens by name, the rest as GPT-2 byte characters; ids beyond the
 *     tokenizer up to the model's vocab_size are "[PAD{id}]" of type 5 (unused), as convert_hf_to_gguf.py pads
 *   tokenizer.ggml.token_type  3 (control) for <pad> <bos> <eos>, 1 (normal) for bytes and merges, 5 for padding
 *   tokenizer.ggml.merges  "left right" in rank order (merge i made token 259 + i)
 *   bos 1, eos 2, padding 0
 *   tokenizer.ggml.add_bos_token true: onebit trains every document as BOS … EOS and its CLI prompts start with
 *     BOS, so llama.cpp (llama-cli, llama-perplexity: first token of every chunk) must put BOS first too — then
 *     llama-perplexity scores the token sequence a onebit model was trained on. add_eos_token false.
 *
 * The control tokens are matched in text only when llama.cpp parses special tokens (llama-tokenize and
 * llama-server do by default): text holding "<eos>" literally is plain bytes to onebit, EOS to those tools.
 */
import type { BpeTokenizer } from "../bpe-tokenizer";
import { GGUF_TOKEN_TYPE, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { ONEBIT_BYTE_BASE, onebitTokenStrings } from "./onebit-vocabulary";
import { ModelInputError } from "../model-input-error";

/** A GGUF key/value with its on-disk type (structurally the writer's GgufKv). */
export interface GgufTokenizerKv {
  key: string;
  type: "u32" | "i32" | "bool" | "string" | "array";
  itemType?: "i32" | "string";
  value: string | number | boolean | string[] | number[];
}

/** The tokenizer metadata for a model whose embedding has `vocabSize` rows (≥ the tokenizer's vocabulary). */
export function onebitBpeToGguf(bpe: BpeTokenizer, vocabSize: number): GgufTokenizerKv[] {
  if (!Number.isInteger(vocabSize) || vocabSize < bpe.vocabSize)
    throw new ModelInputError(`onebitBpeToGguf: vocabSize: expected an integer ≥ the tokenizer's ${bpe.vocabSize} tokens, found ${vocabSize}`);
  const tokens = onebitTokenStrings(bpe);
  const types: number[] = tokens.map((_, id) => (id < ONEBIT_BYTE_BASE ? GGUF_TOKEN_TYPE.control : GGUF_TOKEN_TYPE.normal));
  for (let id = tokens.length; id < vocabSize; id++) {
    tokens.push(`[PAD${id}]`);
    types.push(GGUF_TOKEN_TYPE.unused);
  }
  const merges = bpe.merges.map(([a, b]) => `${tokens[a]} ${tokens[b]}`);
  return [
    { key: K.model, type: "string", value: "gpt2" },
    { key: K.pre, type: "string", value: "gpt-2" },
    { key: K.tokens, type: "array", itemType: "string", value: tokens },
    { key: K.tokenType, type: "array", itemType: "i32", value: types },
    { key: K.merges, type: "array", itemType: "string", value: merges },
    { key: K.bosId, type: "u32", value: bpe.bosId },
    { key: K.eosId, type: "u32", value: bpe.eosId },
    { key: K.paddingId, type: "u32", value: bpe.padId },
    { key: K.addBos, type: "bool", value: true },
    { key: K.addEos, type: "bool", value: false },
  ];
}
