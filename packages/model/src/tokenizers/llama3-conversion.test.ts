/**
 * The real LLaMA-3 vocabulary converted both ways: its tokenizer.json → GGUF keys (hf-to-gguf-tokenizer.ts) must
 * be what convert_hf_to_gguf.py writes and tokenize through GgufVocab exactly as the tokenizer.json does through
 * HfTokenizer and as llama3-tokenizer-js does; its GGUF keys → tokenizer.json (gguf-to-hf-tokenizer.ts) must read
 * back through HfTokenizer the same. The vocabulary is converted and loaded once per direction.
 */
import fc from "fast-check";
import llama3Tokenizer from "llama3-tokenizer-js";
import { beforeAll, describe, expect, it } from "vitest";
import { type GgufToHfResult, ggufTokenizerToHf } from "./gguf-to-hf-tokenizer";
import { GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { GgufVocab } from "./gguf-vocab";
import { type GgufTokenizerField, hfTokenizerToGguf } from "./hf-to-gguf-tokenizer";
import { HfTokenizer } from "./hf-tokenizer";
import { BEGIN_OF_TEXT, END_OF_TEXT, EOM, EOT, LLAMA3_CHAT_TEMPLATE, llama3GgufMetadata, llama3TokenizerJson, TEXTS } from "./llama3-test-fixtures";
import { textArbitrary } from "./tokenizer-test-fixtures";

const asMetadata = (fields: readonly GgufTokenizerField[]) => new Map<string, unknown>(fields.map((f) => [f.key, f.value]));
// meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json, as far as the conversion reads it
const CONFIG = { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", chat_template: LLAMA3_CHAT_TEMPLATE, clean_up_tokenization_spaces: true };
const reference = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false });

/** Element by element: vitest's deep equality takes seconds over 280 147 merges. */
function expectSameItems(actual: unknown, expected: unknown, what: string): void {
  const a = actual as ArrayLike<unknown>;
  const b = expected as ArrayLike<unknown>;
  expect(a.length, `${what}.length`).toBe(b.length);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i < a.length) expect(a[i], `${what}[${i}]`).toBe(b[i]);
}

describe("LLaMA-3: tokenizer.json → GGUF keys → GgufVocab", () => {
  let hf: HfTokenizer;
  let converted: { fields: GgufTokenizerField[]; notes: string[] };
  let gguf: GgufVocab;

  beforeAll(() => {
    const json = llama3TokenizerJson();
    hf = HfTokenizer.fromJson(json, "Meta-Llama-3-8B-Instruct/tokenizer.json", { config: CONFIG });
    converted = hfTokenizerToGguf(json, "Meta-Llama-3-8B-Instruct/tokenizer.json", { config: CONFIG, vocabSize: 128256 });
    gguf = GgufVocab.fromMetadata(asMetadata(converted.fields), "converted.gguf");
  });

  it("writes the keys convert_hf_to_gguf.py writes, typed as llama.cpp reads them", () => {
    const byKey = new Map(converted.fields.map((f) => [f.key, f]));
    expect(converted.fields.map((f) => [f.key, f.type])).toEqual([
      [K.model, "string"],
      [K.pre, "string"],
      [K.tokens, "string[]"],
      [K.tokenType, "i32[]"],
      [K.merges, "string[]"],
      [K.bosId, "u32"],
      [K.eosId, "u32"],
      [K.addBos, "bool"],
      [K.addEos, "bool"],
      [K.chatTemplate, "string"],
    ]);
    // the metadata llama3-reference.test.ts models on convert_hf_to_gguf.py's output, plus the explicit add_* flags
    for (const [key, value] of llama3GgufMetadata()) {
      if (typeof value === "object") expectSameItems(byKey.get(key)?.value, value, key);
      else expect(byKey.get(key)?.value, key).toBe(value);
    }
    expect([byKey.get(K.addBos)?.value, byKey.get(K.addEos)?.value]).toEqual([true, false]);
    expect(converted.notes).toEqual([]);
  });

  it("GgufVocab reads the keys as the tokenizer.json reads: ids, BOS, stop ids, template", () => {
    expect([gguf.vocabSize, gguf.bosId, gguf.eosId, gguf.addBos, gguf.addEos, gguf.pre]).toEqual([128256, BEGIN_OF_TEXT, EOT, true, false, "llama-bpe"]);
    expect(gguf.eosIds).toEqual([END_OF_TEXT, EOM, EOT]);
    expect(gguf.eosIds).toEqual(hf.eosIds);
    expect(gguf.chatTemplate).toBe(hf.chatTemplate);
    expect(gguf.warnings).toEqual([]);
  });

  it("encodes multilingual, emoji and code text exactly as HfTokenizer and llama3-tokenizer-js", () => {
    for (const text of TEXTS) {
      const ids = reference(text);
      expect(gguf.encode(text, { bos: false }), text).toEqual(ids);
      expect(gguf.encode(text)).toEqual(hf.encode(text));
      expect(gguf.decode(ids)).toBe(text);
    }
    const chat = "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>";
    expect(gguf.encode(chat, { parseSpecial: true })).toEqual(hf.encode(chat, { parseSpecial: true }));
    expect(gguf.encode(chat)).toEqual(hf.encode(chat));
  });

  it("agrees with HfTokenizer on random text", () => {
    fc.assert(
      fc.property(textArbitrary("\u0085\ufeff"), (text) => {
        expect(gguf.encode(text)).toEqual(hf.encode(text));
      }),
      { numRuns: 150 },
    );
  });
});

describe("LLaMA-3: GGUF keys → tokenizer.json → HfTokenizer", () => {
  let files: GgufToHfResult;
  let hf: HfTokenizer;

  beforeAll(() => {
    files = ggufTokenizerToHf(llama3GgufMetadata(), "Meta-Llama-3-8B-Instruct.gguf");
    hf = HfTokenizer.fromJson(files.tokenizer, "converted/tokenizer.json", { config: files.tokenizerConfig, configFile: "converted/tokenizer_config.json" });
  });

  it("writes LLaMA-3's pre-tokenizer, merges and post-processor, and the config's special tokens and template", () => {
    const original = llama3TokenizerJson() as { pre_tokenizer: unknown; post_processor: unknown; model: { merges: string[]; vocab: Record<string, number> } };
    const t = files.tokenizer as typeof original & { model: { ignore_merges: boolean } };
    expect(t.pre_tokenizer).toEqual(original.pre_tokenizer);
    expect(t.post_processor).toEqual(original.post_processor);
    expectSameItems(t.model.merges, original.model.merges, "model.merges");
    expect(t.model.ignore_merges).toBe(true);
    // every token, the control tokens too, under its id
    expectSameItems(Object.entries(t.model.vocab).sort((x, y) => x[1] - y[1]).map(([text]) => text), llama3Tokenizer.vocabById, "model.vocab by id");
    expect(files.tokenizerConfig).toMatchObject({ add_bos_token: true, add_eos_token: false, bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", chat_template: LLAMA3_CHAT_TEMPLATE });
    expect(files.notes).toEqual([]);
  });

  it("reads back with the GGUF's ids, BOS, stop ids and template", () => {
    expect([hf.vocabSize, hf.bosId, hf.eosId, hf.addBos, hf.addEos, hf.chatTemplate]).toEqual([128256, BEGIN_OF_TEXT, EOT, true, false, LLAMA3_CHAT_TEMPLATE]);
    expect(hf.eosIds).toEqual([END_OF_TEXT, EOM, EOT]);
  });

  it("encodes multilingual, emoji and code text exactly as llama3-tokenizer-js", () => {
    for (const text of TEXTS) {
      const ids = reference(text);
      expect(hf.encode(text, { bos: false }), text).toEqual(ids);
      expect(hf.encode(text)).toEqual([BEGIN_OF_TEXT, ...ids]);
      expect(hf.decode(ids)).toBe(text);
    }
    const chat = "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>";
    expect(hf.encode(chat, { bos: false, parseSpecial: true })).toEqual(reference(chat));
    expect(hf.encode(chat, { bos: false })).not.toContain(EOT);
  });
});
