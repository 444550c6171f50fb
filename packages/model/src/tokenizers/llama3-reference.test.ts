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
import { GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { GgufVocab } from "./gguf-vocab";
import { HfTokenizer } from "./hf-tokenizer";
import { BEGIN_OF_TEXT, END_OF_TEXT, EOM, EOT, LLAMA3_CHAT_TEMPLATE, llama3GgufMetadata, llama3TokenizerJson, TEXTS } from "./llama3-test-fixtures";
import { textArbitrary } from "./tokenizer-test-fixtures";

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
