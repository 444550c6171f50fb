import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type SamplingOptions, sampleToken, seededRandom } from "./sampling";

/** The definition sampleToken keeps: every id sorted (logit descending, then id ascending), then top-k, top-p, a draw. */
function sortAllSample(logits: Float32Array, options: SamplingOptions, seen: number[], random: () => number): number {
  const l = Float64Array.from(options.vocabLimit !== undefined && options.vocabLimit < logits.length ? logits.subarray(0, options.vocabLimit) : logits);
  const penalty = options.repetitionPenalty ?? 1;
  if (penalty !== 1) for (const id of new Set(seen)) l[id] = l[id]! > 0 ? l[id]! / penalty : l[id]! * penalty;
  const temperature = options.temperature ?? 1;
  let order = Array.from(l.keys()).sort((a, b) => l[b]! - l[a]! || a - b);
  if (options.topK) order = order.slice(0, options.topK);
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

describe("sampling", () => {
  it("top-k picks the same token as sorting every id would (ties by id, penalties, top-p, vocabLimit)", () => {
    fc.assert(
      fc.property(
        // few distinct logits, so ties are common
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 70 }),
        fc.double({ min: 0.05, max: 2, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 10 }),
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        fc.integer({ min: 0, max: 1000 }),
        (values, topK, temperature, topP, repetitionPenalty, seen, vocabLimit, seed) => {
          const logits = Float32Array.from(values, (v) => v / 2);
          const options = { topK, temperature, topP, repetitionPenalty, vocabLimit };
          expect(sampleToken(logits, options, seen, seededRandom(seed))).toBe(sortAllSample(logits, options, seen, seededRandom(seed)));
        },
      ),
      { numRuns: 500 },
    );
  });
  it("greedy picks the argmax", () => {
    expect(sampleToken(Float32Array.of(0.1, 3, 2), { temperature: 0 }, [], seededRandom(1))).toBe(1);
  });
  it("top-k 1 equals greedy, and the repetition penalty lowers seen tokens", () => {
    const l = Float32Array.of(1, 2, 3, 2.9);
    expect(sampleToken(l, { topK: 1 }, [], seededRandom(3))).toBe(2);
    expect(sampleToken(l, { temperature: 0, repetitionPenalty: 2 }, [2], seededRandom(3))).toBe(3);
    // ids at or above vocabLimit are never drawn, whatever their logits
    for (let seed = 0; seed < 50; seed++) expect(sampleToken(Float32Array.of(0, 0.5, 9, 9), { vocabLimit: 2 }, [], seededRandom(seed))).toBeLessThan(2);
    expect(sampleToken(Float32Array.of(0, 0.5, 9, 9), { temperature: 0, vocabLimit: 2 }, [], seededRandom(0))).toBe(1);
  });
});
