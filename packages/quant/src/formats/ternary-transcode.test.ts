import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { floatToHalf } from "../fp16";
import { packI2S, unpackI2S } from "./gguf-i2-s";
import { packTq2_0, unpackTq2_0 } from "./gguf-tq2-0";
import { packTernaryT2 } from "./onebit-t2";
import { i2sToT2, t2ToI2s, t2ToTq2, tq2ToT2 } from "./ternary-transcode";
import { codesFor } from "./test-ternary-codes";

const shapes = fc.record({ rows: fc.integer({ min: 1, max: 5 }), blocks: fc.integer({ min: 1, max: 3 }), seed: fc.integer() });

describe("ternary transcoding equals the generic unpack → pack path", () => {
  it("I2_S ↔ onebit-t2", () => {
    fc.assert(
      fc.property(shapes, ({ rows, blocks, seed }) => {
        const cols = 128 * blocks;
        const codes = codesFor(rows * cols, seed);
        const i2s = packI2S(codes, 0.75);
        const { data, scale } = i2sToT2(i2s, rows, cols);
        expect(data).toEqual(packTernaryT2(codes, rows, cols));
        expect(scale).toBe(0.75);
        expect(t2ToI2s(data, rows, cols, 0.75)).toEqual(i2s);
        expect(unpackI2S(t2ToI2s(data, rows, cols, 0.75), rows * cols).codes).toEqual(codes);
      }),
    );
  });
  it("TQ2_0 ↔ onebit-t2, with each block's scale and whether it holds a non-zero code", () => {
    fc.assert(
      fc.property(shapes, ({ rows, blocks, seed }) => {
        const cols = 256 * blocks;
        const codes = codesFor(rows * cols, seed);
        codes.fill(0, 0, 256); // an all-zero first block
        const nb = (rows * cols) / 256;
        const tq = packTq2_0(codes, new Float32Array(nb).fill(0.5));
        const r = tq2ToT2(tq, rows, cols);
        expect(r.data).toEqual(packTernaryT2(codes, rows, cols));
        expect([...r.blockScales]).toEqual(new Array(nb).fill(0.5));
        expect(r.blockNonZero[0]).toBe(0);
        expect(t2ToTq2(r.data, rows, cols, floatToHalf(0.5))).toEqual(tq);
        expect(unpackTq2_0(t2ToTq2(r.data, rows, cols, floatToHalf(0.5)), rows * cols).codes).toEqual(codes);
      }),
    );
  });
  it("refuses code 3 and wrong sizes, naming the byte", () => {
    const bad = packI2S(new Int8Array(128), 1);
    bad[5] = 0xff;
    expect(() => i2sToT2(bad, 1, 128)).toThrow("I2_S: invalid code 3 in byte 5");
    expect(() => i2sToT2(bad, 1, 96)).toThrow(/rows must be a positive multiple of 128/);
    expect(() => tq2ToT2(new Uint8Array(65), 1, 256)).toThrow(/has 65 bytes, expected 66/);
  });
});
