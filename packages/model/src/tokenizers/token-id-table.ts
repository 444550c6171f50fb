/**
 * Token text → id for a whole vocabulary, keyed by the tokens' UTF-8 bytes as the GGUF file stores them
 * (gguf-string-array.ts) and looked up by a byte range of another buffer without making a string: loading LLaMA-3's
 * 280 000 merges ("left right") takes three lookups each (left, right and left + right) straight from the merges'
 * bytes. A Map<string> would need 400 000 strings made first (and a fresh slice per lookup, ≈ 0.5 µs each:
 * hashing the new string and a cache miss in a 128k-entry map). Text lookups (`get`) encode the text to UTF-8
 * (TextEncoder's, so a lone surrogate reads as U+FFFD) and look the bytes up.
 *
 * Open addressing over a power-of-two table at most half full, each slot holding the id and its full hash (a
 * collision is rejected without reading the token); the first id of a text is kept, and the first repeat is
 * recorded (`firstRepeat`) for the caller to refuse, as GgufVocab does.
 */
import type { GgufStringArray } from "../gguf/gguf-string-array";

const encoder = new TextEncoder();

/** FNV-1a over bytes; `finish` it before a lookup. Chained (h = an earlier range's), it hashes the two ranges joined. */
export function hashRange(b: Uint8Array, start: number, end: number, h = 0x811c9dc5): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

export function finish(h: number): number {
  h ^= h >>> 16;
  return Math.imul(h, 0x85ebca6b) | 0;
}

export class TokenIdTable {
  /** Per slot: [id + 1 (0: empty), hash] — one cache line holds both, so a miss costs one line */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly units: Uint8Array;
  private readonly starts: Int32Array;
  private scratch = new Uint8Array(64);
  /** The first id whose text an earlier id already has, and that earlier id; undefined when all are distinct. */
  readonly firstRepeat: { id: number; of: number } | undefined;

  constructor(tokens: GgufStringArray) {
    const n = tokens.length;
    let size = 16;
    while (size < n * 2) size *= 2;
    this.mask = size - 1;
    const slots = new Int32Array(2 * size); // all zero: all empty
    this.slots = slots;
    this.units = tokens.bytes;
    this.starts = tokens.starts;
    const { units, starts, mask } = this;
    let firstRepeat: { id: number; of: number } | undefined;
    for (let id = 0; id < n; id++) {
      const s = starts[id]!;
      const e = starts[id + 1]!;
      const h = finish(hashRange(units, s, e));
      let i = h & mask;
      for (;;) {
        const other = slots[2 * i]! - 1;
        if (other < 0) {
          slots[2 * i] = id + 1;
          slots[2 * i + 1] = h;
          break;
        }
        if (slots[2 * i + 1] === h && this.matches(other, units, s, e, e, e)) {
          firstRepeat ??= { id, of: other };
          break;
        }
        i = (i + 1) & mask;
      }
    }
    this.firstRepeat = firstRepeat;
  }

  /** The id of the token whose bytes are b[start, end), or undefined. */
  range(b: Uint8Array, start: number, end: number): number | undefined {
    return this.find(finish(hashRange(b, start, end)), b, start, end, end, end);
  }

  /** The id of the token whose bytes are b[a0, a1) followed by b[b0, b1) (a merge's result), or undefined. */
  concat(b: Uint8Array, a0: number, a1: number, b0: number, b1: number): number | undefined {
    return this.find(finish(hashRange(b, b0, b1, hashRange(b, a0, a1))), b, a0, a1, b0, b1);
  }

  /** The id of the token whose text is `text`, or undefined. */
  get(text: string): number | undefined {
    if (this.scratch.length < text.length * 3) this.scratch = new Uint8Array(text.length * 3);
    const { written } = encoder.encodeInto(text, this.scratch);
    return this.range(this.scratch, 0, written);
  }

  /**
   * Reads the home slot of `finished` hash and the first bytes of the token there, and returns a value to be
   * discarded: batch loaders call it for a run of lookups first, so their cache misses overlap instead of coming
   * one after another (merge-table loading is bound by them).
   */
  touch(finished: number): number {
    const id = this.slots[2 * (finished & this.mask)]! - 1;
    return id < 0 ? 0 : this.units[this.starts[id]!]!;
  }

  /** range / concat with the finished hash already computed (finish(hashRange(…))). */
  find(h: number, b: Uint8Array, a0: number, a1: number, b0: number, b1: number): number | undefined {
    let i = h & this.mask;
    for (;;) {
      const id = this.slots[2 * i]! - 1;
      if (id < 0) return undefined;
      if (this.slots[2 * i + 1] === h && this.matches(id, b, a0, a1, b0, b1)) return id;
      i = (i + 1) & this.mask;
    }
  }

  /** Whether token `id` (a valid id) is exactly b[a0, a1) + b[b0, b1). */
  matches(id: number, b: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
    const at = this.starts[id]!;
    const n = a1 - a0;
    if (this.starts[id + 1]! - at !== n + (b1 - b0)) return false;
    const u = this.units;
    for (let i = 0; i < n; i++) if (u[at + i] !== b[a0 + i]) return false;
    for (let i = 0; i < b1 - b0; i++) if (u[at + n + i] !== b[b0 + i]) return false;
    return true;
  }
}
