/**
 * Shared by the tests beside it (not exported from the package): the real LLaMA-3 vocabulary (128 000 BPE tokens,
 * 280 147 merges, 256 special tokens), offline from the llama3-tokenizer-js package, as a Hugging Face
 * tokenizer.json (the layout of meta-llama/Meta-Llama-3-8B's) and as the GGUF metadata convert_hf_to_gguf.py
 * writes for it (pre "llama-bpe", control type for the specials), and texts that exercise it.
 */
import llama3Tokenizer from "llama3-tokenizer-js";
import { GGUF_TOKEN_TYPE, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { LLAMA3_SPLIT_REGEX } from "./hf-pre-tokenizer-names";

export const BEGIN_OF_TEXT = 128000;
export const END_OF_TEXT = 128001;
export const EOM = 128008;
export const EOT = 128009;
export const N_NORMAL = 128000;

// meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json "chat_template"
export const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

export function llama3TokenizerJson(): Record<string, unknown> {
  const tokens = llama3Tokenizer.vocabById;
  const vocab: Record<string, number> = {};
  for (let i = 0; i < N_NORMAL; i++) vocab[tokens[i]!] = i;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: tokens.slice(N_NORMAL).map((content, i) => ({ id: N_NORMAL + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: LLAMA3_SPLIT_REGEX }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "Sequence",
      processors: [
        { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: "TemplateProcessing",
          single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
          pair: [
            { SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } },
            { Sequence: { id: "A", type_id: 0 } },
            { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } },
            { Sequence: { id: "B", type_id: 1 } },
          ],
          special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [BEGIN_OF_TEXT], tokens: ["<|begin_of_text|>"] } },
        },
      ],
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
      ignore_merges: true,
      vocab,
      merges: [...llama3Tokenizer.merges.keys()], // in priority order
    },
  };
}

let ggufMetadata: Map<string, unknown> | undefined;
/** A fresh Map each call (tests edit it); the arrays are built once. */
export function llama3GgufMetadata(): Map<string, unknown> {
  if (ggufMetadata) return new Map(ggufMetadata);
  const tokens = llama3Tokenizer.vocabById;
  ggufMetadata = new Map<string, unknown>([
    [K.model, "gpt2"],
    [K.pre, "llama-bpe"],
    [K.tokens, tokens],
    [K.tokenType, Int32Array.from(tokens, (_, i) => (i < N_NORMAL ? GGUF_TOKEN_TYPE.normal : GGUF_TOKEN_TYPE.control))],
    [K.merges, [...llama3Tokenizer.merges.keys()]],
    [K.bosId, BEGIN_OF_TEXT],
    [K.eosId, EOT],
    [K.chatTemplate, LLAMA3_CHAT_TEMPLATE],
  ]);
  return new Map(ggufMetadata);
}

export const TEXTS = [
  "Hello world! It's a test. DON'T PANIC, we're fine; they'll see.",
  "Ünïcödé façade naïve — «quotes», 日本語のテキストです。中文文本测试。한국어 텍스트입니다. Русский текст, Ελληνικά, עברית, العربية, हिन्दी.",
  "Emoji: 😀👍🏽🎉 👩‍👩‍👧 ❤️ 🇫🇷🇯🇵 and ™ © ½ ² ∑∫√.",
  'def fib(n: int) -> int:\n    """Fibonacci."""\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n\tif (a->b != NULL) { x += 0x1F; }  // done\r\n',
  "Numbers 1234567890 3.14159 -42 1e-9 007 ٣٤٥ and   many    spaces\n\n\n  trailing   ",
  "Spaces before punctuation , . ! ? and ' s stay: decoding does not clean them up .",
  "",
  " ",
  "\n",
];
