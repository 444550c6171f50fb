/**
 * Token text → id for a whole vocabulary, looked up by a range of another string without slicing it: loading
 * LLaMA-3's 280 000 merges ("left right") takes three lookups each (left, right and left + right), and a Map<string>
 * lookup of a fresh slice cost ≈ 0.5 µs — hashing the new string and a cache miss in a 128k-entry map — about
 * 0.5 s of every load. Here a lookup hashes the code units in place and compares them with the stored token.
 *
 * Open addressing over a power-of-two table at most half full, each slot holding the id and its full hash (a
 * collision is rejected without reading the token); the first id of a text is kept (duplicates are the caller's to
 * refuse, as GgufVocab does before building this).
 */
const EMPTY = -1;

/** FNV-1a over UTF-16 code units, folded to 32 bits. */
function hashRange(s: string, start: number, end: number, h = 0x811c9dc5): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

function finish(h: number): number {
  h ^= h >>> 16;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}

export class TokenIdTable {
  /** Per slot: [id or EMPTY, hash] — one cache line holds both, so a miss costs one line */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Every token's UTF-16 code units, one after another: compares read one sequential run, not a heap string */
  private readonly units: Uint16Array;
  private readonly starts: Int32Array;

  constructor(tokens: readonly string[]) {
    let size = 16;
    while (size < tokens.length * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(2 * size).fill(EMPTY);
    this.starts = new Int32Array(tokens.length + 1);
    let total = 0;
    for (let id = 0; id < tokens.length; id++) {
      this.starts[id] = total;
      total += tokens[id]!.length;
    }
    this.starts[tokens.length] = total;
    this.units = new Uint16Array(total);
    for (let id = 0; id < tokens.length; id++) {
      const t = tokens[id]!;
      const at = this.starts[id]!;
      for (let i = 0; i < t.length; i++) this.units[at + i] = t.charCodeAt(i);
    }
    for (let id = 0; id < tokens.length; id++) {
      const t = tokens[id]!;
      const h = finish(hashRange(t, 0, t.length)) | 0;
      let i = h & this.mask;
      while (this.slots[2 * i] !== EMPTY && !(this.slots[2 * i + 1] === h && this.matches(this.slots[2 * i]!, t, 0, t.length, 0, 0))) i = (i + 1) & this.mask;
      if (this.slots[2 * i] === EMPTY) {
        this.slots[2 * i] = id;
        this.slots[2 * i + 1] = h;
      }
    }
  }

  /** The id of the token whose text is s[start, end), or undefined. */
  range(s: string, start: number, end: number): number | undefined {
    return this.find(finish(hashRange(s, start, end)) | 0, s, start, end, end, end);
  }

  /** The id of the token whose text is s[a0, a1) followed by s[b0, b1) (a merge's result), or undefined. */
  concat(s: string, a0: number, a1: number, b0: number, b1: number): number | undefined {
    return this.find(finish(hashRange(s, b0, b1, hashRange(s, a0, a1))) | 0, s, a0, a1, b0, b1);
  }

  private find(h: number, s: string, a0: number, a1: number, b0: number, b1: number): number | undefined {
    let i = h & this.mask;
    for (;;) {
      const id = this.slots[2 * i]!;
      if (id === EMPTY) return undefined;
      if (this.slots[2 * i + 1] === h && this.matches(id, s, a0, a1, b0, b1)) return id;
      i = (i + 1) & this.mask;
    }
  }

  /** Whether token `id` is exactly s[a0, a1) + s[b0, b1). */
  private matches(id: number, s: string, a0: number, a1: number, b0: number, b1: number): boolean {
    const at = this.starts[id]!;
    const n = a1 - a0;
    if (this.starts[id + 1]! - at !== n + (b1 - b0)) return false;
    const u = this.units;
    for (let i = 0; i < n; i++) if (u[at + i] !== s.charCodeAt(a0 + i)) return false;
    for (let i = 0; i < b1 - b0; i++) if (u[at + n + i] !== s.charCodeAt(b0 + i)) return false;
    return true;
  }
}
