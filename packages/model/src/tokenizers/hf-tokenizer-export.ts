/**
 * onebit's BPE tokenizer as a Hugging Face tokenizer.json + tokenizer_config.json, the GPT-2 layout that the
 * Rust `tokenizers` library (and so transformers' PreTrainedTokenizerFast), tokenizers.js and llama.cpp's
 * convert_hf_to_gguf.py read:
 *
 *   model: BPE over GPT-2 byte characters (vocab string → id, merges "left right" in rank order; no unk token,
 *     no byte fallback: every byte is a token)
 *   pre_tokenizer: ByteLevel { add_prefix_space: false, use_regex: true } — its regex is onebit's pre-tokenizer
 *     regex exactly ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, HF tokenizers
 *     src/pre_tokenizers/byte_level.rs). In JavaScript (tokenizers.js) \s means what it means to onebit; the
 *     Rust library compiles it with Oniguruma, whose \s is Unicode White_Space as in llama.cpp, so U+0085 and
 *     U+FEFF split as llama.cpp splits them (gguf-vocab-export.ts says how).
 *   decoder: ByteLevel
 *   post_processor: TemplateProcessing that puts <bos> first, like add_bos_token in the GGUF export: onebit
 *     trains every document as BOS … EOS and prompts start with BOS.
 *   added_tokens: <pad> <bos> <eos>, special. As in any tokenizer.json, transformers and tokenizers.js match
 *     their text in input ("<eos>" in text becomes EOS), which onebit's own encode never does.
 */
import type { BpeTokenizer } from "../bpe-tokenizer";
import { ONEBIT_BYTE_BASE, onebitTokenStrings } from "./onebit-vocabulary";

export interface HfTokenizerFiles {
  /** tokenizer.json */
  tokenizer: Record<string, unknown>;
  /** tokenizer_config.json */
  tokenizerConfig: Record<string, unknown>;
}

export function onebitBpeToHf(bpe: BpeTokenizer): HfTokenizerFiles {
  const tokens = onebitTokenStrings(bpe);
  const special = tokens.slice(0, ONEBIT_BYTE_BASE);
  const bos = tokens[bpe.bosId]!;
  const addedToken = (id: number) => ({ id, content: tokens[id]!, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    vocab[t] = id;
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special.map((_, id) => addedToken(id)),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [bpe.bosId], tokens: [bos] } },
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: bpe.merges.map(([a, b]) => `${tokens[a]} ${tokens[b]}`),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    add_bos_token: true,
    add_eos_token: false,
    bos_token: bos,
    eos_token: tokens[bpe.eosId]!,
    pad_token: tokens[bpe.padId]!,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    added_tokens_decoder: Object.fromEntries(
      special.map((content, id) => [String(id), { content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]),
    ),
  };
  return { tokenizer, tokenizerConfig };
}
