/**
 * The GGUF metadata keys of a tokenizer (llama.cpp gguf-py/gguf/constants.py Keys.Tokenizer, src/llama-arch.cpp
 * LLM_KV_NAMES) and the token types of tokenizer.ggml.token_type (gguf-py TokenType, include/llama.h
 * llama_token_type).
 */

export const GGUF_TOKENIZER_KEYS = {
  model: "tokenizer.ggml.model",
  pre: "tokenizer.ggml.pre",
  tokens: "tokenizer.ggml.tokens",
  tokenType: "tokenizer.ggml.token_type",
  merges: "tokenizer.ggml.merges",
  bosId: "tokenizer.ggml.bos_token_id",
  eosId: "tokenizer.ggml.eos_token_id",
  eotId: "tokenizer.ggml.eot_token_id",
  eomId: "tokenizer.ggml.eom_token_id",
  unknownId: "tokenizer.ggml.unknown_token_id",
  paddingId: "tokenizer.ggml.padding_token_id",
  sepId: "tokenizer.ggml.seperator_token_id", // sic: llama.cpp's spelling (src/llama-arch.cpp LLM_KV_TOKENIZER_SEP_ID)
  clsId: "tokenizer.ggml.cls_token_id",
  maskId: "tokenizer.ggml.mask_token_id",
  addBos: "tokenizer.ggml.add_bos_token",
  addEos: "tokenizer.ggml.add_eos_token",
  chatTemplate: "tokenizer.chat_template",
  /** The names of the named templates, each under chatTemplateKey(name) (gguf-py Keys.Tokenizer.CHAT_TEMPLATES). */
  chatTemplates: "tokenizer.chat_templates",
} as const;

/** A named chat template's key (gguf-py Keys.Tokenizer.CHAT_TEMPLATE_N); "default" is tokenizer.chat_template itself. */
export const chatTemplateKey = (name: string): string => `tokenizer.chat_template.${name}`;

export const GGUF_TOKEN_TYPE = {
  undefined: 0,
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
