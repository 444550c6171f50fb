/**
 * The per-code-point classes llama.cpp's pre-tokenizers test (src/unicode.h unicode_cpt_flags, generated from
 * UnicodeData.txt by scripts/gen-unicode-data.py): letter = \p{L}, number = \p{N}, punctuation = \p{P}, and
 * whitespace = the Unicode White_Space property (U+0009–000D, 0020, 0085, 00A0, 1680, 2000–200A, 2028, 2029,
 * 202F, 205F, 3000). That whitespace set is NOT JavaScript's \s: \s adds U+FEFF and lacks U+0085, so the
 * pre-tokenizers test \p{White_Space} instead. Letter/number/punctuation come from the JavaScript engine's
 * Unicode tables, which may be a newer Unicode version than the llama.cpp build's (new code points only).
 */

export const LETTER = 1;
export const NUMBER = 2;
export const WHITESPACE = 4;
export const PUNCTUATION = 8;
const KNOWN = 128;

const RE_LETTER = /\p{L}/u;
const RE_NUMBER = /\p{N}/u;
const RE_WHITESPACE = /\p{White_Space}/u;
const RE_PUNCTUATION = /\p{P}/u;

function classify(cp: number): number {
  const ch = String.fromCodePoint(cp);
  return (
    (RE_LETTER.test(ch) ? LETTER : 0) |
    (RE_NUMBER.test(ch) ? NUMBER : 0) |
    (RE_WHITESPACE.test(ch) ? WHITESPACE : 0) |
    (RE_PUNCTUATION.test(ch) ? PUNCTUATION : 0)
  );
}

// Basic Multilingual Plane flags are computed once per code point and kept; the rest (emoji, rare scripts) are
// looked up in a small map. Regex tests per character would dominate tokenization time otherwise.
const bmp = new Uint8Array(0x10000);
const astral = new Map<number, number>();

/** The flags of code point `cp` (a bit set of LETTER, NUMBER, WHITESPACE, PUNCTUATION). */
export function codepointFlags(cp: number): number {
  if (cp < 0x10000) {
    let f = bmp[cp]!;
    if (f === 0) {
      f = classify(cp) | KNOWN;
      bmp[cp] = f;
    }
    return f & ~KNOWN;
  }
  let f = astral.get(cp);
  if (f === undefined) {
    f = classify(cp);
    astral.set(cp, f);
  }
  return f;
}

/**
 * A string's code points and the UTF-16 offset each starts at (plus the string's length at the end), so that a
 * pre-tokenizer can walk code points and cut the original string. Lone surrogates read as U+FFFD, which is what
 * they become on the way to UTF-8 (TextEncoder), so the classes tested are those of the bytes later encoded
 * (llama.cpp unicode_cpts_from_utf8 does the same for invalid UTF-8).
 */
export function codepoints(text: string): { cps: number[]; offsets: number[] } {
  const cps: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < text.length; i++) {
    offsets.push(i);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cps.push(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
        i++;
        continue;
      }
    }
    cps.push(c >= 0xd800 && c <= 0xdfff ? 0xfffd : c);
  }
  offsets.push(text.length);
  return { cps, offsets };
}
