/**
 * LLaMA-3's pre-tokenizer,
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+,
 * as llama.cpp runs it: a port of src/unicode.cpp unicode_regex_split_custom_llama3, line for line, over one
 * fragment (text between special tokens). Whitespace is Unicode White_Space (codepoint-flags.ts), not
 * JavaScript's \s; the case-insensitive contractions compare lower-cased ASCII (unicode_tolower maps no other
 * code point to s, t, r, e, v, m, l or d).
 */
import { codepointFlags, codepoints, LETTER, NUMBER, WHITESPACE } from "./codepoint-flags";

/** "No code point here" (past the fragment's end): llama.cpp's empty unicode_cpt_flags, as_uint() == 0. */
const OUT = 1 << 16;
const OUT_OF_RANGE = -1;
const CR = 0x0d;
const LF = 0x0a;

const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

export function splitLlama3(text: string): string[] {
  const { cps, offsets } = codepoints(text);
  const end = cps.length;
  const pieces: string[] = [];
  const flagsAt = (p: number) => (p < end ? codepointFlags(cps[p]!) : OUT);
  const cptAt = (p: number) => (p < end ? cps[p]! : OUT_OF_RANGE);
  let prevEnd = 0;
  const cut = (e: number) => {
    if (e > prevEnd) pieces.push(text.slice(offsets[prevEnd], offsets[e]));
    prevEnd = e;
  };

  for (let pos = 0; pos < end; ) {
    const cpt = cps[pos]!;
    const flags = flagsAt(pos);

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (cpt === 0x27 && pos + 1 < end) {
      const next = lower(cps[pos + 1]!);
      if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
        pos += 2;
        cut(pos);
        continue;
      }
      if (pos + 2 < end) {
        const next2 = lower(cps[pos + 2]!);
        if ((next === 0x72 && next2 === 0x65) || (next === 0x76 && next2 === 0x65) || (next === 0x6c && next2 === 0x6c)) {
          pos += 3;
          cut(pos);
          continue;
        }
      }
    }

    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(cpt === CR || cpt === LF || flags & NUMBER)) {
      if (flags & LETTER || flagsAt(pos + 1) & LETTER) {
        pos++;
        while (flagsAt(pos) & LETTER) pos++;
        cut(pos);
        continue;
      }
    }

    // \p{N}{1,3}
    if (flags & NUMBER) {
      let ini = pos;
      while (flagsAt(pos) & NUMBER) {
        if (++pos - ini >= 3) {
          cut(pos);
          ini = pos;
        }
      }
      cut(pos);
      continue;
    }

    // <space>?[^\s\p{L}\p{N}]+[\r\n]* — llama.cpp tests the first code point's own flags for "in range" here
    let flags2 = cpt === 0x20 ? flagsAt(pos + 1) : flags;
    if (!(flags2 & (WHITESPACE | LETTER | NUMBER)) && flags !== OUT) {
      if (cpt === 0x20) pos++;
      while (!(flags2 & (WHITESPACE | LETTER | NUMBER)) && flags2 !== OUT) flags2 = flagsAt(++pos);
      let cpt2 = cptAt(pos);
      while (cpt2 === CR || cpt2 === LF) cpt2 = cptAt(++pos);
      cut(pos);
      continue;
    }

    let whitespaces = 0;
    let lastEndOfNewline = 0;
    while (flagsAt(pos + whitespaces) & WHITESPACE) {
      const cpt2 = cps[pos + whitespaces]!;
      if (cpt2 === CR || cpt2 === LF) lastEndOfNewline = pos + whitespaces + 1;
      whitespaces++;
    }
    // \s*[\r\n]+
    if (lastEndOfNewline > 0) {
      pos = lastEndOfNewline;
      cut(pos);
      continue;
    }
    // \s+(?!\S)
    if (whitespaces > 1 && pos + whitespaces < end) {
      pos += whitespaces - 1;
      cut(pos);
      continue;
    }
    // \s+
    if (whitespaces > 0) {
      pos += whitespaces;
      cut(pos);
      continue;
    }
    // no match: the code point alone
    cut(++pos);
  }
  return pieces;
}
