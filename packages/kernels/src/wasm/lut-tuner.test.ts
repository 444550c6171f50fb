import { describe, expect, it } from "vitest";
import { LutTuner, type LutVariant } from "./lut-tuner";

const A: LutVariant = { tri5: true, maxWidth: 0 };
const B: LutVariant = { tri5: false, maxWidth: 0 };
const C: LutVariant = { tri5: true, maxWidth: 32 };

/** Run `calls` calls of `key` whose timings come from `ms(variant, call)`; the variants picked, in order. */
function drive(tuner: LutTuner, key: string, candidates: LutVariant[], calls: number, ms: (v: LutVariant, call: number) => number): LutVariant[] {
  const picked: LutVariant[] = [];
  for (let i = 0; i < calls; i++) {
    const p = tuner.pick(key, candidates);
    picked.push(p.variant);
    if (p.timed) tuner.record(p.slot, p.index, ms(p.variant, i));
  }
  return picked;
}

describe("LutTuner", () => {
  it("takes the candidates in turn, leaves each one's first call out, then keeps the fastest median", () => {
    const tuner = new LutTuner(3);
    // C is fastest except for its first call (as an unoptimised kernel would be) and one outlier
    const cost = (v: LutVariant, call: number) => (v === C ? (call === 2 ? 100 : call === 8 ? 50 : 4) : v === A ? 5 : 6);
    const picked = drive(tuner, "k", [A, B, C], 20, cost);
    // 3 uncounted + 9 counted calls in turn, then C only
    expect(picked.slice(0, 12)).toEqual([A, B, C, A, B, C, A, B, C, A, B, C]);
    expect(picked.slice(12).every((v) => v === C)).toBe(true);
    expect([...tuner.choices().values()]).toEqual([C]);
  });

  it("does not choose before every candidate has its samples, and keeps each shape apart", () => {
    const tuner = new LutTuner(2);
    drive(tuner, "x", [A, B], 5, (v) => (v === A ? 1 : 2));
    expect(tuner.choices().size).toBe(0);
    drive(tuner, "x", [A, B], 1, (v) => (v === A ? 1 : 2));
    expect([...tuner.choices().values()]).toEqual([A]);
    drive(tuner, "y", [A, B], 6, (v) => (v === A ? 3 : 2));
    expect([...tuner.choices().values()]).toEqual([A, B]);
    expect(tuner.pick("x", [A, B])).toMatchObject({ variant: A, timed: false });
  });

  it("never runs a choice made among other candidates: a shape with a forced part is tuned apart", () => {
    const tuner = new LutTuner(1);
    drive(tuner, "s", [A, B], 4, (v) => (v === A ? 1 : 2));
    expect(tuner.pick("s", [A, B]).variant).toBe(A);
    // t2 forced: A, chosen before among [A, B], is not among these and must not run
    expect(tuner.pick("s", [B]).variant).toBe(B);
    expect(tuner.pick("s", [C, B]).variant).toBe(C);
  });

  it("takes a lone candidate at once, untimed", () => {
    const tuner = new LutTuner();
    expect(tuner.pick("one", [B])).toMatchObject({ variant: B, timed: false, index: 0 });
    expect(() => tuner.pick("none", [])).toThrow(/no candidates for none/);
  });
});
