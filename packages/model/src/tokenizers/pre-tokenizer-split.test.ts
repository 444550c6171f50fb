import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitDefault } from "./default-split";
import { splitGpt2 } from "./gpt2-split";
import { splitLlama3 } from "./llama3-split";

// The regexes llama-vocab.cpp names, in JavaScript, with \s spelled as Unicode White_Space — the class llama.cpp's
// hand-written matchers test (src/unicode-data.cpp unicode_set_whitespace). The ports must cut exactly where the
// regexes do (llama.cpp's matchers exist to run these regexes fast).
const WS = "\\p{White_Space}";
const NWS = "\\P{White_Space}";
const GPT2 = new RegExp(`'(?:s|t|re|ve|m|ll|d)| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${WS}+(?!${NWS})|${WS}+`, "gu");
const LLAMA3 = new RegExp(
  `'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|${WS}*[\\r\\n]+|${WS}+(?!${NWS})|${WS}+`,
  "gu",
);
const byRegex = (re: RegExp) => (text: string) => Array.from(text.matchAll(re), (m) => m[0]);

// Text that exercises every branch: contractions in both cases, letters, digit runs, punctuation, every kind of
// whitespace (U+0085 and U+FEFF are where White_Space and JavaScript's \s disagree), emoji, CJK, combining marks.
const pieceArb = fc.constantFrom(
  "'s", "'T", "'re", "'VE", "'ll", "'d", "'x", "'", "don't", "I'M",
  " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u0085", "\ufeff", "\u2003", "\u3000",
  "hello", " world", "Ünïcödé", "日本語", "Русский", "e\u0301", "x²", "Ⅻ",
  "1", "12", "123", "1234567", " 42", "3.14", "٣٤٥",
  ".", "!!", "...", " (", ")", "{", "}", ";", "==", "->", "$", "`", "@#",
  "😀", "👍🏽", "🎉🎉", "\ud800", "\u0000", "\u200b",
);
const textArb = fc.oneof(
  fc.array(pieceArb, { maxLength: 24 }).map((p) => p.join("")),
  fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 40 }).map((cps) => cps.map((c) => String.fromCodePoint(c)).join("")),
  fc.string({ unit: "grapheme", maxLength: 40 }),
);

describe("llama.cpp pre-tokenizer ports", () => {
  it("the GPT-2 matcher cuts where the GPT-2 regex (with White_Space) cuts", () => {
    fc.assert(fc.property(textArb, (t) => {
      expect(splitGpt2(t)).toEqual(byRegex(GPT2)(t));
    }), { numRuns: 1000 });
  });

  it("the LLaMA-3 matcher cuts where the LLaMA-3 regex (with White_Space) cuts", () => {
    fc.assert(fc.property(textArb, (t) => {
      expect(splitLlama3(t)).toEqual(byRegex(LLAMA3)(t));
    }), { numRuns: 1000 });
  });

  it("pieces always join back to the text", () => {
    fc.assert(
      fc.property(textArb, (t) => {
        expect(splitGpt2(t).join("")).toBe(t);
        expect(splitLlama3(t).join("")).toBe(t);
        expect(splitDefault(t).join("")).toBe(t);
      }),
      { numRuns: 500 },
    );
  });

  it("cuts known examples as llama.cpp does", () => {
    expect(splitGpt2("Hello world's  end\n")).toEqual(["Hello", " world", "'s", " ", " end", "\n"]);
    expect(splitLlama3("Hello 1234567 DON'T\n\n  x")).toEqual(["Hello", " ", "123", "456", "7", " DON", "'T", "\n\n", " ", " x"]);
    // U+0085 is White_Space for llama.cpp (JavaScript's \s says no); U+FEFF is not (JavaScript's \s says yes)
    expect(splitGpt2("a\u0085b")).toEqual(["a", "\u0085", "b"]);
    expect(splitGpt2("a \ufeffb")).toEqual(["a", " \ufeff", "b"]);
  });

  it("the default pre-tokenizer cuts punctuation runs, then GPT-2 pieces, then digit runs and triples", () => {
    expect(splitDefault("Hello, world! 12345 x=1")).toEqual(["Hello", ",", " world", "!", " ", "123", "45", " x", "=", "1"]);
  });
});
