import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GGUF_TOKEN_TYPE, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { onebitBpeToGguf } from "./gguf-vocab-export";
import { GgufVocab } from "./gguf-vocab";
import { OnebitBpeTokenizer } from "./onebit-bpe-adapter";
import { textArbitrary, trainedBpe } from "./tokenizer-test-fixtures";

const asMetadata = (fields: { key: string; value: unknown }[]) => new Map(fields.map((f) => [f.key, f.value]));

describe("onebit BPE → GGUF tokenizer metadata", () => {
  const bpe = trainedBpe();
  const fields = onebitBpeToGguf(bpe, 1280);
  const meta = asMetadata(fields);
  const gguf = GgufVocab.fromMetadata(meta, "onebit.gguf");

  it("writes the fields llama.cpp reads, typed", () => {
    const byKey = new Map(fields.map((f) => [f.key, f]));
    expect(byKey.get(K.model)).toEqual({ key: K.model, type: "string", value: "gpt2" });
    expect(byKey.get(K.pre)?.value).toBe("gpt-2");
    expect(byKey.get(K.tokens)).toMatchObject({ type: "array", itemType: "string" });
    expect(byKey.get(K.tokenType)).toMatchObject({ type: "array", itemType: "i32" });
    expect(byKey.get(K.bosId)).toEqual({ key: K.bosId, type: "u32", value: 1 });
    expect(byKey.get(K.eosId)?.value).toBe(2);
    expect(byKey.get(K.paddingId)?.value).toBe(0);
    expect(byKey.get(K.addBos)).toEqual({ key: K.addBos, type: "bool", value: true });
    expect(byKey.get(K.addEos)?.value).toBe(false);

    const tokens = meta.get(K.tokens) as string[];
    const types = meta.get(K.tokenType) as number[];
    expect(tokens.slice(0, 3)).toEqual(["<pad>", "<bos>", "<eos>"]);
    expect(types.slice(0, 3)).toEqual([GGUF_TOKEN_TYPE.control, GGUF_TOKEN_TYPE.control, GGUF_TOKEN_TYPE.control]);
    expect(tokens[3 + 0x20]).toBe("Ġ"); // the space byte, in GPT-2's byte characters
    expect(tokens[3 + 0x41]).toBe("A");
    expect(bpe.vocabSize).toBe(1200);
    expect(tokens).toHaveLength(1280);
    expect(tokens.slice(bpe.vocabSize)).toEqual(Array.from({ length: 1280 - bpe.vocabSize }, (_, i) => `[PAD${bpe.vocabSize + i}]`));
    expect(new Set(types.slice(bpe.vocabSize))).toEqual(new Set([GGUF_TOKEN_TYPE.unused]));
    expect((meta.get(K.merges) as string[])[0]).toBe(`${tokens[bpe.merges[0]![0]]} ${tokens[bpe.merges[0]![1]]}`);
  });

  it("reads back as a vocabulary of the model's size with onebit's special ids", () => {
    expect(gguf.vocabSize).toBe(1280);
    expect([gguf.bosId, gguf.eosId, gguf.padId, gguf.addBos, gguf.addEos]).toEqual([1, 2, 0, true, false]);
    expect(gguf.eosIds).toEqual([2]);
    expect(gguf.warnings).toEqual([]);
    expect(gguf.decode([bpe.vocabSize, bpe.vocabSize + 1])).toBe(""); // padding decodes to nothing, as in llama.cpp
  });

  it("encodes every text as onebit does (U+0085 and U+FEFF aside)", () => {
    const onebit = new OnebitBpeTokenizer(bpe);
    fc.assert(
      fc.property(textArbitrary("\u0085\ufeff"), (text) => {
        const ids = onebit.encode(text, { bos: false });
        expect(gguf.encode(text, { bos: false })).toEqual(ids);
        expect(gguf.encode(text)).toEqual(onebit.encode(text)); // both add BOS by default
        expect(gguf.decode(ids)).toBe(onebit.decode(ids));
      }),
      { numRuns: 800 },
    );
  });

  it("cuts U+0085 and U+FEFF as llama.cpp does, not as onebit's JavaScript \\s does", () => {
    const onebit = new OnebitBpeTokenizer(bpe);
    const piecewise = (pieces: string[]) => pieces.flatMap((p) => onebit.encode(p, { bos: false }));
    // U+0085 is whitespace to llama.cpp: " " + NEL is a whitespace run that leaves its last character to the next piece
    expect(gguf.encode("a \u0085b", { bos: false })).toEqual(piecewise(["a", " ", "\u0085", "b"]));
    expect(onebit.encode("a \u0085b", { bos: false })).toEqual(piecewise(["a", " \u0085", "b"]));
    // U+FEFF is not: " " + BOM is one "<space>?[^\s\p{L}\p{N}]+" piece
    expect(gguf.encode("a \ufeffb", { bos: false })).toEqual(piecewise(["a", " \ufeff", "b"]));
    expect(onebit.encode("a \ufeffb", { bos: false })).toEqual(piecewise(["a", " ", "\ufeff", "b"]));
  });

  it("keeps onebit's special-token names as plain text unless asked to parse them", () => {
    const onebit = new OnebitBpeTokenizer(bpe);
    expect(gguf.encode("a<eos>b", { bos: false })).toEqual(onebit.encode("a<eos>b", { bos: false }));
    expect(gguf.encode("a<eos>b", { bos: false, parseSpecial: true })).toEqual([...onebit.encode("a", { bos: false }), 2, ...onebit.encode("b", { bos: false })]);
  });

  it("refuses a vocabulary size smaller than the tokenizer's", () => {
    expect(() => onebitBpeToGguf(bpe, bpe.vocabSize - 1)).toThrow(/vocabSize: expected an integer ≥ the tokenizer's 1200 tokens, found 1199/);
  });
});
