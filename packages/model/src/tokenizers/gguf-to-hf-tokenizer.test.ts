import { Tokenizer as TokenizersJs } from "@huggingface/tokenizers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ModelFileError } from "../weights/weight-source";
import { type GgufToHfResult, ggufTokenizerToHf } from "./gguf-to-hf-tokenizer";
import { GGUF_TOKENIZER_KEYS as K, GGUF_TOKEN_TYPE as T } from "./gguf-tokenizer-keys";
import { GgufVocab } from "./gguf-vocab";
import { onebitBpeToGguf } from "./gguf-vocab-export";
import { hfTokenizerToGguf } from "./hf-to-gguf-tokenizer";
import { HfTokenizer } from "./hf-tokenizer";
import { OnebitBpeTokenizer } from "./onebit-bpe-adapter";
import { textArbitrary, trainedBpe } from "./tokenizer-test-fixtures";

const asMetadata = (fields: readonly { key: string; value: unknown }[]) => new Map<string, unknown>(fields.map((f) => [f.key, f.value]));
// written and read back as files would be
const viaFiles = (r: GgufToHfResult) => JSON.parse(JSON.stringify(r)) as GgufToHfResult;

describe("GGUF tokenizer keys → tokenizer.json + tokenizer_config.json", () => {
  const bpe = trainedBpe();
  const onebit = new OnebitBpeTokenizer(bpe);
  const ggufFields = onebitBpeToGguf(bpe, 1280); // 1200 tokens, then 80 "[PAD{id}]"
  const meta = asMetadata(ggufFields);
  const gguf = GgufVocab.fromMetadata(meta, "onebit.gguf");
  const files = viaFiles(ggufTokenizerToHf(meta, "onebit.gguf"));
  const hf = HfTokenizer.fromJson(files.tokenizer, "tokenizer.json", { config: files.tokenizerConfig });

  it("writes byte-level BPE with the GGUF's control tokens as special added tokens and its padding left out", () => {
    const t = files.tokenizer as { model: { vocab: Record<string, number>; merges: string[]; ignore_merges: boolean }; added_tokens: { id: number; content: string; special: boolean }[]; pre_tokenizer: unknown };
    expect(Object.keys(t.model.vocab)).toHaveLength(1200);
    expect(t.model.vocab).toMatchObject({ "<pad>": 0, "<bos>": 1, "<eos>": 2, Ġ: 3 + 0x20 });
    expect(t.model.merges).toEqual(meta.get(K.merges));
    expect(t.model.ignore_merges).toBe(false);
    expect(t.pre_tokenizer).toEqual({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(t.added_tokens.map((a) => [a.id, a.content, a.special])).toEqual([
      [0, "<pad>", true],
      [1, "<bos>", true],
      [2, "<eos>", true],
    ]);
    expect(files.tokenizerConfig).toMatchObject({ add_bos_token: true, add_eos_token: false, bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>", unk_token: null });
    expect(files.notes).toEqual([]);
    expect([hf.vocabSize, hf.bosId, hf.eosId, hf.addBos, hf.addEos]).toEqual([1200, 1, 2, true, false]);
  });

  it("onebit BPE → GGUF → tokenizer.json encodes every text as onebit and as the GGUF (U+0085, U+FEFF aside)", () => {
    const lib = new TokenizersJs(files.tokenizer, files.tokenizerConfig);
    fc.assert(
      fc.property(textArbitrary(), (text) => {
        const ids = onebit.encode(text);
        expect(hf.encode(text)).toEqual(ids);
        expect(lib.encode(text).ids).toEqual(ids); // the library alone: BOS from the post-processor
        expect(hf.decode(ids)).toBe(onebit.decode(ids));
        if (!/[\u0085\ufeff]/.test(text)) expect(gguf.encode(text)).toEqual(ids);
      }),
      { numRuns: 300 },
    );
  });

  it("converts back to the GGUF keys onebit wrote", () => {
    const back = asMetadata(hfTokenizerToGguf(files.tokenizer, "tokenizer.json", { config: files.tokenizerConfig, vocabSize: 1280 }).fields);
    for (const { key, value } of ggufFields) expect(key === K.tokenType ? Array.from(back.get(key) as Int32Array) : back.get(key), key).toEqual(value);
  });

  it("writes EOS into the post-processor, named chat templates as a list, and says what it leaves out", () => {
    const m = new Map(meta);
    const tokens = [...(m.get(K.tokens) as string[])];
    const types = [...(m.get(K.tokenType) as number[])];
    tokens[1201] = "<|odd|>";
    types[1201] = T.control;
    tokens[1202] = "<tool>";
    types[1202] = T.userDefined;
    tokens[1203] = "reserved";
    m.set(K.tokens, tokens);
    m.set(K.tokenType, types);
    m.set(K.addEos, true);
    m.set(K.eotId, 1201);
    m.set(K.chatTemplate, "D");
    m.set("tokenizer.chat_template.tool_use", "T");
    m.set(K.chatTemplates, ["tool_use"]);
    m.set("tokenizer.ggml.scores", [0]);
    const r = viaFiles(ggufTokenizerToHf(m, "x.gguf"));
    expect(r.notes).toEqual([
      'x.gguf: tokenizer.ggml.eot_token_id 1201 ("<|odd|>") has no place in tokenizer_config.json: llama.cpp stops generating at it, a reader of the tokenizer.json will not',
      'x.gguf: 1 unused token(s) (type 5) other than convert_hf_to_gguf.py\'s "[PAD{id}]" are left out of tokenizer.json',
      "x.gguf: not carried to tokenizer.json: tokenizer.ggml.scores",
    ]);
    expect(r.tokenizerConfig.chat_template).toEqual([
      { name: "default", template: "D" },
      { name: "tool_use", template: "T" },
    ]);
    const t = HfTokenizer.fromJson(r.tokenizer, "x/tokenizer.json", { config: r.tokenizerConfig });
    const g = GgufVocab.fromMetadata(m, "x.gguf");
    expect([t.addBos, t.addEos, t.chatTemplate]).toEqual([true, true, "D"]);
    for (const text of ["a<tool>b", "a<|odd|>b"]) {
      expect(t.encode(text)).toEqual(g.encode(text));
      expect(t.encode(text, { parseSpecial: true })).toEqual(g.encode(text, { parseSpecial: true }));
    }
    expect(t.encode("a<tool>b")).toContain(1202);
  });

  it("writes LLaMA-3's pre-tokenizer for llama-bpe and takes a pre-tokenizer override", () => {
    const m = new Map(meta);
    m.delete(K.pre);
    const r = ggufTokenizerToHf(m, "x.gguf", { pre: "llama-bpe" });
    expect((r.tokenizer.pre_tokenizer as { type: string }).type).toBe("Sequence");
    expect((r.tokenizer.model as { ignore_merges: boolean }).ignore_merges).toBe(true);
    m.set(K.pre, "smaug-bpe");
    expect((ggufTokenizerToHf(m, "x.gguf").tokenizer.model as { ignore_merges: boolean }).ignore_merges).toBe(false);
  });

  it("refuses what tokenizer.json cannot say, naming file and key", () => {
    const fails = (edit: (m: Map<string, unknown>) => void, message: RegExp, options = {}) => {
      const m = new Map(meta);
      edit(m);
      let error: unknown;
      try {
        ggufTokenizerToHf(m, "x.gguf", options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ModelFileError);
      expect((error as Error).message).toMatch(message);
    };
    fails((m) => m.delete(K.pre), /^x\.gguf: tokenizer\.ggml\.pre: missing: llama\.cpp then falls back to its "default" pre-tokenizer, which has no tokenizer\.json form; name the vocabulary's pre-tokenizer \(e\.g\. "llama-bpe"/);
    fails((m) => m.set(K.pre, "default"), /x\.gguf: tokenizer\.ggml\.pre: "default" is llama\.cpp's fallback pre-tokenizer/);
    fails((m) => m.set(K.pre, "qwen2"), /x\.gguf: tokenizer\.ggml\.pre: expected a pre-tokenizer onebit reproduces \(.*\), found "qwen2"/);
    fails(() => {}, /tokenizer\.ggml\.pre \(override\): expected a pre-tokenizer onebit reproduces/, { pre: "nope" });
    fails((m) => m.set(K.model, "llama"), /x\.gguf: tokenizer\.ggml\.model: expected "gpt2" \(byte-level BPE\), found "llama"/);
    fails((m) => m.set(K.tokenType, (m.get(K.tokenType) as number[]).map((t, i) => (i === 5 ? T.byte : t))), /tokenizer\.ggml\.token_type\[5\]: expected normal, unknown, control, user-defined or unused \(1…5\) in a byte-level vocabulary, found 6/);
    fails((m) => m.set(K.tokens, (m.get(K.tokens) as string[]).map((t, i) => (i === 300 ? "a b" : t))), /tokenizer\.ggml\.tokens\[300\]: a normal token of a byte-level vocabulary must be GPT-2 byte characters; found "a b" \(U\+0020 at index 1\)/);
    fails((m) => m.set(K.paddingId, 1250), /x\.gguf: tokenizer\.ggml\.padding_token_id: id 1250 is an unused token \(type 5\), which tokenizer\.json leaves out/);
    fails((m) => m.delete(K.bosId), /x\.gguf: tokenizer\.ggml\.bos_token_id: missing, but BOS is to be added \(tokenizer\.ggml\.add_bos_token is true\)/);
    fails((m) => m.set(K.merges, ["Ġ zz"]), /x\.gguf: tokenizer\.ggml\.merges\[0\]: "Ġ zz": the right token "zz" is not a kept token/);
  });
});
