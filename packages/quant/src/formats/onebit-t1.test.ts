// onebit-t1 (1.6-bit base-3 ternary rows): bytes worked by hand from the layout in onebit-t1.ts, agreement with
// the TQ1_0 bytes llama.cpp writes for the same 80 weights, round trips, sizes and refusals.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FORMATS, getFormat } from "./format-table";
import { packTq1_0 } from "./gguf-tq1-0";
import { packTernaryT1, T1_BLOCK, T1_BLOCK_BYTES, t1RowBytes, t1Trit, unpackTernaryT1 } from "./onebit-t1";

describe("onebit-t1", () => {
  it("packs a 1×20 row by hand: byte j = ⌈q·256/243⌉, q = 81·t[j] + 27·t[16+j] + 9·t[32+j] + 3·t[48+j] + t[64+j]", () => {
    const w = new Int8Array(20);
    w[0] = 1;
    w[16] = -1;
    w[1] = -1;
    w[17] = 1;
    const b = packTernaryT1(w, 1, 20);
    expect(b.length).toBe(16); // 20 columns pad to one 80-weight block
    // byte 0: t = 2 (w[0]), 0 (w[16]), then three padding zeros (t = 1): q = 162 + 0 + 9 + 3 + 1 = 175;
    // 175·256 = 44800 = 243·184 + 88 → 185
    expect(b[0]).toBe(185);
    // byte 1: t = 0 (w[1]), 2 (w[17]), 1, 1, 1: q = 0 + 54 + 13 = 67; 67·256 = 17152 = 243·70 + 142 → 71
    expect(b[1]).toBe(71);
    // bytes 2..15: five zero weights, q = 121; 121·256 = 30976 = 243·127 + 115 → 128
    expect([...b.subarray(2)]).toEqual(new Array(14).fill(0x80));
    // multiply-and-shift decode of byte 1 (71): 71·3 = 213 → 213·3 >> 8 = 2 (w[17] = +1); 71·1 → 213 >> 8 = 0 (w[1] = −1)
    expect([t1Trit(71, 0), t1Trit(71, 1), t1Trit(71, 2), t1Trit(71, 3), t1Trit(71, 4)]).toEqual([0, 2, 1, 1, 1]);
    expect([...unpackTernaryT1(b, 1, 20)]).toEqual([...w]);
  });

  it("strides rows by ceil(cols/80)·16 bytes and puts column 80k + 16n + j in byte 16k + j, digit n", () => {
    const w = new Int8Array(2 * 81);
    w[79] = -1; // row 0, block 0, j = 15, n = 4 (least significant): q = 81 + 27 + 9 + 3 + 0 = 120 → 127
    w[81 + 80] = 1; // row 1, block 1, j = 0, n = 0 (most significant): q = 162 + 27 + 9 + 3 + 1 = 202 → 213
    const b = packTernaryT1(w, 2, 81);
    expect(t1RowBytes(81)).toBe(32);
    expect(b.length).toBe(64);
    const expected = new Array(64).fill(0x80);
    expected[15] = 127;
    expected[32 + 16] = 213;
    expect([...b]).toEqual(expected);
    expect([...unpackTernaryT1(b, 2, 81)]).toEqual([...w]);
  });

  it("every q in 0..242 has its own byte and decodes to its five digits; the 13 other bytes are refused", () => {
    const bytes = new Set<number>();
    for (let q = 0; q < 243; q++) {
      const digits = [4, 3, 2, 1, 0].map((p) => Math.floor(q / 3 ** p) % 3);
      const row = Int8Array.from([0, 1, 2, 3, 4].map((n) => digits[n]! - 1));
      // a 1×65 row puts weight 16n in byte 0, digit n; columns 1..15 and 17.. are zero padding of other bytes
      const w = new Int8Array(65);
      row.forEach((v, n) => {
        w[16 * n] = v;
      });
      const byte = packTernaryT1(w, 1, 65)[0]!;
      expect([0, 1, 2, 3, 4].map((n) => t1Trit(byte, n))).toEqual(digits);
      bytes.add(byte);
    }
    expect(bytes.size).toBe(243);
    const invalid = [...Array(256).keys()].filter((b) => !bytes.has(b));
    expect(invalid).toEqual([1, 20, 40, 60, 79, 99, 119, 138, 158, 178, 197, 217, 237]);
    const data = new Uint8Array(16).fill(0x80);
    data[3] = 20;
    expect(() => unpackTernaryT1(data, 1, 4)).toThrow("unpackTernaryT1 data: byte 3 (row 0) is 0x14, which encodes no five trits");
  });

  it("is byte-identical to the qs[32..47] run of a llama.cpp TQ1_0 block (elements 160 + 16n + m)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1, max: 1 }), { minLength: 256, maxLength: 256 }), (codes) => {
        const tq1 = packTq1_0(codes, [1]);
        expect([...packTernaryT1(codes.slice(160, 240), 1, 80)]).toEqual([...tq1.subarray(32, 48)]);
      }),
      { numRuns: 50 },
    );
  });

  it("round-trips random codes of any shape, with padding", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 400 })).chain(([rows, cols]) =>
          fc.tuple(fc.constant([rows, cols] as const), fc.array(fc.integer({ min: -1, max: 1 }), { minLength: rows * cols, maxLength: rows * cols })),
        ),
        ([[rows, cols], codes]) => {
          const bytes = packTernaryT1(codes, rows, cols);
          expect(bytes.length).toBe(rows * Math.ceil(cols / 80) * 16);
          expect([...unpackTernaryT1(bytes, rows, cols)]).toEqual(codes);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("stores 1.6 bits per weight: 16 bytes per 80 weights, rows padded to whole blocks", () => {
    expect([T1_BLOCK, T1_BLOCK_BYTES]).toEqual([80, 16]);
    const f = getFormat("onebit-t1");
    expect(FORMATS).toContain(f);
    expect(f.bitsPerWeight).toBe(1.6);
    expect(f.byteLength(2560, 2560)).toBe((2560 * 2560 * 1.6) / 8); // 2560 = 32 blocks: no padding
    expect(t1RowBytes(6912)).toBe(87 * 16); // 6912 → 6960 columns
    expect(t1RowBytes(1)).toBe(16);
    expect(f.byteLength(3, 4096) * 8 < 3 * 4096 * 1.7).toBe(true); // ≤ 1.7 bits even for a padded power of two
  });

  it("refuses bad input naming the argument, the expected and the found value", () => {
    expect(() => packTernaryT1(Int8Array.of(0, 2), 1, 2)).toThrow("packTernaryT1 values: element 1 is 2; expected an integer in [-1, 1]");
    expect(() => packTernaryT1([0, 0.5], 1, 2)).toThrow("packTernaryT1 values: element 1 is 0.5; expected an integer in [-1, 1]");
    expect(() => packTernaryT1(new Int8Array(3), 1, 2)).toThrow("packTernaryT1 values: has 3 elements, expected 2");
    expect(() => packTernaryT1(new Int8Array(0), 0, 2)).toThrow("packTernaryT1 shape: shape must be two positive integers [rows, cols], got [0, 2]");
    expect(() => unpackTernaryT1(new Uint8Array(15), 1, 2)).toThrow("unpackTernaryT1 data: has 15 bytes, expected 16");
    expect(() => unpackTernaryT1(new Uint8Array(16), 1, 2.5)).toThrow("unpackTernaryT1 shape: shape must be two positive integers [rows, cols], got [1, 2.5]");
    expect(() => getFormat("onebit-t1").unpack(new Uint8Array(32), 1, 81)).not.toThrow(); // 0x00 is q = 0: five −1s
  });
});
