/**
 * BPE merges keyed by the pair of token ids: (left, right) → (rank, merged id), in an open-addressing hash
 * table in one typed array (four int32s per slot). A Map keyed by left·2^k + right would hash a heap-allocated double per lookup (the key
 * outgrows small integers for a 128 000-token vocabulary), and LLaMA-3 has 280 000 merges to load and look up
 * on every bigram of every word.
 */
import { ModelInputError } from "../model-input-error";

/** Int32s per slot: [left + 1 (0: empty), right, rank, merged] side by side, so a probe touches one cache line, not four arrays */
const SLOT = 4;
/** Table bytes per region in addAll (about what a core's L2 cache holds). */
const REGION_BYTES = 1 << 17;

export class MergeTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  /** The most merges the table holds (at most 5/8 full: linear probing stays short, and LLaMA-3's 280 000 fit 8 MiB). */
  private readonly limit: number;
  private count = 0;

  /** Room for `capacity` merges. */
  constructor(capacity: number) {
    let size = 16;
    while (size * 5 < capacity * 8) size *= 2;
    this.mask = size - 1;
    this.limit = (size * 5) / 8;
    this.slots = new Int32Array(size * SLOT); // all zero: all empty, and no pass over fresh pages to mark them
  }

  get size(): number {
    return this.count;
  }

  private home(left: number, right: number): number {
    let h = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca6b)) >>> 0;
    h ^= h >>> 15;
    return (h & this.mask) * SLOT;
  }

  /** Reads the pair's home slot and returns a value to discard (see TokenIdTable.touch): batch loaders overlap the misses. */
  touch(left: number, right: number): number {
    return this.slots[this.home(left, right)]!;
  }

  /** The slot index (a multiple of SLOT) of the pair, or of the empty slot where it would go. */
  private slot(left: number, right: number): number {
    let i = this.home(left, right);
    const s = this.slots;
    const key = left + 1;
    while (s[i] !== 0 && (s[i] !== key || s[i + 1] !== right)) i = (i + SLOT) & (this.mask * SLOT + SLOT - 1);
    return i;
  }

  /** Adds the pair unless it is already there (the first occurrence of a merge keeps its rank). */
  addIfAbsent(left: number, right: number, rank: number, merged: number): void {
    const i = this.slot(left, right);
    const s = this.slots;
    if (s[i] !== 0) return;
    if (this.count + 1 > this.limit) throw new ModelInputError(`MergeTable: more than the ${this.limit} merges it was sized for`);
    s[i] = left + 1;
    s[i + 1] = right;
    s[i + 2] = rank;
    s[i + 3] = merged;
    this.count++;
  }

  /**
   * addIfAbsent(left[r], right[r], r, merged[r]) for every r in rank order, with the same result, but done region by
   * region of the table: merges sorted (stably, so a repeated pair's first rank still wins) by where their slot
   * is, so the inserts sweep the table instead of missing the cache on every one (LLaMA-3: 280 000 merges into 8 MiB).
   */
  addAll(left: Int32Array, right: Int32Array, merged: Int32Array): void {
    const n = left.length;
    const slotsBytes = this.slots.length * 4;
    const shift = Math.max(0, Math.round(Math.log2(slotsBytes / REGION_BYTES))); // regions of about REGION_BYTES
    const regions = 1 << shift;
    const bits = Math.log2(this.mask + 1);
    const toRegion = Math.max(0, bits - shift); // home slot index >> toRegion = its region
    const homes = new Int32Array(n);
    const counts = new Int32Array(regions + 1);
    for (let r = 0; r < n; r++) {
      const h = this.home(left[r]!, right[r]!);
      homes[r] = h;
      counts[((h / SLOT) >>> toRegion) + 1]!++;
    }
    for (let g = 0; g < regions; g++) counts[g + 1]! += counts[g]!;
    const order = new Int32Array(n);
    for (let r = 0; r < n; r++) order[counts[(homes[r]! / SLOT) >>> toRegion]!++] = r;
    for (let k = 0; k < n; k++) {
      const r = order[k]!;
      this.insertAt(homes[r]!, left[r]!, right[r]!, r, merged[r]!);
    }
  }

  /** addIfAbsent with the pair's home slot known. */
  private insertAt(home: number, left: number, right: number, rank: number, merged: number): void {
    const s = this.slots;
    const key = left + 1;
    let i = home;
    while (s[i] !== 0 && (s[i] !== key || s[i + 1] !== right)) i = (i + SLOT) & (this.mask * SLOT + SLOT - 1);
    if (s[i] !== 0) return;
    if (this.count + 1 > this.limit) throw new ModelInputError(`MergeTable: more than the ${this.limit} merges it was sized for`);
    s[i] = key;
    s[i + 1] = right;
    s[i + 2] = rank;
    s[i + 3] = merged;
    this.count++;
  }

  /** The slot of the pair, or -1: read rankAt / mergedAt with it. */
  find(left: number, right: number): number {
    const i = this.slot(left, right);
    return this.slots[i] === 0 ? -1 : i;
  }

  rankAt(slot: number): number {
    return this.slots[slot + 2]!;
  }

  mergedAt(slot: number): number {
    return this.slots[slot + 3]!;
  }
}
