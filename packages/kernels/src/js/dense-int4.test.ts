import { describe, expect, it } from "vitest";
import { DENSE_FORMATS, denseChunkRows, INT4_BLOCK } from "./dense";
import { denseInt4Impl, quantizeDenseInt4, quantizeInt8Blocks } from "./dense-int4";
import { prepareDenseJs } from "./dense-prepared";

/** Weight j of block b in row o: its signed code from the packed bytes (Q4_0's order). */
function codeOf(q: ReturnType<typeof quantizeDenseInt4>, o: number, j: number): number {
  const byte = q.codes[(o * q.blocks + Math.floor(j / 32)) * 16 + (j % 16)]!;
  return ((j % 32) < 16 ? byte & 15 : byte >> 4) - 8;
}

describe("dense int4 (Q4_0 weights)", () => {
  it("maps the pair of blocks' extreme to −8 exactly, stores codes + 8 in Q4_0's nibble order, and rounds ties to even", () => {
    // row 0, blocks 0 and 1 share d: extreme +4 (block 0) → d = −0.5; 0.25 / −0.5 = −0.5 → tie → 0 (even);
    // 0.75 / −0.5 = −1.5 → −2; −4 → +8 clamps to 7; block 1's 2 → −4
    const w = new Float32Array(2 * 96);
    w.set([4, 0.25, 0.75, -4, 1], 0);
    w[16] = -1; // the high nibble of byte 0
    w[32] = 2;
    // block 2: a row's odd last block has its own d; all zero → d = 0, codes 8
    // row 1: the pair's extreme in its second block (−6 → d = 0.75), the first block read against it
    w.set([3, -1.125], 96);
    w[96 + 40] = -6;
    const q = quantizeDenseInt4(w, 2, 96);
    expect(q.scales[0]).toBe(-0.5);
    expect(q.scales[1]).toBe(-0.5);
    expect([0, 1, 2, 3, 4, 16, 32].map((j) => codeOf(q, 0, j))).toEqual([-8, 0, -2, 7, -2, 2, -4]);
    expect(q.codes[0]).toBe((-8 + 8) | ((2 + 8) << 4));
    expect(q.scales[2]).toBe(0);
    expect([...q.codes.subarray(32, 48)]).toEqual(new Array(16).fill(0x88));
    expect([q.scales[3], q.scales[4]]).toEqual([0.75, 0.75]);
    expect([96, 97, 96 + 40].map((j) => codeOf(q, 1, j - 96))).toEqual([4, -2, -8]); // 3 / 0.75, −1.125 / 0.75 = −1.5 → −2 (even)
  });

  it("stores a block too small for 1/d in float32 as zeros, and refuses non-finite weights naming the element", () => {
    const w = new Float32Array(32).fill(2 ** -125);
    expect(quantizeDenseInt4(w, 1, 32).scales[0]).toBe(0);
    const bad = new Float32Array(64);
    bad[40] = Number.NaN;
    expect(() => quantizeDenseInt4(bad, 2, 32)).toThrow("dense int4 weight: element [1, 8] is NaN; expected a finite number");
  });

  it("quantizes activations per token and 32-block to int8 absmax, with code sums", () => {
    const x = new Float32Array(64);
    x.set([127, -63.5, 0.5], 0); // block 0: γ = 127 → s = 1: −63.5 ties to −64 (even), 0.5 to 0
    const q = quantizeInt8Blocks(x, 1, 64);
    expect([...q.codes.subarray(0, 3)]).toEqual([127, -64, 0]);
    expect(q.scales[0]).toBe(1);
    expect(q.sums[0]).toBe(63);
    expect(q.scales[1]).toBe(0); // block 1: all zero
  });

  it("sums the exact block dots in four float32 lanes, block b into lane b mod 4", () => {
    const inF = 6 * INT4_BLOCK; // blocks 4 and 5 go to lanes 0 and 1 again
    const w = Float32Array.from({ length: 3 * inF }, (_, i) => Math.sin(i * 1.3) * (1 + (i % 50 === 0 ? 9 : 0)));
    const x = Float32Array.from({ length: 2 * inF }, (_, i) => Math.cos(i * 0.7));
    const q = quantizeDenseInt4(w, 3, inF);
    const xq = quantizeInt8Blocks(x, 2, inF);
    const y = denseInt4Impl(q, x, 2);
    const f = Math.fround;
    for (let t = 0; t < 2; t++)
      for (let o = 0; o < 3; o++) {
        const lane = [0, 0, 0, 0];
        for (let b = 0; b < 6; b++) {
          let dot = 0;
          for (let j = b * 32; j < b * 32 + 32; j++) dot += codeOf(q, o, j) * xq.codes[t * inF + j]!;
          lane[b % 4] = f(lane[b % 4]! + f(f(dot * q.scales[o * 6 + b]!) * xq.scales[t * 6 + b]!));
        }
        expect(y[t * 3 + o]).toBe(f(f(lane[0]! + lane[1]!) + f(lane[2]! + lane[3]!)));
      }
  });

  it("prepares every format from a row source a chunk at a time, equal to the array's", () => {
    const inF = 64;
    const out = denseChunkRows(inF) + 3; // two chunks
    const w = Float32Array.from({ length: out * inF }, (_, i) => Math.sin(i * 0.11));
    const reads: number[][] = [];
    const source = {
      rows: out,
      cols: inF,
      readRows(start: number, count: number, dst: Float32Array) {
        reads.push([start, count]);
        dst.set(w.subarray(start * inF, (start + count) * inF));
      },
    };
    for (const format of DENSE_FORMATS) {
      reads.length = 0;
      const a = prepareDenseJs("js", w, out, inF, format);
      const b = prepareDenseJs("js", source, out, inF, format);
      expect(reads).toEqual([[0, out - 3], [out - 3, 3]]);
      // byte comparisons: toEqual on a million elements is slow
      const bytes = (v: ArrayBufferView | undefined) => (v ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.alloc(0));
      expect(bytes(b.int4?.codes ?? b.int8?.codes ?? b.f32).equals(bytes(a.int4?.codes ?? a.int8?.codes ?? a.f32))).toBe(true);
      expect(bytes(b.int4?.scales ?? b.int8?.scales).equals(bytes(a.int4?.scales ?? a.int8?.scales))).toBe(true);
    }
  });
});
