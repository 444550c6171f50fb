/**
 * Shared by the tests beside it (not exported from the package): a small varied corpus, a onebit BPE trained
 * on it, and fast-check text that exercises what byte-level BPE can get wrong — multi-byte characters split
 * across tokens, emoji with modifiers, whitespace runs, digit runs, code, contractions.
 */
import fc from "fast-check";
import { type BpeTokenizer, trainBpeTokenizer } from "../bpe-tokenizer";

const LINES = [
  "The quick brown fox jumps over the lazy dog. It's 2024; we'll see what they've done.",
  "  def square(x):\n      return x ** 2  # squares x\n\n\tif (a == b) { return a->next; }",
  "Numbers: 1234567890, 3.14159, 42, 1e-9 and 007.",
  "Ünïcödé façade naïve résumé — «quotes» and ‘single’ ones…",
  "日本語のテキストです。中文文本。한국어 텍스트. Русский текст. Ελληνικά. עברית. العربية.",
  "Emoji: 😀👍🏽🎉 👩‍👩‍👧 ❤️ 🇫🇷!!",
  "Tabs\tand  spaces   and\r\nwindows line ends\n\n\n",
];

const SYLLABLES = ["ka", "to", "re", "shi", "an", "el", "or", "ü", "ñe", "ça", "日", "本", "語", "ко", "ра", "ση", "한", "글", "😀", "_", "x2", "3"];

/**
 * About 40 KB: the lines above with varying numbers, then pseudo-words from mixed-script syllables (a fixed
 * xorshift sequence), so that training finds over a thousand merges.
 */
export function sampleCorpus(): string {
  let text = "";
  for (let i = 0; i < 30; i++) for (const line of LINES) text += `${line.replace(/\d/g, (d) => String((Number(d) + i) % 10))} ${i}\n`;
  let state = 0x9e3779b9;
  const next = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  for (let w = 0; w < 4000; w++) {
    let word = next(4) === 0 ? " " : "";
    for (let k = 1 + next(4); k > 0; k--) word += SYLLABLES[next(SYLLABLES.length)];
    text += word + (next(12) === 0 ? ".\n" : " ");
  }
  return text;
}

let trained: BpeTokenizer | undefined;
/** A onebit BPE with 1200 tokens (941 merges), trained once per test file. */
export function trainedBpe(): BpeTokenizer {
  trained ??= trainBpeTokenizer(sampleCorpus(), { vocabSize: 1200 });
  return trained;
}

const FRAGMENTS = [
  "the", " the", "The", " quick", "fox", "It's", "they've", "don't", "I'M", "'", "'s",
  " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u2003", "\u3000",
  "1", "12", "123", " 1234567", "3.14", "٣٤٥",
  ".", "!!", "...", "(", ")", "{", "}", ";", "==", "->", "#", "$", "`", "<", ">",
  "ü", "façade", "日本語", "テキスト", "한국어", "Русский", "e\u0301", "²",
  "😀", "👍🏽", "🎉", "👩‍👩‍👧", "❤️", "🇫🇷", "\u200b", "\u0000",
];

/**
 * Text for property tests. `exclude` drops characters from the random parts (U+0085 and U+FEFF, the two code
 * points on which JavaScript's \s and Unicode White_Space disagree).
 */
export function textArbitrary(exclude = ""): fc.Arbitrary<string> {
  const drop = (s: string) => (exclude ? Array.from(s).filter((c) => !exclude.includes(c)).join("") : s);
  // any code point, lone surrogates included (fast-check's unit "binary" costs seconds to set up)
  const anyCodepoint = fc.oneof(fc.integer({ min: 0, max: 0x3000 }), fc.integer({ min: 0, max: 0x10ffff }));
  return fc.oneof(
    fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }).map((p) => p.join("")),
    fc.string({ unit: "grapheme", maxLength: 60 }).map(drop),
    fc.array(anyCodepoint, { maxLength: 40 }).map((cps) => drop(cps.map((c) => String.fromCodePoint(c)).join(""))),
    fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: "grapheme", maxLength: 4 })), { maxLength: 20 }).map((p) => drop(p.join(""))),
  );
}
