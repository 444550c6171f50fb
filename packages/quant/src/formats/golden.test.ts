/**
 * Golden blocks for the published formats. Each expected byte is worked by hand from the reference code named
 * above it (read from llama.cpp's ggml/src/ggml-quants.c, bitnet.cpp's src/ggml-bitnet-mad.cpp and
 * transformers' src/transformers/integrations/bitnet.py), not from this package's code.
 */
import { describe, expect, it } from "vitest";
import { floatToHalf, halfToFloat } from "../fp16";
import { dequantizeI2S, packI2S, quantizeI2S, unpackI2S } from "./gguf-i2-s";
import { dequantizeTq1_0, quantizeTq1_0 } from "./gguf-tq1-0";
import { dequantizeTq2_0, lroundf, quantizeTq2_0 } from "./gguf-tq2-0";
import { hfScaleToMultiplier, packHf, unpackHf } from "./hf-packed";

/** A TQ block: x[0] = 1 (the absmax), x[1] = 0.5, x[2] = −0.5, the rest 0 — exercises lroundf's ties. */
function tieBlock(): Float32Array {
  const x = new Float32Array(256);
  x[0] = 1;
  x[1] = 0.5;
  x[2] = -0.5;
  return x;
}

describe("GGUF TQ2_0 (quantize_row_tq2_0_ref)", () => {
  it("rounds halves away from zero (lroundf), unlike the ternary quantizer", () => {
    expect(lroundf(0.5)).toBe(1);
    expect(lroundf(-0.5)).toBe(-1);
    expect(lroundf(2.5)).toBe(3);
    expect(lroundf(-1.4)).toBe(-1);
  });
  it("packs the tie block", () => {
    const b = quantizeTq2_0(tieBlock());
    expect(b.length).toBe(66);
    // qs[0]: elements 0,32,64,96 → codes+1 = 2,1,1,1 → 2 | 1<<2 | 1<<4 | 1<<6 = 86
    expect(b[0]).toBe(86);
    // qs[1]: element 1 = 0.5 → lroundf 1 → 2 → 86 as well
    expect(b[1]).toBe(86);
    // qs[2]: element 2 = −0.5 → −1 → 0 → 0 | 4 | 16 | 64 = 84
    expect(b[2]).toBe(84);
    for (let i = 3; i < 64; i++) expect(b[i]).toBe(0x55); // four zero weights
    expect([b[64], b[65]]).toEqual([0x00, 0x3c]); // d = fp16(1.0) = 0x3C00, little endian
  });
  it("places element 128c + 32j + m in byte 32c + m at bits 2j", () => {
    // x[e] = ((e mod 3) − 1)·0.5, so code+1 = e mod 3 and d = 0.5 (fp16 0x3800)
    const x = Float32Array.from({ length: 256 }, (_, e) => ((e % 3) - 1) * 0.5);
    const b = quantizeTq2_0(x);
    expect(b[0]).toBe(0x18); // e = 0,32,64,96 → 0,2,1,0 → 2<<2 | 1<<4 = 24
    expect(b[1]).toBe(0x61); // e = 1,33,65,97 → 1,0,2,1 → 1 | 2<<4 | 1<<6 = 97
    expect(b[32]).toBe(0x86); // e = 128,160,192,224 → 2,1,0,2 → 2 | 1<<2 | 2<<6 = 134
    expect([b[64], b[65]]).toEqual([0x00, 0x38]);
    expect([...dequantizeTq2_0(b, 256)]).toEqual([...x]);
  });
});

describe("GGUF TQ1_0 (quantize_row_tq1_0_ref)", () => {
  it("packs the tie block into base-3 fixed-point bytes", () => {
    const b = quantizeTq1_0(tieBlock());
    expect(b.length).toBe(54);
    // qs[0]: trits 2,1,1,1,1 → q = 2·81+27+9+3+1 = 202 → (202·256 + 242)/243 = 213
    expect(b[0]).toBe(213);
    expect(b[1]).toBe(213); // element 1 rounds (lroundf) to +1 as well
    // qs[2]: trits 0,1,1,1,1 → q = 40 → (40·256 + 242)/243 = 43
    expect(b[2]).toBe(43);
    // every other qs byte: five zero weights → q = 121 → (121·256 + 242)/243 = 128
    for (let i = 3; i < 48; i++) expect(b[i]).toBe(128);
    // qh: four zero weights then ×3 → q = 120 → (120·256 + 242)/243 = 127
    for (let i = 48; i < 52; i++) expect(b[i]).toBe(127);
    expect([b[52], b[53]]).toEqual([0x00, 0x3c]);
  });
  it("decodes with dequantize_row_tq1_0's multiply-and-shift", () => {
    const y = dequantizeTq1_0(quantizeTq1_0(tieBlock()), 256);
    expect([y[0], y[1], y[2], y[3], y[255]]).toEqual([1, 1, -1, 0, 0]);
  });
});

describe("GGUF I2_S (bitnet.cpp x86)", () => {
  it("packs 128 weights in 32 bytes, element j at bits 6-7, 32+j at 4-5, 64+j at 2-3, 96+j at 0-1, f32 tail", () => {
    const codes = Int8Array.from({ length: 128 }, (_, e) => (e % 3) - 1);
    const b = packI2S(codes, 0.5);
    expect(b.length).toBe(32 + 32);
    expect(b[0]).toBe(36); // e = 0,32,64,96 → 0,2,1,0 → 0<<6 | 2<<4 | 1<<2 | 0 = 36
    expect(b[1]).toBe(73); // e = 1,33,65,97 → 1,0,2,1 → 64 | 8 | 1 = 73
    expect([...b.subarray(32, 36)]).toEqual([0x00, 0x00, 0x00, 0x3f]); // 0.5f little endian
    expect([...b.subarray(36)]).toEqual(new Array(28).fill(0));
    expect([...unpackI2S(b, 128).codes]).toEqual([...codes]);
  });
  it("quantizes already-ternary weights with scale = max|w| and a 1e-6 zero threshold", () => {
    const w = Float32Array.from({ length: 128 }, (_, e) => ((e % 3) - 1) * 0.25);
    w[5] = 5e-7; // below the threshold: zero
    const y = dequantizeI2S(quantizeI2S(w), 128);
    expect(y[0]).toBe(-0.25);
    expect(y[2]).toBe(0.25);
    expect(y[5]).toBe(0);
  });
});

describe("Hugging Face packed [out/4, in]", () => {
  it("unpacks the example in transformers' unpack_weights docstring", () => {
    const packed = new Uint8Array([0b10100001, 0b00011000, 0b10010000, 0b00001010]);
    const expected = [0, -1, -1, 1, -1, 1, -1, 1, 1, 0, 0, -1, 1, -1, 1, -1];
    expect([...unpackHf(packed, 8, 2)]).toEqual(expected);
    expect([...packHf(expected, 8, 2)]).toEqual([...packed]);
  });
  it("treats weight_scale as a divisor (BitLinear: y = W̃x_q / (weight_scale · input_scale))", () => {
    // w = γ·W̃ with γ = 0.02; the checkpoint stores weight_scale = 1/γ = 50
    const gamma = 0.02;
    const codes = [1, 0, -1, 1];
    const x = [0.3, -0.7, 0.2, 0.9];
    const exact = codes.reduce((s, c, i) => s + c * gamma * x[i]!, 0);
    const inputScale = 127 / 0.9;
    const xq = x.map((v) => Math.round(v * inputScale));
    const hfOut = codes.reduce((s, c, i) => s + c * xq[i]!, 0) / (50 * inputScale);
    expect(hfOut).toBeCloseTo(exact, 3);
    expect(hfScaleToMultiplier(50)).toBe(Math.fround(gamma));
  });
});

describe("fp16 (GGML_FP32_TO_FP16, round to nearest even)", () => {
  it("converts known values", () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [0.5, 0x3800], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [1 / 3, 0x3555],
      [6.103515625e-5, 0x0400], [2 ** -24, 0x0001], [2049, 0x6800], [2051, 0x6802], [0, 0], [-0, 0x8000],
    ];
    for (const [v, h] of cases) expect(floatToHalf(v)).toBe(h);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5);
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });
});
