/**
 * Byte-pair merging of one pre-token, as llama.cpp's llm_tokenizer_bpe_session::tokenize does it
 * (src/llama-vocab.cpp): the word's characters (byte-level characters, one per UTF-8 byte) start as symbols;
 * while some adjacent pair is a merge, the pair with the lowest rank merges, the leftmost one first among equal
 * ranks (a priority queue of bigrams keyed by (rank, left position); a popped bigram whose symbols have
 * changed since it was queued is skipped). llama.cpp keys merges by the two strings and looks the final
 * strings up as tokens; token strings are unique, so keying by the two token ids and storing the merged token's
 * id (merge-table.ts) does the same.
 *
 * With ignoreMerges (llama.cpp's ignore_merges, HF tokenizers' "ignore_merges": true), a word that is itself a
 * token is that token, merges or not.
 *
 * Words repeat (" the", "\n"), so each word's ids are cached.
 */

import type { MergeTable } from "./merge-table";
import { ModelInputError } from "../model-input-error";

interface Bigram {
  rank: number;
  /** Symbol positions. */
  left: number;
  right: number;
  /** The ids the symbols had when queued, and the id they merge into. */
  leftId: number;
  rightId: number;
  merged: number;
}

const before = (a: Bigram, b: Bigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

/** A binary min-heap of bigrams by (rank, left). */
class BigramQueue {
  private readonly heap: Bigram[] = [];
  get size() {
    return this.heap.length;
  }
  push(b: Bigram) {
    const h = this.heap;
    h.push(b);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): Bigram {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const CACHE_LIMIT = 100_000;
const GONE = -1;

export class BpeWordEncoder {
  private readonly cache = new Map<string, readonly number[]>();

  /**
   * @param tokenToId every token's id (for ignoreMerges).
   * @param charToId the id of each byte-level character's token.
   * @param merges (left id, right id) → rank and merged id.
   * @param describe names the vocabulary in errors ("model.gguf: tokenizer.ggml.tokens").
   */
  constructor(
    private readonly tokenToId: { get(text: string): number | undefined },
    private readonly charToId: ReadonlyMap<string, number>,
    private readonly merges: MergeTable,
    private readonly ignoreMerges: boolean,
    private readonly describe: string,
  ) {}

  /** Append the ids of `word` (byte-level characters) to `out`. */
  encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.merge(word);
      if (this.cache.size < CACHE_LIMIT) this.cache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  private merge(word: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.tokenToId.get(word);
      if (whole !== undefined) return [whole];
    }
    // byte-level characters are all in the Basic Multilingual Plane: one UTF-16 unit each
    const n = word.length;
    const sym: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = this.charToId.get(word[i]!);
      // llama.cpp would silently drop a symbol it cannot find as a token
      if (id === undefined) throw new ModelInputError(`${this.describe}: the byte character ${JSON.stringify(word[i])} (in ${JSON.stringify(word)}) is not a token`);
      sym[i] = id;
    }
    if (n < 2) return sym;
    const prev = Array.from({ length: n }, (_, i) => i - 1);
    const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const queue = new BigramQueue();
    const addBigram = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const slot = this.merges.find(sym[left]!, sym[right]!);
      if (slot >= 0) queue.push({ rank: this.merges.rankAt(slot), left, right, leftId: sym[left]!, rightId: sym[right]!, merged: this.merges.mergedAt(slot) });
    };
    for (let i = 1; i < n; i++) addBigram(i - 1, i);

    while (queue.size > 0) {
      const b = queue.pop();
      if (sym[b.left] !== b.leftId || sym[b.right] !== b.rightId || next[b.left] !== b.right) continue; // outdated
      sym[b.left] = b.merged;
      sym[b.right] = GONE;
      next[b.left] = next[b.right]!;
      if (next[b.right]! >= 0) prev[next[b.right]!] = b.left;
      addBigram(prev[b.left]!, b.left);
      addBigram(b.left, next[b.left]!);
    }

    const ids: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) ids.push(sym[i]!);
    return ids;
  }
}
