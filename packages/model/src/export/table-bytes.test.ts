import { f32ToBf16, quantizeGgml } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { quantizedTable, tableToF32 } from "../weights/quantized-table";
import { tableRange } from "./table-bytes";

/** All of a range read in pieces of `chunk` bytes, as a writer reads it. */
function readAll(r: ReturnType<typeof tableRange>, chunk: number): Uint8Array {
  const out = new Uint8Array(r.length);
  for (let at = 0; at < r.length; at += chunk) r.copyTo(at, out.subarray(at, Math.min(r.length, at + chunk)));
  return out;
}

describe("tableRange", () => {
  // 37 rows of 256: Q6_K and F16 tables of uneven values
  const values = Float32Array.from({ length: 37 * 256 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
  for (const dtype of ["F16", "Q6_K"] as const) {
    const table = quantizedTable(dtype, 37, 256, quantizeGgml(dtype, values));
    const f32 = tableToF32(table);
    const want = { F32: new Uint8Array(f32.buffer), BF16: new Uint8Array(f32ToBf16(f32).buffer) };

    it(`${dtype} → F32 and BF16: the whole table's values, whatever the rows a piece and the bytes a read`, () => {
      for (const out of ["F32", "BF16"] as const)
        for (const piece of [1, 256, 300, 256 * 5, 1 << 20])
          for (const chunk of [1, 7, 512, 1000, 1 << 20]) {
            const r = tableRange(table, out, piece);
            expect(r.length).toBe(want[out].length);
            expect(Buffer.compare(readAll(r, chunk), want[out]), `${out}, ${piece} values a piece, ${chunk}-byte reads`).toBe(0);
          }
    });
  }

  it("refuses a read outside the table", () => {
    const r = tableRange(quantizedTable("F16", 2, 32, new Uint8Array(128)), "BF16");
    expect(() => r.copyTo(120, new Uint8Array(16))).toThrow(/table bytes \[120, 136\) are outside its 128 bytes/);
  });
});
