import { describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { ModelFileError } from "../weights/weight-source";
import { GGUF_TOKENIZER_KEYS as K, GGUF_TOKEN_TYPE as T } from "./gguf-tokenizer-keys";
import { GgufVocab } from "./gguf-vocab";
import { LLAMA3_SPLIT_REGEX } from "./hf-pre-tokenizer-names";
import { type GgufTokenizerField, hfTokenizerToGguf } from "./hf-to-gguf-tokenizer";
import { HfTokenizer } from "./hf-tokenizer";
import { onebitBpeToHf } from "./hf-tokenizer-export";

type Json = Record<string, unknown>;
interface Files {
  tokenizer: Json & { model: Json & { vocab: Record<string, number>; merges: unknown[] }; added_tokens: Json[] };
  config: Json;
}
/** A small real tokenizer.json (onebit's export of a tiny BPE: <pad> <bos> <eos>, 256 bytes, 5 merges: 264 tokens) to edit. */
function files(): Files {
  const f = onebitBpeToHf(trainBpeTokenizer("hello hello world, hello there!", { vocabSize: 265 }));
  return JSON.parse(JSON.stringify({ tokenizer: f.tokenizer, config: f.tokenizerConfig }));
}
const convert = (f: Files, vocabSize?: number) => hfTokenizerToGguf(f.tokenizer, "t/tokenizer.json", { config: f.config, configFile: "t/tokenizer_config.json", vocabSize });
const byKey = (fields: GgufTokenizerField[]) => new Map(fields.map((x) => [x.key, x.value]));

function fails(edit: (f: Files) => void, message: RegExp, vocabSize?: number) {
  const f = files();
  edit(f);
  let error: unknown;
  try {
    convert(f, vocabSize);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ModelFileError);
  expect((error as Error).message).toMatch(message);
}

const LLAMA3_PRE = {
  type: "Sequence",
  pretokenizers: [
    { type: "Split", pattern: { Regex: LLAMA3_SPLIT_REGEX }, behavior: "Isolated", invert: false },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};

describe("tokenizer.json → GGUF tokenizer keys", () => {
  it("writes GPT-2's byte-level BPE as convert_hf_to_gguf.py does, padded to the model's vocab_size", () => {
    const f = files();
    expect(Object.keys(f.tokenizer.model.vocab)).toHaveLength(264);
    const { fields, notes } = convert(f, 270);
    const meta = byKey(fields);
    expect(fields.find((x) => x.key === K.tokenType)?.type).toBe("i32[]");
    expect([meta.get(K.model), meta.get(K.pre), meta.get(K.bosId), meta.get(K.eosId), meta.get(K.paddingId), meta.get(K.addBos), meta.get(K.addEos)]).toEqual(["gpt2", "gpt-2", 1, 2, 0, true, false]);
    const tokens = meta.get(K.tokens) as string[];
    const types = Array.from(meta.get(K.tokenType) as Int32Array);
    expect(tokens.slice(0, 4)).toEqual(["<pad>", "<bos>", "<eos>", "Ā"]);
    expect(types.slice(0, 4)).toEqual([T.control, T.control, T.control, T.normal]);
    expect(tokens.slice(264)).toEqual(["[PAD264]", "[PAD265]", "[PAD266]", "[PAD267]", "[PAD268]", "[PAD269]"]);
    expect(new Set(types.slice(264))).toEqual(new Set([T.unused]));
    expect(meta.get(K.merges)).toEqual(f.tokenizer.model.merges);
    expect(notes).toEqual([]);
    expect(convert(f).fields.find((x) => x.key === K.tokens)?.value).toHaveLength(264); // no vocab_size: the tokenizer's own

    const gguf = GgufVocab.fromMetadata(meta, "t.gguf");
    const hf = HfTokenizer.fromJson(f.tokenizer, "t/tokenizer.json", { config: f.config });
    for (const text of ["hello world, hello there!", "  héllo\n\nwörld 123 <eos>", ""]) expect(gguf.encode(text)).toEqual(hf.encode(text));
  });

  it("types added tokens as get_vocab_base does: special → control, looks special → control, else user-defined", () => {
    const f = files();
    f.tokenizer.added_tokens.push(
      { id: 264, content: "<tool>", special: false, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 265, content: "<|im_start|>", special: false, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 266, content: "<think>", special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
    );
    const { fields, notes } = convert(f);
    const types = Array.from(byKey(fields).get(K.tokenType) as Int32Array);
    expect(types.slice(264)).toEqual([T.userDefined, T.control, T.control]);
    expect(notes).toEqual([
      't/tokenizer.json: 1 added token(s) marked "special": false are written as control tokens, as convert_hf_to_gguf.py\'s does_token_look_special decides ("<|im_start|>"): llama.cpp matches them in text only when parsing special tokens, HF tokenizers always',
    ]);
    const gguf = GgufVocab.fromMetadata(byKey(fields), "t.gguf");
    const hf = HfTokenizer.fromJson(f.tokenizer, "t/tokenizer.json", { config: f.config });
    expect(gguf.encode("a<tool>b", { bos: false })).toEqual(hf.encode("a<tool>b", { bos: false }));
    expect(gguf.encode("a<tool>b", { bos: false })).toContain(264);
    expect(gguf.encode("<think>", { bos: false, parseSpecial: true })).toEqual([266]);
  });

  it("says when llama.cpp will read a normal token as an end-of-turn control token", () => {
    const f = files();
    f.tokenizer.model.vocab["</s>"] = 264;
    expect(convert(f).notes).toEqual([
      't/tokenizer.json: "</s>" is a normal token of the BPE vocabulary, which llama.cpp makes control tokens by their text (ending generation, never read from text unless parsing special tokens, decoding to nothing)',
    ]);
  });

  it("names LLaMA-3's Split regex llama-bpe with ignore_merges, smaug-bpe without; joins [left, right] merges", () => {
    const f = files();
    f.tokenizer.pre_tokenizer = LLAMA3_PRE;
    f.tokenizer.model.ignore_merges = true;
    f.tokenizer.model.merges = (f.tokenizer.model.merges as string[]).map((m) => m.split(" "));
    const meta = byKey(convert(f).fields);
    expect(meta.get(K.pre)).toBe("llama-bpe");
    expect(meta.get(K.merges)).toEqual(files().tokenizer.model.merges);
    f.tokenizer.model.ignore_merges = false;
    expect(byKey(convert(f).fields).get(K.pre)).toBe("smaug-bpe");
  });

  it("writes ids from tokenizer_config.json and named chat templates as gguf_writer.add_chat_template does", () => {
    const f = files();
    f.tokenizer.post_processor = null;
    f.config = { bos_token: { content: "<bos>" }, eos_token: "<eos>", unk_token: null, chat_template: [
      { name: "default", template: "D" },
      { name: "tool-use", template: "T" },
    ] };
    const meta = byKey(convert(f).fields);
    expect([meta.get(K.bosId), meta.get(K.eosId), meta.get(K.addBos), meta.get(K.unknownId)]).toEqual([1, 2, false, undefined]);
    expect([meta.get(K.chatTemplate), meta.get("tokenizer.chat_template.tool_use"), meta.get(K.chatTemplates)]).toEqual(["D", "T", ["tool_use"]]);
  });

  it("refuses what llama.cpp would tokenize differently, naming file and field", () => {
    fails((f) => (f.tokenizer.model.type = "Unigram"), /^t\/tokenizer\.json: model\.type: expected "BPE" \(byte-level BPE, tokenizer\.ggml\.model "gpt2"\), found "Unigram"/);
    fails((f) => (f.tokenizer.model.byte_fallback = true), /model\.byte_fallback: expected false \(byte fallback is SentencePiece-style BPE/);
    fails((f) => (f.tokenizer.normalizer = { type: "NFC" }), /t\/tokenizer\.json: normalizer: expected null \(llama\.cpp's byte-level BPE normalizes nothing\), found "NFC"/);
    fails((f) => (f.tokenizer.decoder = { type: "BPEDecoder" }), /decoder: expected a ByteLevel decoder \(byte-level BPE\), found "BPEDecoder"/);
    fails(
      (f) => (f.tokenizer.pre_tokenizer = { ...LLAMA3_PRE, pretokenizers: [{ ...LLAMA3_PRE.pretokenizers[0], pattern: { Regex: "\\p{N}| ?\\p{L}+" } }, LLAMA3_PRE.pretokenizers[1]] }),
      /t\/tokenizer\.json: pre_tokenizer: splits by "\\\\p\{N\}\| \?\\\\p\{L\}\+", which has no llama\.cpp pre-tokenizer name onebit reproduces: expected GPT-2's regex \("gpt-2"\) or LLaMA-3's \("llama-bpe"\)/,
    );
    fails((f) => (f.tokenizer.pre_tokenizer = { type: "ByteLevel", add_prefix_space: true, use_regex: true }), /pre_tokenizer\.add_prefix_space: expected false \(llama\.cpp adds no prefix space\), found true/);
    fails((f) => (f.tokenizer.pre_tokenizer = { type: "Whitespace" }), /pre_tokenizer\.type: expected "ByteLevel" or "Sequence" \(Split \+ ByteLevel\), found "Whitespace"/);
    fails((f) => (f.tokenizer.model.ignore_merges = true), /model\.ignore_merges: expected false with GPT-2's regex/);
    fails((f) => (f.tokenizer.added_tokens[2]!.rstrip = true), /t\/tokenizer\.json: added_tokens\[2\]\.rstrip: "<eos>": expected false; HF tokenizers honours it, llama\.cpp does not/);
    fails(
      (f) => f.tokenizer.added_tokens.push({ id: 264, content: "a\u2581b", special: false }),
      /added_tokens\[3\]: "a▁b": a user-defined token holding "▁" \(U\+2581\); convert_hf_to_gguf\.py turns it into a space/,
    );
    fails((f) => f.tokenizer.added_tokens.push({ id: 10, content: "<x>", special: true }), /added_tokens\[3\]: id 10 is "<x>" here but "ć" in model\.vocab; GGUF holds one text per id/);
    fails(() => {}, /t\/tokenizer\.json: model\.vocab: token id 263 \(.*\) is past the model's vocab_size 260; llama\.cpp's converter requires every id below it/, 260);
    fails((f) => (f.tokenizer.model.vocab["\u00e9t\u00e9 "] = 300), /model\.vocab\["été "\]: a byte-level vocabulary's token must be GPT-2 byte characters; found U\+0020 at index 3/);
    fails((f) => (f.tokenizer.model.merges[0] = "h zz"), /t\/tokenizer\.json: model\.merges\[0\]: "h zz": the right token "zz" is not in the vocabulary/);
    fails((f) => (f.config.add_bos_token = false), /t\/tokenizer_config\.json: add_bos_token: says false, but t\/tokenizer\.json's post_processor adds the token/);
    fails((f) => (f.config.bos_token = "<eos>"), /t\/tokenizer_config\.json: bos_token: is id 2, but t\/tokenizer\.json's post_processor puts id 1 first/);
    fails((f) => (f.config.eos_token = "<|nope|>"), /t\/tokenizer_config\.json: eos_token: "<\|nope\|>" is not a token of t\/tokenizer\.json/);
  });
});
