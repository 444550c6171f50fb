/**
 * Byte-level BPE (GPT-2 style): text is split into words by a pre-tokenizer regex, each word's UTF-8 bytes are the
 * initial symbols, and learned merges join the most frequent adjacent pairs. Every byte has a token, so any text
 * encodes and decodes losslessly. Ids: 0 <pad>, 1 <bos>, 2 <eos>, 3..258 the bytes, then merges in rank order.
 */
import { ModelInputError } from "./model-input-error";
const PRETOKENIZE = /'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
export const SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>"] as const;
const BYTE_BASE = SPECIAL_TOKENS.length;

export interface BpeTokenizerJson {
  type: "onebit-bpe";
  version: 1;
  special: readonly string[];
  /** Merge i creates token id BYTE_BASE + 256 + i from the pair [a, b]. */
  merges: Array<[number, number]>;
}

export class BpeTokenizer {
  readonly vocabSize: number;
  readonly bosId = 1;
  readonly eosId = 2;
  readonly padId = 0;
  private readonly rank = new Map<number, number>(); // pair key → merge index
  private readonly bytesOf: Uint8Array[] = [];
  private readonly cache = new Map<string, number[]>();

  constructor(readonly merges: Array<[number, number]>) {
    for (let i = 0; i < BYTE_BASE; i++) this.bytesOf.push(new Uint8Array(0));
    for (let b = 0; b < 256; b++) this.bytesOf.push(Uint8Array.of(b));
    merges.forEach(([a, b], i) => {
      const id = BYTE_BASE + 256 + i;
      if (!(a < id && b < id && a >= BYTE_BASE && b >= BYTE_BASE)) throw new ModelInputError(`tokenizer merges[${i}]: [${a}, ${b}] refers to a token that does not exist yet`);
      this.rank.set(a * 1048576 + b, i);
      const bytes = new Uint8Array(this.bytesOf[a]!.length + this.bytesOf[b]!.length);
      bytes.set(this.bytesOf[a]!);
      bytes.set(this.bytesOf[b]!, this.bytesOf[a]!.length);
      this.bytesOf.push(bytes);
    });
    this.vocabSize = BYTE_BASE + 256 + merges.length;
  }

  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let ids = Array.from(new TextEncoder().encode(word), (b) => BYTE_BASE + b);
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(ids[i]! * 1048576 + ids[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const merged = BYTE_BASE + 256 + bestRank;
      const [a, b] = this.merges[bestRank]!;
      const next: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(ids[i]!);
      }
      ids = next;
    }
    if (this.cache.size < 100_000) this.cache.set(word, ids);
    return ids;
  }

  encode(text: string, options: { bos?: boolean; eos?: boolean } = {}): number[] {
    const out: number[] = options.bos ? [this.bosId] : [];
    for (const m of text.matchAll(PRETOKENIZE)) out.push(...this.encodeWord(m[0]));
    if (options.eos) out.push(this.eosId);
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new ModelInputError(`decode ids[${i}]: ${id} is not a token id in [0, ${this.vocabSize})`);
      parts.push(this.bytesOf[id]!);
      n += this.bytesOf[id]!.length;
    }
    const all = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder().decode(all);
  }

  /** The text of one token (special tokens by name), for display. */
  tokenText(id: number): string {
    return id < BYTE_BASE ? SPECIAL_TOKENS[id]! : this.decode([id]);
  }

  toJSON(): BpeTokenizerJson {
    return { type: "onebit-bpe", version: 1, special: SPECIAL_TOKENS, merges: this.merges };
  }

  static fromJSON(json: unknown, source = "tokenizer.json"): BpeTokenizer {
    const j = json as Partial<BpeTokenizerJson>;
    if (!j || j.type !== "onebit-bpe" || j.version !== 1 || !Array.isArray(j.merges))
      throw new ModelInputError(`${source}: not an onebit BPE tokenizer (expected {type: "onebit-bpe", version: 1, merges: [...]})`);
    // the constructor trusts its merges; a file's must be checked here, naming the file (fuzzing found a TypeError
    // for `merges: [0]` and file-less messages for ids that are not integers)
    j.merges.forEach((m: unknown, i) => {
      if (!Array.isArray(m) || m.length !== 2 || !m.every((id) => Number.isInteger(id) && id >= BYTE_BASE && id < BYTE_BASE + 256 + i))
        throw new ModelInputError(`${source}: merges[${i}]: expected a pair of existing token ids in [${BYTE_BASE}, ${BYTE_BASE + 256 + i}), got ${JSON.stringify(m)?.slice(0, 60)}`);
    });
    return new BpeTokenizer(j.merges as Array<[number, number]>);
  }
}

/**
 * Learn merges until the vocabulary reaches `vocabSize` (≥ 259) or no pair occurs twice. Word frequencies are
 * counted once, so training cost grows with the number of distinct words, not the corpus size.
 */
export function trainBpeTokenizer(text: string, options: { vocabSize: number; onProgress?: (merges: number, target: number) => void }): BpeTokenizer {
  const { vocabSize } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < BYTE_BASE + 256) throw new ModelInputError(`vocabSize: expected an integer ≥ ${BYTE_BASE + 256}, got ${vocabSize}`);
  const counts = new Map<string, number>();
  for (const m of text.matchAll(PRETOKENIZE)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of counts) {
    words.push(Array.from(new TextEncoder().encode(w), (b) => BYTE_BASE + b));
    freq.push(c);
  }
  const merges: Array<[number, number]> = [];
  const target = vocabSize - BYTE_BASE - 256;
  while (merges.length < target) {
    const pairs = new Map<number, number>();
    for (let w = 0; w < words.length; w++) {
      const ids = words[w]!;
      for (let i = 0; i + 1 < ids.length; i++) {
        const key = ids[i]! * 1048576 + ids[i + 1]!;
        pairs.set(key, (pairs.get(key) ?? 0) + freq[w]!);
      }
    }
    let bestKey = -1;
    let bestCount = 1;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && bestKey >= 0 && k < bestKey)) [bestKey, bestCount] = [k, c];
    if (bestKey < 0) break;
    const a = Math.floor(bestKey / 1048576);
    const b = bestKey % 1048576;
    const id = BYTE_BASE + 256 + merges.length;
    merges.push([a, b]);
    for (let w = 0; w < words.length; w++) {
      const ids = words[w]!;
      if (ids.length < 2) continue;
      let j = 0;
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          ids[j++] = id;
          i++;
        } else ids[j++] = ids[i]!;
      }
      ids.length = j;
    }
    options.onProgress?.(merges.length, target);
  }
  return new BpeTokenizer(merges);
}
