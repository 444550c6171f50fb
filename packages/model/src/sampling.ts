/**
 * Token sampling: greedy (temperature 0), temperature, top-k, top-p (nucleus) and a repetition penalty (CTRL:
 * positive logits of already-seen tokens divided by the penalty, negative ones multiplied), with a seeded RNG so
 * that a seed reproduces a generation exactly.
 */
import { ModelInputError } from "./model-input-error";
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Sample only ids below this (a tokenizer with fewer tokens than the model's vocabulary); default: all. */
  vocabLimit?: number;
}

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function validateSampling(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new ModelInputError(`temperature: expected a number ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new ModelInputError(`topK: expected an integer ≥ 0 (0 = off), got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new ModelInputError(`topP: expected a number in (0, 1], got ${o.topP}`);
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0)) throw new ModelInputError(`repetitionPenalty: expected a number > 0, got ${o.repetitionPenalty}`);
  if (o.vocabLimit !== undefined && !(Number.isInteger(o.vocabLimit) && o.vocabLimit >= 1)) throw new ModelInputError(`vocabLimit: expected a positive integer, got ${o.vocabLimit}`);
}

/**
 * sampleToken's float64 copy of the logits, kept from call to call: a fresh 1 MB array each token cost ≈ 3.5 ms (its
 * pages' first touch on a 2-vCPU VM), the copy into a kept one 0.02 ms.
 */
let copy = new Float64Array(0);

export function sampleToken(logits: Float32Array, options: SamplingOptions, seen: Iterable<number>, random: () => number): number {
  const source = options.vocabLimit !== undefined && options.vocabLimit < logits.length ? logits.subarray(0, options.vocabLimit) : logits;
  if (copy.length < source.length) copy = new Float64Array(source.length);
  const l = copy.subarray(0, source.length);
  l.set(source);
  const penalty = options.repetitionPenalty ?? 1;
  if (penalty !== 1) for (const id of new Set(seen)) l[id] = l[id]! > 0 ? l[id]! / penalty : l[id]! * penalty;
  const temperature = options.temperature ?? 1;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
    return best;
  }
  // the candidates, logit descending then id ascending: with top-k the k best in one pass (sorting the whole
  // vocabulary took ≈ 70 ms a token for 128k logits)
  let order = rankedIds(l, options.topK ?? 0);
  const max = l[order[0]!]!;
  let probs = order.map((i) => Math.exp((l[i]! - max) / temperature));
  let z = probs.reduce((a, b) => a + b, 0);
  if (options.topP !== undefined && options.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < probs.length && cum < options.topP * z) cum += probs[keep++]!;
    order = order.slice(0, Math.max(1, keep));
    probs = probs.slice(0, Math.max(1, keep));
    z = probs.reduce((a, b) => a + b, 0);
  }
  let r = random() * z;
  for (let j = 0; j < order.length; j++) {
    r -= probs[j]!;
    if (r <= 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

/**
 * The ids of l by logit descending, then id ascending — the k first (topK > 0) or all. With top-k: one pass over l
 * keeping the k best seen in a heap whose root is the worst of them, then those k sorted.
 */
export function rankedIds(l: Float64Array, topK: number): number[] {
  if (!(topK > 0 && topK < l.length)) return Array.from(l.keys()).sort((a, b) => l[b]! - l[a]! || a - b);
  const k = topK;
  const heap = new Int32Array(k);
  // a ranks below b
  const below = (a: number, b: number) => l[a]! < l[b]! || (l[a] === l[b] && a > b);
  let n = 0;
  for (let id = 0; id < l.length; id++) {
    if (n < k) {
      // sift up
      let c = n++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!below(id, heap[parent]!)) break;
        heap[c] = heap[parent]!;
        c = parent;
      }
      heap[c] = id;
    } else if (below(heap[0]!, id)) {
      // replace the worst kept, sift down
      let c = 0;
      for (;;) {
        let child = 2 * c + 1;
        if (child >= k) break;
        if (child + 1 < k && below(heap[child + 1]!, heap[child]!)) child++;
        if (!below(heap[child]!, id)) break;
        heap[c] = heap[child]!;
        c = child;
      }
      heap[c] = id;
    }
  }
  return Array.from(heap.subarray(0, n)).sort((a, b) => l[b]! - l[a]! || a - b);
}
