import { describe, expect, it } from "vitest";
import { OnebitBpeTokenizer } from "./onebit-bpe-adapter";
import { trainedBpe } from "./tokenizer-test-fixtures";

describe("OnebitBpeTokenizer", () => {
  const bpe = trainedBpe();
  const t = new OnebitBpeTokenizer(bpe);

  it("adds BOS by default, as every onebit caller asks BpeTokenizer to", () => {
    expect([t.kind, t.vocabSize, t.bosId, t.eosId, t.addBos, t.addEos, t.eosIds, t.chatTemplate]).toEqual(["onebit-bpe", bpe.vocabSize, 1, 2, true, false, [2], undefined]);
    expect(t.encode("hello there")).toEqual(bpe.encode("hello there", { bos: true }));
    expect(t.encode("hello there", { bos: false, eos: true })).toEqual(bpe.encode("hello there", { eos: true }));
    expect(t.decode(t.encode("héllo 😀"))).toBe("héllo 😀");
  });

  it("names tokens as the byte-level formats store them, partial UTF-8 sequences included", () => {
    expect([t.tokenToString(0), t.tokenToString(1), t.tokenToString(2)]).toEqual(["<pad>", "<bos>", "<eos>"]);
    expect(t.tokenToString(3 + 0x20)).toBe("Ġ");
    expect(t.tokenToString(3 + 0xf0)).toBe("ð"); // a lone lead byte, not U+FFFD
    const id = t.encode(" the", { bos: false });
    expect(id).toHaveLength(1);
    expect(t.tokenToString(id[0]!)).toBe("Ġthe");
    expect(() => t.tokenToString(bpe.vocabSize)).toThrow(`tokenToString: expected a token id in [0, ${bpe.vocabSize}), found ${bpe.vocabSize}`);
  });
});
