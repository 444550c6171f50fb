/**
 * onebit's BPE vocabulary as the byte-level formats store it. Ids: 0 <pad>, 1 <bos>, 2 <eos>, 3 … 258 the bytes
 * 0 … 255, then merge i = id 259 + i, the concatenation of its pair (../bpe-tokenizer.ts). Each token's bytes
 * are rebuilt from the public merge list: decoding one token through TextDecoder would turn a partial UTF-8
 * sequence into U+FFFD.
 */
import { type BpeTokenizer, SPECIAL_TOKENS } from "../bpe-tokenizer";
import { bytesToUnicode } from "./bytes-to-unicode";
import { ModelInputError } from "../model-input-error";

export const ONEBIT_BYTE_BASE = SPECIAL_TOKENS.length;

/** bytes[id] for every id; the special tokens have none. */
export function onebitTokenBytes(bpe: BpeTokenizer): Uint8Array[] {
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < ONEBIT_BYTE_BASE; i++) bytes.push(new Uint8Array(0));
  for (let b = 0; b < 256; b++) bytes.push(Uint8Array.of(b));
  for (const [a, b] of bpe.merges) {
    const left = bytes[a]!;
    const right = bytes[b]!;
    const joined = new Uint8Array(left.length + right.length);
    joined.set(left);
    joined.set(right, left.length);
    bytes.push(joined);
  }
  return bytes;
}

/**
 * Every token as a string: the special tokens by name, the rest as GPT-2 byte characters ("Ġthe"). Throws if
 * two ids would share a string — GGUF (llama.cpp refuses duplicate tokens) and tokenizer.json (a string → id map)
 * cannot hold that vocabulary. (Two merges can spell one byte string — "ab"+"c" and "a"+"bc" — only if
 * both pairs occur in the training words; the tests' trained tokenizers never hit it, but it is checked, not assumed.)
 */
export function onebitTokenStrings(bpe: BpeTokenizer): string[] {
  const strings = onebitTokenBytes(bpe).map((b, id) => (id < ONEBIT_BYTE_BASE ? SPECIAL_TOKENS[id]! : bytesToUnicode(b)));
  const seen = new Map<string, number>();
  strings.forEach((s, id) => {
    const other = seen.get(s);
    if (other !== undefined)
      throw new ModelInputError(`onebit tokenizer: tokens ${other} and ${id} are the same text ${JSON.stringify(s)}; GGUF and tokenizer.json cannot store two ids for one token`);
    seen.set(s, id);
  });
  return strings;
}
