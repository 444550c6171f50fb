import { packTernaryT1, packTernaryT2, t1Trit, unpackTernaryT1 } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { rng } from "../conformance-helpers";
import { t2ToT1Rows } from "./layout";

describe("onebit-t1 kernels (t1-dot.wat.ts)", () => {
  it("decode trits by the stored-byte chain and two signed compares, exactly TQ1_0's multiply-and-shift", () => {
    // every byte onebit-t1 can hold: ⌈q·256/243⌉ for q = 0..242
    for (let q = 0; q < 243; q++) {
      const byte = Math.floor((q * 256 + 242) / 243);
      let y = byte ^ 0x80; // as placed in wasm memory
      for (let n = 0; n < 5; n++) {
        const signed = y > 127 ? y - 256 : y;
        const code = (signed > -43 ? 1 : 0) + (signed > 42 ? 1 : 0);
        expect(code, `q ${q}, trit ${n}`).toBe(t1Trit(byte, n));
        y = (3 * y) & 0xff; // i8x16.add(y, i8x16.add(y, y))
      }
    }
  });

  it("transcode onebit-t2 rows to the placed t1 rows: packTernaryT1's bytes XOR 0x80, zero-weight padding", () => {
    const r = rng(3);
    for (const [rows, cols] of [[1, 1], [3, 79], [2, 80], [5, 81], [4, 130], [3, 2560], [2, 6912]] as const) {
      const values = Int8Array.from({ length: rows * cols }, () => Math.floor(r() * 3) - 1);
      const placed = t2ToT1Rows(packTernaryT2(values, rows, cols), rows, cols);
      const want = packTernaryT1(values, rows, cols).map((b) => b ^ 0x80);
      expect(placed).toEqual(want);
      expect(unpackTernaryT1(placed.map((b) => b ^ 0x80), rows, cols)).toEqual(values);
    }
  });
});
