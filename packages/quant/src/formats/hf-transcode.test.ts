import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packHf, unpackHf } from "./hf-packed";
import { hfToT2, t2ToHf } from "./hf-transcode";
import { packTernaryT2, unpackTernaryT2 } from "./onebit-t2";
import { codesFor } from "./test-ternary-codes";


describe("onebit-t2 ↔ HF packed equals the generic unpack → pack path", () => {
  it("any shape: rows not a multiple of 4, columns not a multiple of 64", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 200 }), fc.integer(), (rows, cols, seed) => {
        const codes = codesFor(rows * cols, seed);
        const t2 = packTernaryT2(codes, rows, cols);
        const hf = packHf(codes, rows, cols);
        expect(Buffer.compare(t2ToHf(t2, rows, cols), hf)).toBe(0);
        expect(Buffer.compare(hfToT2(hf, rows, cols), t2)).toBe(0);
        expect(unpackHf(t2ToHf(t2, rows, cols), rows, cols)).toEqual(unpackTernaryT2(t2, rows, cols));
      }),
    );
  });

  it("refuses code 3 where a weight is, naming its row and column, and wrong sizes", () => {
    const rows = 6;
    const cols = 70;
    const codes = codesFor(rows * cols, 5);
    const t2 = packTernaryT2(codes, rows, cols);
    const bad = t2.slice();
    bad[t2.length / rows + 16 + 3]! |= 0b11 << 2; // row 1, block 1, byte 3, field 1: column 64 + 16 + 3 (past 70: padding)
    expect(() => t2ToHf(bad, rows, cols)).not.toThrow(); // a padding column's field is not a weight
    bad[t2.length / rows + 3]! |= 0b11 << 4; // row 1, block 0, byte 3, field 2: column 35
    expect(() => t2ToHf(bad, rows, cols)).toThrow("t2ToHf data: invalid code 3 at row 1, column 35");
    const hf = packHf(codes, rows, cols);
    hf[1 * cols + 9]! |= 0b11 << 2; // R = 2: packed row 1, bits 2-3 hold weight row 1 + 2 = 3
    expect(() => hfToT2(hf, rows, cols)).toThrow("hfToT2 data: invalid code 3 for weight row 3, column 9");
    expect(() => unpackHf(hf, rows, cols)).toThrow("invalid code 3 for weight row 3, column 9");
    expect(() => t2ToHf(t2.subarray(1), rows, cols)).toThrow(/t2ToHf data: has \d+ bytes, expected/);
    expect(() => hfToT2(hf.subarray(1), rows, cols)).toThrow(/hfToT2 data: has 139 bytes, expected 140 for \[2, 70\]/);
  });
});
