// Property tests: codes in range, dequantization within each scheme's bound, pack/unpack identity, byte sizes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockOf, type Granularity, gridFor } from "./granularity";
import { quantizeFp4 } from "./fp4-e2m1";
import { halfToFloat } from "./fp16";
import { FORMATS } from "./formats/format-table";
import { quantizeInt4, quantizeInt8 } from "./int-absmax";
import { dequantize } from "./quantized-tensor";
import { quantizeTernary } from "./ternary-absmean";
import { quantizeUnsigned } from "./unsigned-absmax";

const shapeAndData = (maxRows = 6, maxCols = 40) =>
  fc
    .tuple(fc.integer({ min: 1, max: maxRows }), fc.integer({ min: 1, max: maxCols }))
    .chain(([r, c]) =>
      fc.tuple(fc.constant([r, c] as [number, number]), fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }), { minLength: r * c, maxLength: r * c })),
    );

describe("quantizer properties", () => {
  it("INT8: codes in [−128, 127] and |x − x̂| ≤ scale/2 (no clipping at absmax)", () => {
    fc.assert(
      fc.property(shapeAndData(), ([shape, x]) => {
        const q = quantizeInt8(x, shape);
        const d = dequantize(q);
        for (let i = 0; i < x.length; i++) {
          expect(q.codes[i]).toBeGreaterThanOrEqual(-128);
          expect(q.codes[i]).toBeLessThanOrEqual(127);
          const s = q.scales[Math.floor(i / shape[1])]!;
          expect(Math.abs(x[i]! - d[i]!)).toBeLessThanOrEqual(s / 2 + Math.abs(x[i]!) * 1e-6 + 1e-12);
        }
      }),
    );
  });
  it("per-token (and per token and group) INT8/INT4 on a Float32Array (the fast path) equals the generic loop, ties included", () => {
    // integers and halves put many products exactly on .5 ties once scaled; random floats cover the rest
    const value = fc.oneof(fc.integer({ min: -300, max: 300 }).map((v) => v / 2), fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }));
    const data = fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }))
      .chain(([r, c]) => fc.tuple(fc.constant([r, c] as [number, number]), fc.array(value, { minLength: r * c, maxLength: r * c })));
    fc.assert(
      fc.property(data, fc.constantFrom("clamp" as const, "add" as const), ([shape, x], epsMode) => {
        const f = Float32Array.from(x);
        const generic = Array.from(f); // a plain array takes the generic loop
        const groups = [1, 2, 3, 4, 5].filter((g) => shape[1] % g === 0).pop()!;
        for (const quantize of [quantizeInt8, quantizeInt4])
          for (const granularity of ["row", { groups, axis: "row-cols" }] as const) {
            const fast = quantize(f, shape, { epsMode, granularity });
            const slow = quantize(generic, shape, { epsMode, granularity });
            expect([...fast.codes]).toEqual([...slow.codes]);
            expect([...fast.scales]).toEqual([...slow.scales]);
          }
      }),
    );
    expect(() => quantizeInt8(Float32Array.of(1, Number.NaN), [1, 2])).toThrow("quantizeInt8 input: element 1 is NaN; expected a finite number");
  });
  it("INT4: codes in [−8, 7]; unclipped entries within scale/2", () => {
    fc.assert(
      fc.property(shapeAndData(), ([shape, x]) => {
        const q = quantizeInt4(x, shape);
        const d = dequantize(q);
        for (let i = 0; i < x.length; i++) {
          const c = q.codes[i]!;
          expect(c).toBeGreaterThanOrEqual(-8);
          expect(c).toBeLessThanOrEqual(7);
          const s = q.scales[Math.floor(i / shape[1])]!;
          if (c > -8 && c < 7) expect(Math.abs(x[i]! - d[i]!)).toBeLessThanOrEqual(s / 2 + Math.abs(x[i]!) * 1e-6 + 1e-12);
        }
      }),
    );
  });
  it("ternary: codes in {−1, 0, 1}; entries within ±1.5γ reconstruct within γ/2", () => {
    fc.assert(
      fc.property(shapeAndData(), ([shape, x]) => {
        const q = quantizeTernary(x, shape);
        const d = dequantize(q);
        const s = q.scales[0]!;
        for (let i = 0; i < x.length; i++) {
          expect([-1, 0, 1]).toContain(q.codes[i]);
          if (Math.abs(x[i]!) <= 1.5 * s) expect(Math.abs(x[i]! - d[i]!)).toBeLessThanOrEqual(s / 2 + s * 1e-5);
        }
      }),
    );
  });
  it("FP4: codes on the doubled E2M1 grid; error ≤ half the grid step", () => {
    fc.assert(
      fc.property(shapeAndData(), ([shape, x]) => {
        const q = quantizeFp4(x, shape);
        const d = dequantize(q);
        for (let i = 0; i < x.length; i++) {
          expect([0, 1, 2, 3, 4, 6, 8, 12]).toContain(Math.abs(q.codes[i]!));
          const s = q.scales[Math.floor(i / shape[1])]!;
          const xp = s > 0 ? Math.abs(x[i]!) / s : 0;
          const step = xp < 4 ? 1 : xp < 8 ? 2 : 4;
          expect(Math.abs(x[i]! - d[i]!)).toBeLessThanOrEqual((step / 2) * s * (1 + 1e-5) + 1e-12);
        }
      }),
    );
  });
  it("unsigned b-bit: codes in [0, 2^b − 1] and error ≤ scale/2", () => {
    fc.assert(
      fc.property(shapeAndData(), fc.constantFrom(3 as const, 4 as const, 8 as const), ([shape, x], bits) => {
        const q = quantizeUnsigned(x, shape, { bits });
        const d = dequantize(q);
        for (let i = 0; i < x.length; i++) {
          expect(q.codes[i]).toBeLessThanOrEqual(2 ** bits - 1);
          const s = q.scales[Math.floor(i / shape[1])]!;
          const lo = q.offsets![Math.floor(i / shape[1])]!;
          expect(Math.abs(x[i]! - d[i]!)).toBeLessThanOrEqual(s / 2 + (Math.abs(x[i]!) + Math.abs(lo)) * 1e-6 + 1e-9);
        }
      }),
    );
  });
  it("group quantization equals quantizing each group alone", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<"rows" | "cols">("rows", "cols"),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (groups, per, other, axis, seed) => {
          const rows = axis === "rows" ? groups * per : other;
          const cols = axis === "cols" ? groups * per : other;
          let s = seed;
          const next = () => {
            s = (s * 1103515245 + 12345) >>> 0;
            return (s / 2 ** 32) * 2 - 1;
          };
          const w = Float32Array.from({ length: rows * cols }, next);
          const g: Granularity = { groups, axis };
          const q = quantizeTernary(w, [rows, cols], { granularity: g });
          const grid = gridFor([rows, cols], g);
          for (let b = 0; b < groups; b++) {
            const sub: number[] = [];
            const idx: number[] = [];
            for (let r = 0; r < rows; r++)
              for (let c = 0; c < cols; c++)
                if (blockOf(grid, r, c) === b) {
                  sub.push(w[r * cols + c]!);
                  idx.push(r * cols + c);
                }
            const alone = quantizeTernary(sub, [1, sub.length]);
            expect(q.scales[b]).toBe(alone.scales[0]);
            expect(idx.map((i) => q.codes[i])).toEqual([...alone.codes]);
          }
        },
      ),
    );
  });
});

describe("formats", () => {
  const codeArb = (lo: number, hi: number, n: number, name: string) =>
    name === "fp4"
      ? fc.array(fc.constantFrom(0, 1, 2, 3, 4, 6, 8, 12, -1, -2, -3, -4, -6, -8, -12), { minLength: n, maxLength: n })
      : name === "onebit-b1"
        ? fc.array(fc.constantFrom(-1, 1), { minLength: n, maxLength: n })
        : fc.array(fc.integer({ min: lo, max: hi }), { minLength: n, maxLength: n });

  for (const format of FORMATS) {
    it(`${format.name}: unpack(pack(x)) = x and byte sizes follow the formula`, () => {
      expect(format.bitsPerWeight).toBe((format.bytesPerBlock * 8) / format.blockSize);
      const dims =
        format.blocking === "tensor" && format.blockSize > 2
          ? fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constant(format.blockSize))
          : fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 300 }));
      fc.assert(
        fc.property(
          dims.chain(([rows, cols]) =>
            fc.tuple(
              fc.constant([rows, cols] as const),
              codeArb(format.codeRange[0], format.codeRange[1], rows * cols, format.name),
              fc.array(fc.integer({ min: 0, max: 0x7bff }).map(halfToFloat), {
                minLength: format.scaleCount(rows, cols),
                maxLength: format.scaleCount(rows, cols),
              }),
            ),
          ),
          ([[rows, cols], codes, scales]) => {
            const data = { codes: Int8Array.from(codes), scales: Float32Array.from(scales) };
            const bytes = format.pack(data, rows, cols);
            expect(bytes.length).toBe(format.byteLength(rows, cols));
            const back = format.unpack(bytes, rows, cols);
            expect([...back.codes]).toEqual(codes);
            expect([...back.scales]).toEqual([...data.scales]);
          },
        ),
        { numRuns: 40 },
      );
    });
  }
  it("refuses sizes that are not a multiple of the block, naming the format", () => {
    const tq2 = FORMATS.find((f) => f.name === "tq2_0")!;
    expect(() => tq2.byteLength(3, 100)).toThrow("tq2_0: 3×100 = 300 weights is not a multiple of the block size 256");
    const t2 = FORMATS.find((f) => f.name === "onebit-t2")!;
    expect(() => t2.pack({ codes: Int8Array.of(2), scales: new Float32Array(0) }, 1, 1)).toThrow(
      "packTernaryT2 values: element 0 is 2; expected an integer in [-1, 1]",
    );
  });
});
