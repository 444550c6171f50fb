/**
 * The real LLaMA-3 vocabulary (128 000 BPE tokens, 280 147 merges, 256 special tokens), offline from the
 * llama3-tokenizer-js package, proves both readers: rebuilt as a Hugging Face tokenizer.json (the layout of
 * meta-llama/Meta-Llama-3-8B's) through hf-tokenizer.ts, and as GGUF metadata (what convert_hf_to_gguf.py writes
 * for it: pre "llama-bpe", control type for the specials) through gguf-vocab.ts. Both must give the ids
 * llama3-tokenizer-js gives.
 */
import fc from "fast-check";
import llama3Tokenizer from "llama3-tokenizer-js";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeChat, renderChat } from "./chat-template";
import { GGUF_TOKEN_TYPE, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { GgufVocab } from "./gguf-vocab";
import { HfTokenizer } from "./hf-tokenizer";
import { textArbitrary } from "./tokenizer-test-fixtures";

const BEGIN_OF_TEXT = 128000;
const END_OF_TEXT = 128001;
const EOM = 128008;
const EOT = 128009;
const N_NORMAL = 128000;

// meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json "chat_template"
const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function llama3TokenizerJson(): Record<string, unknown> {
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
        { type: "Split", pattern: { Regex: LLAMA3_SPLIT }, behavior: "Isolated", invert: false },
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
function llama3GgufMetadata(): Map<string, unknown> {
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

const TEXTS = [
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

describe("LLaMA-3 through tokenizer.json and through GGUF metadata, against llama3-tokenizer-js", () => {
  let hf: HfTokenizer;
  let gguf: GgufVocab;
  const reference = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false });

  beforeAll(() => {
    hf = HfTokenizer.fromJson(llama3TokenizerJson(), "Meta-Llama-3-8B-Instruct/tokenizer.json", {
      config: { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", chat_template: LLAMA3_CHAT_TEMPLATE, clean_up_tokenization_spaces: true },
    });
    gguf = GgufVocab.fromMetadata(llama3GgufMetadata(), "Meta-Llama-3-8B-Instruct.gguf");
  });

  it("reads the vocabulary, special ids, stop ids and BOS default from both files", () => {
    for (const t of [hf, gguf]) {
      expect(t.vocabSize).toBe(128256);
      expect([t.bosId, t.eosId, t.addBos, t.addEos]).toEqual([BEGIN_OF_TEXT, EOT, true, false]);
      expect(t.eosIds).toEqual([END_OF_TEXT, EOM, EOT]);
      expect(t.chatTemplate).toBe(LLAMA3_CHAT_TEMPLATE);
      expect(t.tokenToString(EOT)).toBe("<|eot_id|>");
      expect(t.tokenToString(9906)).toBe("Hello");
    }
    expect(gguf.preType).toBe("llama3");
    expect(gguf.warnings).toEqual([]);
  });

  it("encodes multilingual, emoji and code text exactly as llama3-tokenizer-js", () => {
    for (const text of TEXTS) {
      const ids = reference(text);
      expect(gguf.encode(text, { bos: false }), text).toEqual(ids);
      expect(hf.encode(text, { bos: false }), text).toEqual(ids);
      expect(gguf.encode(text)).toEqual([BEGIN_OF_TEXT, ...ids]);
      expect(hf.encode(text)).toEqual([BEGIN_OF_TEXT, ...ids]);
      expect(gguf.decode(ids)).toBe(text);
      expect(hf.decode(ids)).toBe(text);
    }
    expect(gguf.encode("Hello world!", { bos: false })).toEqual([9906, 1917, 0]); // llama3-tokenizer-js's README
  });

  it("agrees with llama3-tokenizer-js on random text (U+0085 and U+FEFF aside: there JavaScript's \\s is not White_Space)", () => {
    fc.assert(
      fc.property(textArbitrary("\u0085\ufeff"), (text) => {
        const ids = reference(text);
        expect(gguf.encode(text, { bos: false })).toEqual(ids);
        expect(hf.encode(text, { bos: false })).toEqual(ids);
      }),
      { numRuns: 250 },
    );
  });

  it("the two readers agree with each other on any text", () => {
    fc.assert(
      fc.property(textArbitrary(), (text) => {
        expect(gguf.encode(text, { bos: false })).toEqual(hf.encode(text, { bos: false }));
      }),
      { numRuns: 200 },
    );
  });

  it("reads control-token text as control tokens only when asked", () => {
    const text = "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>";
    const parsed = reference(text); // llama3-tokenizer-js always parses them
    expect(parsed).toContain(EOT);
    expect(gguf.encode(text, { bos: false, parseSpecial: true })).toEqual(parsed);
    expect(hf.encode(text, { bos: false, parseSpecial: true })).toEqual(parsed);
    const plain = gguf.encode(text, { bos: false });
    expect(plain).not.toContain(EOT);
    expect(hf.encode(text, { bos: false })).toEqual(plain);
    expect(gguf.decode(plain)).toBe(text);
    // control tokens decode to nothing, like llama.cpp's token_to_piece(special = false) and skip_special_tokens
    expect(gguf.decode(parsed)).toBe("user\n\nHi!");
    expect(hf.decode(parsed)).toBe("user\n\nHi!");
  });

  it("renders and encodes the LLaMA-3 chat template", () => {
    const messages = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "  Hi there!  " },
    ];
    for (const t of [gguf, hf]) {
      const chat = renderChat(t, messages, { addGenerationPrompt: true });
      expect(chat.builtIn).toBe(false);
      expect(chat.text).toBe(
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
      );
      const ids = encodeChat(t, chat.text);
      expect(ids).toEqual(llama3Tokenizer.encode(chat.text, { bos: false, eos: false }));
      expect(ids.filter((id) => id === BEGIN_OF_TEXT)).toHaveLength(1); // the template wrote BOS; it is not added twice
      expect(ids.at(-1)).toBe(271); // "\n\n"
    }
  });

  it("warns when tokenizer.ggml.pre is missing, as BitNet-2B4T's official GGUF is, and takes an override", () => {
    const meta = llama3GgufMetadata();
    meta.delete(K.pre);
    meta.set(K.addBos, true);
    const fallback = GgufVocab.fromMetadata(meta, "ggml-model-i2_s.gguf");
    expect(fallback.preType).toBe("default");
    expect(fallback.warnings[0]).toMatch(/ggml-model-i2_s\.gguf: tokenizer\.ggml\.pre is missing; using llama\.cpp's "default" pre-tokenizer/);
    // llama.cpp's default pre-tokenizer cuts punctuation runs first ("'", "("): not LLaMA-3's tokens, which
    // the same file read with { pre: "llama-bpe" } gives (that is `gguf` above; gguf-vocab.test.ts tests the option)
    for (const text of ["DON'T stop", "f(hello)"]) {
      expect(fallback.encode(text, { bos: false })).not.toEqual(reference(text));
      expect(gguf.encode(text, { bos: false })).toEqual(reference(text));
    }
  });
});
