/**
 * GPT-2's reversible byte ↔ character map: byte-level BPE vocabularies (GPT-2, LLaMA-3, every GGUF with
 * tokenizer.ggml.model "gpt2", every Hugging Face ByteLevel tokenizer.json) store each token as the characters its
 * bytes map to, so that no token contains whitespace or control characters. The printable bytes ! … ~, ¡ … ¬ and
 * ® … ÿ map to themselves; the other 68 bytes map, in order, to U+0100 onwards (space 0x20 → "Ġ" U+0120,
 * newline 0x0A → "Ċ" U+010A).
 *
 * Reference: openai/gpt-2 encoder.py bytes_to_unicode; llama.cpp src/unicode.cpp unicode_byte_to_utf8_map and
 * unicode_utf8_to_byte_map; HF tokenizers src/pre_tokenizers/byte_level.rs bytes_char.
 */

function buildByteToChar(): string[] {
  const map: (string | undefined)[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  for (let b = 0; b < 256; b++) if (printable(b)) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  return map as string[];
}

/** BYTE_TO_CHAR[b]: the one-character string byte b is stored as. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** The inverse: character code → byte, for the 256 characters of the map (undefined for any other character). */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** Bytes → their byte-level characters (one character per byte). */
export function bytesToUnicode(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!];
  return s;
}

/** Text → its UTF-8 bytes in byte-level characters (a lone surrogate becomes U+FFFD, as TextEncoder does). */
export function textToUnicode(text: string): string {
  return bytesToUnicode(utf8.encode(text));
}

/**
 * Byte-level characters → bytes, or the index of the first character outside the map (a token that is not
 * byte-level text: the caller names it in its error).
 */
export function unicodeToBytes(text: string): Uint8Array | { badIndex: number } {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = c < 0x200 ? CODE_TO_BYTE[c]! : -1;
    if (b < 0) return { badIndex: i };
    out[i] = b;
  }
  return out;
}

/** CHAR_TO_BYTE by character code (every mapped character is below U+0200), −1 elsewhere: a GGUF vocabulary's 128k tokens are read through it at load. */
export const CODE_TO_BYTE = new Int16Array(0x200).fill(-1);
BYTE_TO_CHAR.forEach((c, b) => {
  CODE_TO_BYTE[c.charCodeAt(0)] = b;
});

const IS_BYTE_CHAR = new Uint8Array(0x200);
for (const c of BYTE_TO_CHAR) IS_BYTE_CHAR[c.charCodeAt(0)] = 1;

/** The index of the first character of `text` outside the map, or -1 when it is all byte-level characters (no allocation: vocabularies have 10⁵ tokens). */
export function firstNonByteChar(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x200 || IS_BYTE_CHAR[c] === 0) return i;
  }
  return -1;
}
