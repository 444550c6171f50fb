import { describe, expect, it } from "vitest";
import { sampleToken, seededRandom } from "./sampling";

describe("sampling", () => {
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
