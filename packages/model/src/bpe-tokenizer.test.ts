import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BpeTokenizer, trainBpeTokenizer } from "./bpe-tokenizer";

const text = "the cat sat on the mat. the cat ate the rat! The end, the end.\n";

describe("byte-level BPE", () => {
  it("learns the most frequent pairs first and encodes with fewer tokens than bytes", () => {
    const tok = trainBpeTokenizer(text.repeat(20), { vocabSize: 300 });
    expect(tok.vocabSize).toBeLessThanOrEqual(300);
    // the first merge is a most frequent adjacent byte pair within pre-tokenized words (counted here independently)
    const counts = new Map<string, number>();
    for (const w of text.repeat(20).match(/ ?[a-zA-Z]+| ?[^\sa-zA-Z]+|\s+/g)!)
      for (let i = 0; i + 1 < w.length; i++) counts.set(w.slice(i, i + 2), (counts.get(w.slice(i, i + 2)) ?? 0) + 1);
    const max = Math.max(...counts.values());
    const [a, b] = tok.merges[0]!;
    expect(counts.get(tok.decode([a, b]))).toBe(max);
    expect(tok.encode(text).length).toBeLessThan(new TextEncoder().encode(text).length / 2);
  });
  it("decodes what it encodes for any text (unicode included)", () => {
    const tok = trainBpeTokenizer(text, { vocabSize: 280 });
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
    );
    expect(tok.decode(tok.encode("ünïcödé ☃ 中文"))).toBe("ünïcödé ☃ 中文");
  });
  it("adds BOS/EOS on request and round-trips through JSON", () => {
    const tok = trainBpeTokenizer(text, { vocabSize: 270 });
    const ids = tok.encode("the cat", { bos: true, eos: true });
    expect(ids[0]).toBe(1);
    expect(ids.at(-1)).toBe(2);
    const again = BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(again.encode("the mat")).toEqual(tok.encode("the mat"));
    expect(() => BpeTokenizer.fromJSON({ type: "x" })).toThrow(/not an onebit BPE tokenizer/);
    expect(() => trainBpeTokenizer(text, { vocabSize: 100 })).toThrow("vocabSize: expected an integer ≥ 259, got 100");
  });
});
