// Hand-worked vectors for every quantizer of the three papers (arXiv 2310.11453, 2402.17764, 2411.04965): each expected value is computed in the comment beside it.
import { describe, expect, it } from "vitest";
import { quantizeBinary } from "./binary-sign";
import { quantizeAbsmaxBitnet, quantizeNonNegativeBitnet } from "./bitnet-absmax";
import { fp4Decode, fp4Encode, fp4PaperFormula, quantizeFp4 } from "./fp4-e2m1";
import { quantizeInt4, quantizeInt8 } from "./int-absmax";
import { dequantize } from "./quantized-tensor";
import { quantizeTernary } from "./ternary-absmean";
import { quantizeTopKInt8, sparsifyTopK, topKMask } from "./top-k";
import { quantizeUnsigned } from "./unsigned-absmax";

const f = Math.fround;

describe("ternary absmean (b1.58)", () => {
  it("rounds ties to even: γ = mean|w| = 1 so w·s is exactly ±0.5 and ±1.5", () => {
    const q = quantizeTernary([0.5, -0.5, 1.5, -1.5], [1, 4]);
    expect([...q.codes]).toEqual([0, 0, 1, -1]); // 0.5→0, −0.5→0, 1.5→2→clip 1, −1.5→−2→clip −1
    expect(q.scales[0]).toBe(1);
  });
  it("works a general case", () => {
    // mean|w| = (0.5+1.5+0.25+0)/4 = 0.5625; w/γ = [0.889, −2.667, 0.444, 0] → [1, −1, 0, 0]
    const q = quantizeTernary([0.5, -1.5, 0.25, 0], [1, 4]);
    expect([...q.codes]).toEqual([1, -1, 0, 0]);
    expect(q.scales[0]).toBeCloseTo(0.5625, 6);
    expect([...dequantize(q)].map((v) => +v.toFixed(4))).toEqual([0.5625, -0.5625, 0, 0]);
  });
  it("handles an all-zero row (clamp floor 1e-5), a single element and −0", () => {
    const q = quantizeTernary([0, -0, 2, -2], [2, 2], { granularity: "row" });
    expect([...q.codes]).toEqual([0, 0, 1, -1]);
    expect(q.scales[0]).toBe(f(1 / f(1 / f(1e-5))));
    const d = dequantize(q);
    expect(Object.is(d[1], -0)).toBe(false);
    expect([...quantizeTernary([3], [1, 1]).codes]).toEqual([1]);
    expect(quantizeTernary([3], [1, 1]).scales[0]).toBe(3);
  });
  it("handles huge and tiny magnitudes", () => {
    expect([...quantizeTernary([3e38, -3e38, 1e30], [1, 3]).codes]).toEqual([1, -1, 0]);
    // tiny: γ = 1e-30 is floored to 1e-5, so everything rounds to 0 (the reference code's behaviour)
    expect([...quantizeTernary([1e-30, -1e-30], [1, 2]).codes]).toEqual([0, 0]);
  });
  it("paper form: W/(γ+ε) with dequantization γ·W̃", () => {
    const q = quantizeTernary([0.5, -1.5, 0.25, 0], [1, 4], { epsMode: "add" });
    expect([...q.codes]).toEqual([1, -1, 0, 0]);
    expect(q.scales[0]).toBe(f(0.5625));
  });
});

describe("binary sign (BitNet)", () => {
  it("centres by α = mean(W) and scales by β = mean|W|; Sign(0) = −1", () => {
    // α = 3: 1−3 < 0, 2−3 < 0, 3−3 = 0 → −1, 6−3 > 0; β = 3
    const q = quantizeBinary([1, 2, 3, 6], [1, 4]);
    expect([...q.codes]).toEqual([-1, -1, -1, 1]);
    expect(q.alphas[0]).toBe(3);
    expect(q.scales[0]).toBe(3);
  });
  it("computes α and β per group from that group alone", () => {
    const q = quantizeBinary([1, 3, 10, 30], [1, 4], { granularity: { groups: 2, axis: "cols" } });
    expect([...q.alphas]).toEqual([2, 20]);
    expect([...q.scales]).toEqual([2, 20]);
    expect([...q.codes]).toEqual([-1, 1, -1, 1]);
  });
});

describe("INT8 absmax", () => {
  it("reference form: s = 127/γ, round half to even (−63.5 → −64)", () => {
    // γ = 4, s = 31.75: [31.75, −63.5, 15.875, 127] → [32, −64, 16, 127]
    const q = quantizeInt8([1, -2, 0.5, 4], [1, 4]);
    expect([...q.codes]).toEqual([32, -64, 16, 127]);
    expect(q.scales[0]).toBe(f(1 / 31.75));
  });
  it("paper form: 127·x/(γ+ε), dequantized by γ/127", () => {
    // s = 127/(4 + 1e-5) = 31.7499…: −63.4998 → −63 (no tie any more)
    const q = quantizeInt8([1, -2, 0.5, 4], [1, 4], { epsMode: "add" });
    expect([...q.codes]).toEqual([32, -63, 16, 127]);
    expect(q.scales[0]).toBe(f(4 / 127));
  });
  it("quantizes per token and leaves an all-zero token at zero", () => {
    const q = quantizeInt8([0, 0, 1, -1], [2, 2]);
    expect([...q.codes]).toEqual([0, 0, 127, -127]);
    expect(q.scales.length).toBe(2);
  });
});

describe("INT4 absmean (a4.8)", () => {
  it("uses β = mean|x| and √7", () => {
    // β = 1.5, s = √7/1.5 = 1.7638: [1.76, −1.76, 3.53, −3.53] → [2, −2, 4, −4]
    const q = quantizeInt4([1, -1, 2, -2], [1, 4]);
    expect([...q.codes]).toEqual([2, -2, 4, -4]);
    expect(q.scales[0]).toBeCloseTo(1.5 / Math.sqrt(7), 6);
  });
  it("clips to [−8, 7]", () => {
    // β = 2.5, s = 1.058: 10·s = 10.58 → 11 → 7; −10 → −11 → −8
    expect([...quantizeInt4([10, 0, 0, 0, -10, 0, 0, 0], [2, 4]).codes]).toEqual([7, 0, 0, 0, -8, 0, 0, 0]);
  });
  it("supports β = 2·mean|x| (betaScale)", () => {
    const q = quantizeInt4([1, -1, 2, -2], [1, 4], { betaScale: 2 });
    expect([...q.codes]).toEqual([1, -1, 2, -2]); // s = √7/3 = 0.882: [0.88, −0.88, 1.76, −1.76]
  });
});

describe("BitNet absmax and non-negative b-bit", () => {
  it("absmax: x·Qb/γ clipped to [−Qb+ε, Qb−ε]; codes clamp to [−Qb, Qb−1]", () => {
    // Qb = 128, γ = 4, ×32: [32, −64, 16, 128 → 128 − ε]
    const q = quantizeAbsmaxBitnet([1, -2, 0.5, 4], [1, 4]);
    expect(q.values[0]).toBe(32);
    expect(q.values[3]).toBe(f(128 - 1e-5));
    expect([...q.codes]).toEqual([32, -64, 16, 127]);
    expect(q.scales[0]).toBe(f(4 / 128));
  });
  it("non-negative: (x − η)·Qb/γ clipped to [ε, Qb−ε], offset η", () => {
    const q = quantizeNonNegativeBitnet([0, 1, 2, 4], [1, 4]);
    expect(q.values[0]).toBe(f(1e-5));
    expect([...q.codes]).toEqual([0, 32, 64, 128]);
    expect(q.offsets![0]).toBe(0);
    const shifted = quantizeNonNegativeBitnet([-1, 0, 1, 3], [1, 4], { bits: 4 });
    // η = −1, γ = 3, Qb = 8: (x+1)·8/3 = [0, 2.67, 5.33, 10.67 → 8 − ε]
    expect([...shifted.codes]).toEqual([0, 3, 5, 8]);
  });
});

describe("FP4 E2M1 MinMax (a4.8)", () => {
  it("maps max|x| to 6 (doubled: 12) and rounds on the E2M1 grid", () => {
    // max = 12 so x' = x: 12→12; 5→step 2: 2.5→2→4; 7.9→3.95→4→8; −3.5→step 1→−4 (tie to even);
    // 0.5→0 (tie to even); 1.5→2; 0.25→0
    const q = quantizeFp4([12, 5, 7.9, -3.5, 0.5, 1.5, 0.25], [1, 7]);
    expect([...q.codes]).toEqual([12, 4, 8, -4, 0, 2, 0]);
    expect(q.scales[0]).toBe(1);
  });
  it("agrees with the paper's formula when b is an integer (max|x| = 1.5 → b = 3)", () => {
    const x = [1.5, 0.7, -0.33, 0.05, -1.2, 0.9, 0.26];
    const ours = dequantize(quantizeFp4(x, [1, x.length]));
    const paper = fp4PaperFormula(x);
    for (let i = 0; i < x.length; i++) expect(ours[i]).toBeCloseTo(paper[i]!, 6);
  });
  it("documents where the typeset formula leaves the E2M1 grid (non-integer b)", () => {
    // max = 1 → b = log2(1.5) + 3; 0.9 → x' = 10.8: grid value 12 (= 6·max/6), typeset formula 10
    expect(dequantize(quantizeFp4([1, 0.9], [1, 2]))[1]).toBeCloseTo(1, 6);
    expect(fp4PaperFormula([1, 0.9])[1]).toBeCloseTo(10 / 12, 6);
  });
  it("encodes the E2M1 bit patterns", () => {
    expect(fp4Encode(12)).toBe(0b0111);
    expect(fp4Encode(-1)).toBe(0b1001);
    expect(fp4Encode(0)).toBe(0);
    expect(fp4Decode(0b1110)).toBe(-8);
    expect(() => fp4Encode(5)).toThrow(/5 is not twice an E2M1 value/);
  });
});

describe("Top-K sparsify then INT8 (a4.8)", () => {
  it("keeps the K = 50% largest |x| per token, lower index first on ties", () => {
    expect([...topKMask([0.1, -3, 2, 2, -0.5, 1], [1, 6])]).toEqual([0, 1, 1, 1, 0, 0]);
    expect([...topKMask([1, -1, 1, -1], [1, 4])]).toEqual([1, 1, 0, 0]);
    expect([...sparsifyTopK([4, 1, -3, 2], [1, 4], 0.5)]).toEqual([4, 0, -3, 0]);
  });
  it("with G groups keeps the top K of each group alone (a shard ranks only its own features)", () => {
    // whole row: the four largest are all in the first half; per group of 4: the two largest of each half
    const x = [9, 8, 7, 6, 0.4, 0.3, 0.2, 0.1];
    expect([...topKMask(x, [1, 8])]).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect([...topKMask(x, [1, 8], 0.5, 2)]).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    const q = quantizeTopKInt8(x, [1, 8], { granularity: { groups: 2, axis: "row-cols" } });
    expect([...q.mask]).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect([...q.codes]).toEqual([127, 113, 0, 0, 127, 95, 0, 0]); // per group: 8·127/9 = 112.9, 0.3·127/0.4 = 95.25
    expect(() => topKMask(x, [1, 8], 0.5, 3)).toThrow("topKMask groups: 3 does not divide 8 features");
  });
  it("quantizes the kept entries with INT8 absmax", () => {
    const q = quantizeTopKInt8([4, 1, -3, 2], [1, 4]);
    expect([...q.codes]).toEqual([127, 0, -95, 0]); // −3·127/4 = −95.25 → −95
    expect([...q.mask]).toEqual([1, 0, 1, 0]);
  });
});

describe("unsigned b-bit for KV heads", () => {
  it("maps [min, max] onto [0, 2^b − 1] per region", () => {
    const q4 = quantizeUnsigned([-1, 0, 1, 2], [1, 4], { bits: 4 });
    expect([...q4.codes]).toEqual([0, 5, 10, 15]); // scale 3/15 = 0.2
    expect(q4.offsets![0]).toBe(-1);
    const q3 = quantizeUnsigned([-1, 0, 1, 2], [1, 4], { bits: 3 });
    expect([...q3.codes]).toEqual([0, 2, 5, 7]); // (x+1)·7/3 = [0, 2.33, 4.67, 7]
  });
  it("quantizes each head of each token alone", () => {
    const q = quantizeUnsigned([0, 1, 100, 200], [1, 4], { bits: 4, granularity: { groups: 2, axis: "row-cols" } });
    expect([...q.codes]).toEqual([0, 15, 0, 15]);
    expect([...q.offsets!]).toEqual([0, 100]);
  });
});

describe("bad input", () => {
  it("names the argument and the expected value", () => {
    expect(() => quantizeTernary([1, 2, 3], [2, 2])).toThrow("quantizeTernary weights: has 3 elements, expected 4");
    expect(() => quantizeInt8([1, Number.NaN], [1, 2])).toThrow("quantizeInt8 input: element 1 is NaN; expected a finite number");
    expect(() => quantizeInt4([1, Number.POSITIVE_INFINITY], [1, 2])).toThrow(/element 1 is Infinity/);
    expect(() => quantizeTernary([1, 2], [1, 2], { granularity: { groups: 0, axis: "cols" } })).toThrow(
      "quantizeTernary granularity.groups: expected a positive integer, got 0",
    );
    expect(() => quantizeTernary([1, 2, 3, 4], [1, 4], { granularity: { groups: 3, axis: "cols" } })).toThrow(
      "quantizeTernary granularity.groups: 3 does not divide the column count 4; expected a divisor of 4",
    );
    expect(() => quantizeInt8([1], [0, 1])).toThrow(/shape must be two positive integers/);
    expect(() => quantizeUnsigned([1], [1, 1], { bits: 5 as 4 })).toThrow("quantizeUnsigned bits: expected one of 3, 4, 8, got 5");
    expect(() => topKMask([1, 2], [1, 2], 0)).toThrow(/fraction: expected a number in \(0, 1\]/);
  });
});
