import { describe, expect, it } from "vitest";
import { openGguf } from "../gguf/gguf-reader";
import { rawStringArray } from "../gguf/gguf-string-array";
import { encodeGguf } from "../gguf/gguf-writer";
import type { GgufType } from "../gguf/gguf-value-types";
import { memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { BYTE_TO_CHAR } from "./bytes-to-unicode";
import { GGUF_TOKEN_TYPE as T, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { GgufVocab } from "./gguf-vocab";

/**
 * A small byte-level vocabulary: the 256 byte characters (ids 0…255), then `extra` tokens, with `merges`;
 * special tokens appended last with their types.
 */
function vocab(extra: string[], merges: string[], specials: [string, number][] = [], more: [string, unknown][] = []): Map<string, unknown> {
  const tokens = [...BYTE_TO_CHAR, ...extra, ...specials.map(([t]) => t)];
  const types = [...BYTE_TO_CHAR.map(() => T.normal), ...extra.map(() => T.normal), ...specials.map(([, t]) => t)];
  return new Map<string, unknown>([
    [K.model, "gpt2"],
    [K.pre, "gpt-2"],
    [K.tokens, tokens],
    [K.tokenType, types],
    [K.merges, merges],
    ...more,
  ]);
}
const id = (meta: Map<string, unknown>, token: string) => (meta.get(K.tokens) as string[]).indexOf(token);
const read = (meta: Map<string, unknown>, options = {}) => GgufVocab.fromMetadata(meta, "m.gguf", options);

describe("GgufVocab: byte-level BPE as llama.cpp's llm_tokenizer_bpe", () => {
  it("merges the lowest rank first, the leftmost first among equals", () => {
    const meta = vocab(["bb", "ab", "aa", "abb"], ["b b", "a b", "a a", "a bb"]);
    const v = read(meta);
    // "abb": (b,b) ranks 0, before (a,b) at 1 → a + bb → (a, bb) → abb
    expect(v.encode("abb", { bos: false })).toEqual([id(meta, "abb")]);
    // "aaa": (a,a) twice at the same rank: the left pair merges, the right "a" stays
    expect(v.encode("aaa", { bos: false })).toEqual([id(meta, "aa"), id(meta, "a")]);
    expect(v.encode("bab", { bos: false })).toEqual([id(meta, "b"), id(meta, "ab")]);
    expect(v.decode(v.encode("abb aaa", { bos: false }))).toBe("abb aaa");
  });

  it("keeps the first rank of a merge listed twice, as bpe_ranks.emplace does", () => {
    const meta = vocab(["ab", "bc"], ["b c", "a b", "b c"]);
    expect(read(meta).encode("abc", { bos: false })).toEqual([id(meta, "a"), id(meta, "bc")]);
  });

  it("cuts the text into GPT-2 pieces first: no merge crosses a piece", () => {
    const meta = vocab(["Ġa", "aĠ"], ["Ġ a", "a Ġ"]);
    // pieces "a" and " a": "a " never forms although it is a merge
    expect(read(meta).encode("a a", { bos: false })).toEqual([id(meta, "a"), id(meta, "Ġa")]);
  });

  it("ignores merges for whole-token words only with the LLaMA-3 pre-tokenizer", () => {
    // "abc" is a token but no merge path reaches it
    const meta = vocab(["ab", "abc"], ["a b"]);
    expect(read(meta).encode("abc", { bos: false })).toEqual([id(meta, "ab"), id(meta, "c")]);
    meta.set(K.pre, "llama3");
    meta.set(K.bosId, 0);
    expect(read(meta).encode("abc", { bos: false })).toEqual([id(meta, "abc")]);
  });

  it("matches user-defined tokens always and control tokens only with parseSpecial", () => {
    const meta = vocab([], [], [
      ["<ctl>", T.control],
      ["<user>", T.userDefined],
    ]);
    const v = read(meta);
    const ctl = id(meta, "<ctl>");
    const user = id(meta, "<user>");
    expect(v.encode("x<user>y", { bos: false })).toEqual([id(meta, "x"), user, id(meta, "y")]);
    expect(v.encode("<ctl>", { bos: false })).not.toContain(ctl);
    expect(v.encode("<ctl>", { bos: false, parseSpecial: true })).toEqual([ctl]);
    // control tokens decode to nothing, user-defined ones to their text
    expect(v.decode([ctl, user])).toBe("<user>");
    expect(v.tokenToString(ctl)).toBe("<ctl>");
  });

  it("cuts the longest special token first", () => {
    const meta = vocab([], [], [
      ["<a>", T.control],
      ["<a><b>", T.control],
    ]);
    expect(read(meta).encode("<a><b><a>", { bos: false, parseSpecial: true })).toEqual([id(meta, "<a><b>"), id(meta, "<a>")]);
  });

  it("collects the stop ids: EOS, EOT, EOM and the end-of-turn texts llama.cpp knows", () => {
    const meta = vocab([], [], [
      ["<|end_of_text|>", T.control],
      ["<|eot_id|>", T.normal], // llama.cpp makes it a control token whatever its stored type
      ["<stop>", T.control],
    ]);
    meta.set(K.eosId, id(meta, "<stop>"));
    const v = read(meta);
    expect(v.eosId).toBe(id(meta, "<stop>"));
    expect(v.eosIds).toEqual([id(meta, "<|end_of_text|>"), id(meta, "<|eot_id|>"), id(meta, "<stop>")]);
    expect(v.isControl(id(meta, "<|eot_id|>"))).toBe(true);
    expect(v.decode([id(meta, "<|eot_id|>")])).toBe("");
  });

  it("adds BOS and EOS as the file says, and as asked", () => {
    const meta = vocab([], [], [["<s>", T.control], ["</s>", T.control]], [
      [K.bosId, 256],
      [K.eosId, 257],
      [K.addBos, true],
      [K.addEos, true],
    ]);
    const v = read(meta);
    expect([v.addBos, v.addEos]).toEqual([true, true]);
    expect(v.encode("a")).toEqual([256, id(meta, "a"), 257]);
    expect(v.encode("a", { bos: false, eos: false })).toEqual([id(meta, "a")]);
    meta.set(K.addBos, false);
    meta.delete(K.addEos);
    expect(read(meta).encode("a")).toEqual([id(meta, "a")]);
  });

  it("decodes byte tokens, skips unused ones, and joins bytes before UTF-8 decoding", () => {
    const meta = vocab([], [], [
      ["<0xE2>", T.byte],
      ["[PAD300]", T.unused],
    ]);
    const v = read(meta);
    const euro = [...new TextEncoder().encode("€")];
    // the first byte of "€" from a byte token, the rest from byte characters
    expect(v.decode([id(meta, "<0xE2>"), ...euro.slice(1).map((b) => id(meta, BYTE_TO_CHAR[b]!)), id(meta, "[PAD300]")])).toBe("€");
    expect(() => v.decode([v.vocabSize])).toThrow(/decode ids\[0\]: expected a token id in \[0, 258\), found 258/);
  });

  it("reads the chat template and the pre-tokenizer override", () => {
    const meta = vocab([], [], [["<s>", T.control]], [
      [K.chatTemplate, "{{ messages[0].content }}"],
      [K.bosId, 256],
    ]);
    meta.delete(K.pre);
    const v = read(meta);
    expect(v.chatTemplate).toBe("{{ messages[0].content }}");
    expect(v.pre).toBe("default");
    expect(v.warnings).toHaveLength(1);
    const o = read(meta, { pre: "llama-bpe" });
    expect([o.pre, o.preType, o.warnings]).toEqual(["llama-bpe", "llama3", []]);
    expect(() => read(meta, { pre: "qwen2" })).toThrow(/m\.gguf: tokenizer\.ggml\.pre \(override\): expected a pre-tokenizer onebit reproduces \(.*\), found "qwen2"/);
  });
});

describe("GgufVocab from a GGUF file: tokens and merges read as bytes", () => {
  /** The map written as a GGUF file and opened again: its string arrays stay bytes (gguf-string-array.ts). */
  const viaFile = async (meta: Map<string, unknown>) => {
    const typeOf = (v: unknown): GgufType => (typeof v === "string" ? "string" : typeof v === "boolean" ? "bool" : typeof v === "number" ? "u32" : Array.isArray(v) && typeof v[0] === "number" ? "i32[]" : "string[]");
    const f = await openGguf(memoryByteSource(encodeGguf({ metadata: [...meta].map(([k, v]) => [k, typeOf(v), v] as [string, GgufType, unknown]), tensors: [] }), "m.gguf"));
    expect(rawStringArray(f.metadata, K.tokens)).toBeDefined();
    return f.metadata;
  };
  const outcome = (meta: ReadonlyMap<string, unknown>) => {
    try {
      const v = GgufVocab.fromMetadata(meta, "m.gguf");
      const texts = ["abb aaa", "a<user>b", "<ctl>é€ 🙂", "Ġa aĠ"];
      return JSON.stringify({
        ids: texts.map((t) => v.encode(t, { bos: false, parseSpecial: true })),
        text: texts.map((t) => v.decode(v.encode(t, { bos: false }))),
        strings: Array.from({ length: v.vocabSize }, (_, i) => v.tokenToString(i)),
        eos: v.eosIds,
      });
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };

  it("encodes, decodes and refuses exactly as from plain arrays", async () => {
    const edits: Array<(m: Map<string, unknown>) => void> = [
      () => {},
      (m) => (m.get(K.tokens) as string[]).splice(256, 1, "a"),
      (m) => (m.get(K.tokens) as string[]).splice(257, 1, ""),
      (m) => ((m.get(K.tokens) as string[])[258] = "a b"),
      (m) => ((m.get(K.tokens) as string[])[258] = "é€"),
      (m) => ((m.get(K.tokenType) as number[])[259] = T.byte),
      (m) => ((m.get(K.tokens) as string[])[259] = "<0x4g>"),
      (m) => m.set(K.merges, ["b b", "ab"]),
      (m) => m.set(K.merges, ["b b", "a xy"]),
      (m) => m.set(K.merges, ["b b", "ab c"]),
      (m) => m.set(K.merges, ["xy b", "a b"]),
      (m) => m.set(K.merges, ["é é"]),
      (m) => m.set(K.tokens, [...(m.get(K.tokens) as string[]).slice(0, 259), "<ctl>", "<user>"]),
    ];
    for (const edit of edits) {
      const meta = vocab(["bb", "ab", "aa", "abb"], ["b b", "a b", "a a", "a bb"], [
        ["<ctl>", T.control],
        ["<user>", T.userDefined],
        ["<|eot_id|>", T.normal],
      ]);
      edit(meta);
      expect(outcome(await viaFile(meta))).toBe(outcome(meta));
    }
  });
});

describe("GgufVocab refuses what it cannot read exactly, naming file, key, expected and found", () => {
  const base = () => vocab(["ab"], ["a b"], [["<s>", T.control]], [[K.bosId, 257]]);
  const fails = (edit: (m: Map<string, unknown>) => void, message: RegExp) => {
    const meta = base();
    edit(meta);
    let error: unknown;
    try {
      read(meta);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toMatch(message);
  };

  it("refuses SentencePiece and other vocabulary types by name", () => {
    fails((m) => m.set(K.model, "llama"), /^m\.gguf: tokenizer\.ggml\.model: expected "gpt2" \(byte-level BPE\), found "llama" \(a SentencePiece vocabulary/);
    fails((m) => m.set(K.model, "bert"), /tokenizer\.ggml\.model: expected "gpt2" \(byte-level BPE\), found "bert"/);
    fails((m) => m.delete(K.model), /tokenizer\.ggml\.model: missing/);
    fails((m) => m.set(K.model, 3), /tokenizer\.ggml\.model: expected a string, found number 3/);
  });

  it("refuses unknown pre-tokenizers by name", () => {
    fails((m) => m.set(K.pre, "qwen2"), /tokenizer\.ggml\.pre: expected a pre-tokenizer onebit reproduces \(llama3, llama-v3, llama-bpe, .*gpt-2.*default\), found "qwen2"/);
  });

  it("checks types, lengths, duplicates and token text", () => {
    fails((m) => m.set(K.tokens, "abc"), /tokenizer\.ggml\.tokens: expected an array of strings, found "abc"/);
    fails((m) => (m.get(K.tokens) as unknown[]).splice(3, 1, 7), /tokenizer\.ggml\.tokens\[3\]: expected a string, found number 7/);
    fails((m) => (m.get(K.tokens) as string[]).splice(256, 1, "a"), /tokenizer\.ggml\.tokens\[256\]: duplicate token "a" \(also id 97\)/);
    fails((m) => (m.get(K.tokens) as string[]).splice(256, 1, ""), /tokenizer\.ggml\.tokens\[256\]: expected a token, found the empty string/);
    fails((m) => (m.get(K.tokenType) as number[]).pop(), /tokenizer\.ggml\.token_type: expected 258 types \(one per token of tokenizer\.ggml\.tokens\), found 257/);
    fails((m) => m.delete(K.tokenType), /tokenizer\.ggml\.token_type: missing/);
    fails((m) => ((m.get(K.tokenType) as number[])[5] = 9), /tokenizer\.ggml\.token_type\[5\]: expected a token type 0…6, found 9/);
    fails((m) => ((m.get(K.tokens) as string[])[256] = "a b"), /tokenizer\.ggml\.tokens\[256\]: a normal token of a byte-level vocabulary must be GPT-2 byte characters; found "a b" \(U\+0020 at index 1\)/);
  });

  it("checks that merges name existing tokens", () => {
    fails((m) => m.set(K.merges, ["ab"]), /tokenizer\.ggml\.merges\[0\]: expected "left right", found "ab"/);
    fails((m) => m.set(K.merges, ["a b", "ab c"]), /tokenizer\.ggml\.merges\[1\]: "ab c": the merged token "abc" is not in tokenizer\.ggml\.tokens/);
    fails((m) => m.set(K.merges, ["a xy"]), /tokenizer\.ggml\.merges\[0\]: "a xy": the right token "xy" is not in tokenizer\.ggml\.tokens/);
    fails((m) => m.delete(K.merges), /tokenizer\.ggml\.merges: missing/);
  });

  it("checks special-token ids and that BOS exists when it is to be added", () => {
    fails((m) => m.set(K.eosId, 258), /tokenizer\.ggml\.eos_token_id: expected a token id in \[0, 258\), found number 258/);
    fails((m) => m.set(K.bosId, -1), /tokenizer\.ggml\.bos_token_id: expected a token id in \[0, 258\), found number -1/);
    fails((m) => m.set(K.paddingId, 1.5), /tokenizer\.ggml\.padding_token_id: expected a token id/);
    fails(
      (m) => {
        m.delete(K.bosId);
        m.set(K.addBos, true);
      },
      /tokenizer\.ggml\.bos_token_id: missing, but BOS is to be added \(tokenizer\.ggml\.add_bos_token is true\)/,
    );
    fails(
      (m) => {
        m.delete(K.bosId);
        m.set(K.pre, "llama-bpe");
      },
      /tokenizer\.ggml\.bos_token_id: missing, but BOS is to be added \(pre-tokenizer "llama-bpe" adds it by default\)/,
    );
    fails((m) => m.set(K.addBos, 1), /tokenizer\.ggml\.add_bos_token: expected a bool, found number 1/);
  });

  it("accepts 64-bit ids as bigints and types as typed arrays, as a GGUF reader may give them", () => {
    const meta = base();
    meta.set(K.bosId, 257n);
    meta.set(K.tokenType, Int32Array.from(meta.get(K.tokenType) as number[]));
    expect(read(meta).bosId).toBe(257);
  });
});
