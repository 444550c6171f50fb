/**
 * A GGUF string array held as its UTF-8 bytes, back to back, with each item's start: what the header parser
 * stores for every top-level string array. LLaMA-3's vocabulary is 128 256 tokens and 280 147 merges; as JS
 * strings that is 400 000 heap objects made and collected at every load (≈ 0.15 s plus their share of GC) before
 * the tokenizer, which reads them by byte range (token-id-table.ts), even starts. The strings are made only when
 * something asks for them (`toArray`, `get`): GgufSource.metadata and typedMetadata hand out the array on first
 * access (gguf-reader.ts), so a caller sees string[] as before.
 *
 * The bytes were validated as UTF-8 item by item when read, so decoding cannot fail.
 */

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();
/** Bytes decoded per TextDecoder call when materialising (a V8 string holds at most 2^29 UTF-16 units). */
const DECODE_CHUNK_BYTES = 1 << 24;

export class GgufStringArray {
  readonly length: number;
  private strings: string[] | undefined;

  /** `starts` has length + 1 entries: item i is bytes[starts[i], starts[i + 1]). */
  constructor(
    readonly bytes: Uint8Array,
    readonly starts: Int32Array,
  ) {
    this.length = starts.length - 1;
  }

  /** The strings' UTF-8 bytes (TextEncoder's: a lone surrogate becomes U+FFFD); `toArray` gives the strings back as given. */
  static fromStrings(strings: readonly string[]): GgufStringArray {
    const encoded = strings.map((s) => encoder.encode(s));
    const starts = new Int32Array(strings.length + 1);
    let total = 0;
    for (let i = 0; i < encoded.length; i++) {
      starts[i] = total;
      total += encoded[i]!.length;
    }
    starts[strings.length] = total;
    const bytes = new Uint8Array(total);
    for (let i = 0; i < encoded.length; i++) bytes.set(encoded[i]!, starts[i]!);
    const a = new GgufStringArray(bytes, starts);
    a.strings = strings as string[];
    return a;
  }

  /** Item i's bytes (a view). */
  item(i: number): Uint8Array {
    return this.bytes.subarray(this.starts[i]!, this.starts[i + 1]!);
  }

  /** Item i as a string. */
  get(i: number): string {
    return this.strings ? this.strings[i]! : decoder.decode(this.item(i));
  }

  /** Every item as a string; made once, then the same array. `chunkBytes`: bytes per TextDecoder call (tests make it small). */
  toArray(chunkBytes = DECODE_CHUNK_BYTES): string[] {
    if (this.strings) return this.strings;
    const n = this.length;
    const out = new Array<string>(n);
    const { bytes, starts } = this;
    // a few TextDecoder calls over runs of items, cut apart by each item's UTF-16 length (one native call per item
    // costs twice as much); no UTF-8 sequence runs across items, as each was valid on its own
    for (let from = 0; from < n; ) {
      let to = from + 1;
      while (to < n && starts[to + 1]! - starts[from]! <= chunkBytes) to++;
      const text = decoder.decode(bytes.subarray(starts[from]!, starts[to]!));
      let u = 0;
      for (let i = from; i < to; i++) {
        let units = 0;
        for (let j = starts[i]!, e = starts[i + 1]!; j < e; j++) {
          const b = bytes[j]!;
          if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
        }
        out[i] = text.slice(u, u + units);
        u += units;
      }
      from = to;
    }
    this.strings = out;
    return out;
  }
}

/**
 * The index of the first byte of bytes[start, end) at which it stops being UTF-8 as the WHATWG decoder (TextDecoder
 * with fatal: true) accepts it — overlong forms, surrogates, code points past U+10FFFF and cut sequences refused —
 * or -1 when it is valid.
 */
export function invalidUtf8At(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= end) return i; // cut short
    const b1 = bytes[i + 1]!;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Where GgufSource.metadata keeps its string arrays' bytes (rawStringArray reads them). */
export const STRING_ARRAYS: unique symbol = Symbol("onebit.gguf.stringArrays");

/**
 * The bytes of metadata key `key` when `meta` is a GgufSource's metadata and the key holds a string array (its
 * strings need not be made); undefined otherwise — a plain Map, another type — and the caller reads `meta.get(key)`.
 */
export function rawStringArray(meta: ReadonlyMap<string, unknown>, key: string): GgufStringArray | undefined {
  return (meta as { [STRING_ARRAYS]?: ReadonlyMap<string, GgufStringArray> })[STRING_ARRAYS]?.get(key);
}
