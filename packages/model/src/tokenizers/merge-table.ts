/**
 * BPE merges keyed by the pair of token ids: (left, right) → (rank, merged id), in an open-addressing hash
 * table in one typed array (four int32s per slot). A Map keyed by left·2^k + right would hash a heap-allocated double per lookup (the key
 * outgrows small integers for a 128 000-token vocabulary), and LLaMA-3 has 280 000 merges to load and look up
 * on every bigram of every word.
 */
import { ModelInputError } from "../model-input-error";

const EMPTY = -1;
/** Int32s per slot: [left, right, rank, merged] side by side, so a probe touches one cache line, not four arrays */
const SLOT = 4;

export class MergeTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  private count = 0;

  /** Room for `capacity` merges (the table keeps at most half full). */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size * SLOT);
    for (let i = 0; i < size; i++) this.slots[i * SLOT] = EMPTY;
  }

  get size(): number {
    return this.count;
  }

  /** The slot index (a multiple of SLOT) of the pair, or of the empty slot where it would go. */
  private slot(left: number, right: number): number {
    let h = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca6b)) >>> 0;
    h ^= h >>> 15;
    let i = (h & this.mask) * SLOT;
    const s = this.slots;
    while (s[i] !== EMPTY && (s[i] !== left || s[i + 1] !== right)) i = (i + SLOT) & (this.mask * SLOT + SLOT - 1);
    return i;
  }

  /** Adds the pair unless it is already there (the first occurrence of a merge keeps its rank). */
  addIfAbsent(left: number, right: number, rank: number, merged: number): void {
    const i = this.slot(left, right);
    const s = this.slots;
    if (s[i] !== EMPTY) return;
    if ((this.count + 1) * 2 > s.length / SLOT) throw new ModelInputError(`MergeTable: more than the ${s.length / SLOT / 2} merges it was sized for`);
    s[i] = left;
    s[i + 1] = right;
    s[i + 2] = rank;
    s[i + 3] = merged;
    this.count++;
  }

  /** The slot of the pair, or -1: read rankAt / mergedAt with it. */
  find(left: number, right: number): number {
    const i = this.slot(left, right);
    return this.slots[i] === EMPTY ? -1 : i;
  }

  rankAt(slot: number): number {
    return this.slots[slot + 2]!;
  }

  mergedAt(slot: number): number {
    return this.slots[slot + 3]!;
  }
}
