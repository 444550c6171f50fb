import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rankedIds, sampleToken, seededRandom } from "./sampling";

describe("sampling", () => {
  it("top-k ranks the same ids as sorting every id (logit descending, then id ascending), ties included", () => {
    fc.assert(
      fc.property(
        // few distinct values, so ties are common
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 0, max: 90 }),
        (values, topK) => {
          const l = Float64Array.from(values, (v) => v / 2);
          const sorted = Array.from(l.keys()).sort((a, b) => l[b]! - l[a]! || a - b);
          expect(rankedIds(l, topK)).toEqual(topK > 0 ? sorted.slice(0, topK) : sorted);
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
