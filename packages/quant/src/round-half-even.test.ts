import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { roundHalfEven } from "./round-half-even";

describe("roundHalfEven", () => {
  it("rounds ties to the even neighbour (as torch.round)", () => {
    const cases: Array<[number, number]> = [
      [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, -0], [-1.5, -2], [-2.5, -2], [-3.5, -4],
      [126.5, 126], [127.5, 128], [-127.5, -128],
    ];
    for (const [v, want] of cases) expect(roundHalfEven(v)).toBe(want);
  });
  it("rounds non-ties to nearest", () => {
    expect(roundHalfEven(0.49999999999999994)).toBe(0);
    expect(roundHalfEven(2.5000000001)).toBe(3);
    expect(roundHalfEven(-2.4)).toBe(-2);
    expect(roundHalfEven(-2.6)).toBe(-3);
  });
  it("agrees with Math.round everywhere except exact odd ties", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (v) => {
        const r = roundHalfEven(v);
        expect(Math.abs(r - v)).toBeLessThanOrEqual(0.5);
        if (Math.abs(r - v) === 0.5) expect(Math.abs(r % 2)).toBe(0);
      }),
    );
  });
});
