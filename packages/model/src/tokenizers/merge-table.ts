/**
 * BPE merges keyed by the pair of token ids: (left, right) → (rank, merged id), in an open-addressing hash
 * table of typed arrays. A Map keyed by left·2^k + right would hash a heap-allocated double per lookup (the key
 * outgrows small integers for a 128 000-token vocabulary), and LLaMA-3 has 280 000 merges to load and look up
 * on every bigram of every word.
 */
import { ModelInputError } from "../model-input-error";

const EMPTY = -1;

export class MergeTable {
  private readonly mask: number;
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly merged: Int32Array;
  private count = 0;

  /** Room for `capacity` merges (the table keeps at most half full). */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.lefts = new Int32Array(size).fill(EMPTY);
    this.rights = new Int32Array(size);
    this.ranks = new Int32Array(size);
    this.merged = new Int32Array(size);
  }

  get size(): number {
    return this.count;
  }

  private slot(left: number, right: number): number {
    let h = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca6b)) >>> 0;
    h ^= h >>> 15;
    let i = h & this.mask;
    while (this.lefts[i] !== EMPTY && (this.lefts[i] !== left || this.rights[i] !== right)) i = (i + 1) & this.mask;
    return i;
  }

  /** Adds the pair unless it is already there (the first occurrence of a merge keeps its rank). */
  addIfAbsent(left: number, right: number, rank: number, merged: number): void {
    const i = this.slot(left, right);
    if (this.lefts[i] !== EMPTY) return;
    if ((this.count + 1) * 2 > this.lefts.length) throw new ModelInputError(`MergeTable: more than the ${this.lefts.length / 2} merges it was sized for`);
    this.lefts[i] = left;
    this.rights[i] = right;
    this.ranks[i] = rank;
    this.merged[i] = merged;
    this.count++;
  }

  /** The slot of the pair, or -1: read rankAt / mergedAt with it. */
  find(left: number, right: number): number {
    const i = this.slot(left, right);
    return this.lefts[i] === EMPTY ? -1 : i;
  }

  rankAt(slot: number): number {
    return this.ranks[slot]!;
  }

  mergedAt(slot: number): number {
    return this.merged[slot]!;
  }
}
