/**
 * llama.cpp's "default" BPE pre-tokenizer (LLAMA_VOCAB_PRE_TYPE_DEFAULT in src/llama-vocab.cpp), used for
 * tokenizer.ggml.pre "default" and — with a loud warning in llama.cpp — when a GGUF has no tokenizer.ggml.pre
 * at all (BitNet-2B4T's official GGUF is such a file). Four passes, each cutting every piece of the previous one
 * and keeping the text between matches as pieces too (src/unicode.cpp unicode_regex_split + _split_stl):
 *   1. [\p{P}\$\+<=>\^~\|]+   2. the GPT-2 matcher (gpt2-split.ts)   3. \p{N}+   4. [0-9][0-9][0-9]
 * llama.cpp runs 1 and 3 with std::regex over a "collapsed" text (each non-ASCII code point replaced by one byte
 * per Unicode category); the JavaScript classes below select the same code points.
 */
import { splitGpt2 } from "./gpt2-split";

const PUNCTUATION_RUN = /[\p{P}$+<=>^~|]+/gu;
const NUMBER_RUN = /\p{N}+/gu;
const THREE_DIGITS = /[0-9][0-9][0-9]/g;

/** Matches and the gaps between them, in order (unicode_regex_split_stl). */
function splitKeepingGaps(text: string, re: RegExp): string[] {
  const pieces: string[] = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) pieces.push(text.slice(at, m.index));
    pieces.push(m[0]);
    at = m.index + m[0].length;
  }
  if (at < text.length) pieces.push(text.slice(at));
  return pieces;
}

export function splitDefault(text: string): string[] {
  return splitKeepingGaps(text, PUNCTUATION_RUN)
    .flatMap(splitGpt2)
    .flatMap((p) => splitKeepingGaps(p, NUMBER_RUN))
    .flatMap((p) => splitKeepingGaps(p, THREE_DIGITS));
}
