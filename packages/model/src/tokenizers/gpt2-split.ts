/**
 * GPT-2's pre-tokenizer, 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, as llama.cpp
 * runs it: a port of src/unicode.cpp unicode_regex_split_custom_gpt2, line for line, over one fragment (text
 * between special tokens). llama-vocab.cpp lists the regex without the final |\s+; the hand-written matcher
 * has it (its "regex: \s+" branch), so a lone space before a letter-less character, or whitespace at the end,
 * still forms a piece. Whitespace is Unicode White_Space (codepoint-flags.ts), not JavaScript's \s.
 */
import { codepointFlags, codepoints, LETTER, NUMBER, WHITESPACE } from "./codepoint-flags";

/** "No code point here" (past the fragment's end): llama.cpp's empty unicode_cpt_flags, as_uint() == 0. */
const OUT = 1 << 16;

export function splitGpt2(text: string): string[] {
  const { cps, offsets } = codepoints(text);
  const end = cps.length;
  const pieces: string[] = [];
  const flagsAt = (p: number) => (p < end ? codepointFlags(cps[p]!) : OUT);
  let prevEnd = 0;
  const cut = (e: number) => {
    if (e > prevEnd) pieces.push(text.slice(offsets[prevEnd], offsets[e]));
    prevEnd = e;
  };

  for (let pos = 0; pos < end; ) {
    const cpt = cps[pos]!;
    const flags = flagsAt(pos);

    // 's|'t|'re|'ve|'m|'ll|'d
    if (cpt === 0x27 && pos + 1 < end) {
      const next = cps[pos + 1]!;
      if (next === 0x73 || next === 0x74 || next === 0x6d || next === 0x64) {
        pos += 2;
        cut(pos);
        continue;
      }
      if (pos + 2 < end) {
        const next2 = cps[pos + 2]!;
        if ((next === 0x72 && next2 === 0x65) || (next === 0x76 && next2 === 0x65) || (next === 0x6c && next2 === 0x6c)) {
          pos += 3;
          cut(pos);
          continue;
        }
      }
    }

    let flags2 = cpt === 0x20 ? flagsAt(pos + 1) : flags;
    // <space>?\p{L}+
    if (flags2 & LETTER) {
      if (cpt === 0x20) pos++;
      while (flags2 & LETTER) flags2 = flagsAt(++pos);
      cut(pos);
      continue;
    }
    // <space>?\p{N}+
    if (flags2 & NUMBER) {
      if (cpt === 0x20) pos++;
      while (flags2 & NUMBER) flags2 = flagsAt(++pos);
      cut(pos);
      continue;
    }
    // <space>?[^\s\p{L}\p{N}]+
    if (!(flags2 & (WHITESPACE | LETTER | NUMBER)) && flags2 !== OUT) {
      if (cpt === 0x20) pos++;
      while (!(flags2 & (WHITESPACE | LETTER | NUMBER)) && flags2 !== OUT) flags2 = flagsAt(++pos);
      cut(pos);
      continue;
    }

    let whitespaces = 0;
    while (flagsAt(pos + whitespaces) & WHITESPACE) whitespaces++;
    // \s+(?!\S): a run followed by more text keeps its last whitespace for the next piece
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
