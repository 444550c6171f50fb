import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXPF_MAX, EXPF_MIN, expf, siluf } from "./expf";

const f = Math.fround;

describe("expf (Cephes' float32 e^x, the reference SiLU's exponential)", () => {
  it("gives hand-worked values exactly", () => {
    expect(expf(0)).toBe(1);
    expect(expf(-0)).toBe(1);
    // e and 1/e rounded to float32
    expect(expf(1)).toBe(f(Math.E));
    expect(expf(-1)).toBe(f(1 / Math.E));
    // ln 2 · k lands on powers of two
    expect(expf(f(Math.LN2 * 10))).toBeCloseTo(1024, 3);
  });

  it("is within 2·10⁻⁷ of Math.exp over the clamped range", () => {
    fc.assert(
      fc.property(fc.float({ min: EXPF_MIN, max: EXPF_MAX, noNaN: true }), (x) => {
        const want = Math.exp(x);
        expect(Math.abs(expf(x) - want) / want).toBeLessThan(2e-7);
      }),
      { numRuns: 5000 },
    );
  });

  it("returns float32 values and clamps outside [−87, 88] (NaN stays NaN)", () => {
    for (const x of [-1e30, -100, -87.5, 88.5, 1000, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3.3, -55.1]) {
      const y = expf(f(x));
      expect(y).toBe(f(y));
      expect(Number.isFinite(y)).toBe(true);
    }
    expect(expf(-1e30)).toBe(expf(EXPF_MIN));
    expect(expf(1e30)).toBe(expf(EXPF_MAX));
    expect(expf(Number.NaN)).toBeNaN();
  });

  it("SiLU from it is within 3 float32 ulps of x / (1 + Math.exp(−x))", () => {
    fc.assert(
      fc.property(fc.float({ min: -80, max: 80, noNaN: true }), (x) => {
        const want = f(x / (1 + Math.exp(-x)));
        const ulp = Math.max(Math.abs(want) * 2 ** -23, 2 ** -149);
        expect(Math.abs(siluf(x) - want)).toBeLessThanOrEqual(3 * ulp);
      }),
      { numRuns: 5000 },
    );
    expect(siluf(0)).toBe(0);
    expect(siluf(-200)).toBeLessThanOrEqual(0);
    expect(siluf(200)).toBe(200);
  });
});
