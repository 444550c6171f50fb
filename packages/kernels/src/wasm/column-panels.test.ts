import { setFlagsFromString } from "node:v8";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend } from "../backends";
import { activations, ternaryWeight } from "../conformance-cases";
import type { Backend } from "../contract/kernel-table";
import { createJsBackend } from "../js/js-backend";
import { kernelExports } from "./abi";
import { COL_PAIR_BYTES, COL_PAIRS_HEADER, PANEL_SCRATCH_BYTES } from "./column-panels.wat";
import { kernelsModule, relaxedSimdAvailable } from "./wasm-module";

// relaxed SIMD is behind a flag on Node 20 (on by default from Node 22); the panel functions are in the relaxed module
setFlagsFromString("--experimental-wasm-relaxed-simd");

/** A generator of codes in {0, 1, 2} (an LCG from `seed`). */
function codeSource(seed: number): () => number {
  let s = seed || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) % 3;
  };
}

/** Codes [rows, blocks·64] written as t2 pairs by the layout's definition: row r's block k at (r >> 1)·2·rowStride + 32k + (r & 1)·16, byte b holding inputs 64k + 16j + b in bits 2j. */
function writeT2(heap: Uint8Array, at: number, code: Uint8Array, rows: number, blocks: number): void {
  const rowStride = blocks * 16;
  heap.fill(0, at, at + rows * rowStride);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < blocks * 64; i++) {
      const k = i >> 6;
      heap[at + (r >> 1) * 2 * rowStride + 32 * k + (r & 1) * 16 + (i & 15)]! |= code[r * blocks * 64 + i]! << (2 * ((i >> 4) & 3));
    }
}

describe.runIf(relaxedSimdAvailable())("column panels (column-panels.wat.ts)", () => {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 256, shared: true });
  const ex = kernelExports(new WebAssembly.Instance(kernelsModule("relaxed"), { env: { memory } }), true);
  const heap = new Uint8Array(memory.buffer);

  it("panels_transpose: panel P's vector j holds row 64P + 16f + b's code of input j in byte b, field f; and back to the same t2 bytes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (panels, blocks, seed) => {
        const rows = 64 * panels;
        const bytes = rows * blocks * 16;
        const next = codeSource(seed);
        const code = Uint8Array.from({ length: rows * blocks * 64 }, next);
        const t2 = 4096;
        const pn = t2 + bytes + 64;
        const back = pn + bytes + 64;
        const s = back + bytes + 64;
        writeT2(heap, t2, code, rows, blocks);
        heap.fill(0xee, pn, s);
        // two calls, as two threads would split the panels
        const mid = panels >> 1;
        ex.panels_transpose(t2, pn, blocks, 0, mid, 1, s);
        ex.panels_transpose(t2, pn, blocks, mid, panels, 1, s);
        for (let r = 0; r < rows; r++)
          for (let j = 0; j < blocks * 64; j++) {
            const v = (heap[pn + (r >> 6) * blocks * 1024 + 16 * j + (r & 15)]! >> (2 * ((r >> 4) & 3))) & 3;
            if (v !== code[r * blocks * 64 + j]) expect.fail(`panels ${panels}, blocks ${blocks}: row ${r}, input ${j} reads ${v}, expected ${code[r * blocks * 64 + j]}`);
          }
        ex.panels_transpose(back, pn, blocks, 0, panels, 0, s);
        expect(heap.subarray(back, back + bytes)).toEqual(heap.subarray(t2, t2 + bytes));
      }),
      { numRuns: 40 },
    );
  });

  it("panels_to_tri5: the same bytes t2_to_tri5 makes from the t2 rows, for chunks of 30 blocks and a last of any size", () => {
    for (const blocks of [1, 4, 5, 29, 30, 31, 61]) {
      const rows = 128;
      const bytes = rows * blocks * 16;
      const blocks5 = Math.ceil((blocks * 64) / 80);
      const code = Uint8Array.from({ length: rows * blocks * 64 }, codeSource(blocks));
      const t2 = 4096;
      const pn = t2 + bytes + 64;
      const want = pn + bytes + 64;
      const got = want + rows * blocks5 * 16 + 64;
      const s = got + rows * blocks5 * 16 + 64;
      writeT2(heap, t2, code, rows, blocks);
      ex.panels_transpose(t2, pn, blocks, 0, 2, 1, s);
      heap.fill(0xee, want, s + PANEL_SCRATCH_BYTES);
      ex.t2_to_tri5(t2, blocks * 16, blocks, want, blocks5 * 16, blocks5, 0, rows);
      ex.panels_to_tri5(pn, blocks, got, blocks5, 0, 1, s);
      ex.panels_to_tri5(pn, blocks, got, blocks5, 1, 2, s);
      expect(heap.subarray(got, got + rows * blocks5 * 16), `${blocks} blocks`).toEqual(heap.subarray(want, want + rows * blocks5 * 16));
      expect(heap[got + rows * blocks5 * 16], `${blocks} blocks: the byte after the rows`).toBe(0xee);
    }
  });

  it("col_pairs lists the non-zero inputs two to an entry, in order (a lone last one with 0); col_gemv gives Σ code·x per row", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (panels, blocks, density, seed) => {
          const rows = 64 * panels;
          const cols = blocks * 64;
          const next = codeSource(seed);
          const code = Uint8Array.from({ length: rows * cols }, next);
          let s = seed ^ 0x5bd1e995;
          const rand = () => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            return s / 2 ** 32;
          };
          // int8 inputs, −128 and 127 included
          const x = Int8Array.from({ length: cols }, () => (rand() < density ? Math.floor(rand() * 256) - 128 : 0));
          const t2 = 4096;
          const pn = t2 + rows * blocks * 16 + 64;
          const xp = pn + rows * blocks * 16 + 64;
          const pairs = xp + cols + 64;
          const out = pairs + COL_PAIRS_HEADER + COL_PAIR_BYTES * (cols / 2 + 1) + 64;
          const scratch = out + rows * 4 + 64;
          writeT2(heap, t2, code, rows, blocks);
          ex.panels_transpose(t2, pn, blocks, 0, panels, 1, scratch);
          new Int8Array(memory.buffer, xp, cols).set(x);
          const nonZero = [...x.keys()].filter((j) => x[j] !== 0);
          const count = ex.col_pairs(xp, cols, pairs);
          expect(count).toBe(Math.ceil(nonZero.length / 2));
          const dv = new DataView(memory.buffer);
          expect(dv.getInt32(pairs, true)).toBe(count);
          for (let e = 0; e < count; e++) {
            const at = pairs + COL_PAIRS_HEADER + COL_PAIR_BYTES * e;
            const j1 = nonZero[2 * e]!;
            const j2 = nonZero[2 * e + 1] ?? j1;
            const x2 = 2 * e + 1 < nonZero.length ? x[j2]! & 255 : 0;
            expect([dv.getInt32(at, true), dv.getInt32(at + 4, true), dv.getInt32(at + 8, true)]).toEqual([16 * j1, 16 * j2, (x[j1]! & 255) | (x2 << 8)]);
          }
          ex.col_gemv(pn, blocks, 0, panels, pairs, out);
          const got = new Int32Array(memory.buffer, out, rows);
          for (let r = 0; r < rows; r++) {
            let want = 0;
            for (let j = 0; j < cols; j++) want += code[r * cols + j]! * x[j]!;
            if (got[r] !== want) expect.fail(`row ${r} of ${rows} (${blocks} blocks, ${nonZero.length} non-zero): ${got[r]}, expected ${want}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  describe("bitLinear on a weight placed for sparse inputs, on 1–3 threads, every prompt path", () => {
    const backends: Backend[] = [];
    let ref: Backend;
    beforeAll(async () => {
      for (const threads of [1, 2, 3]) backends.push(await createBackend("wasm", { threads, simd: "relaxed" }));
      ref = createJsBackend();
    });
    afterAll(() => {
      for (const b of backends) b.dispose();
    });

    it("matches the js reference for 1 to 140 tokens (col_gemv token by token below the lookup GEMM, its tiles over t2 or tri5 rows with and without leftover tokens)", async () => {
      const w = ternaryWeight(256, 320, 71);
      const wantWeight = ref.prepareWeight({ weight: w, sparseInputs: true });
      const cases = [1, 3, 12, 40, 64, 70, 96, 128, 140].map((tokens) => {
        const x = activations(tokens, 320, 72 + tokens, { zeroFraction: 0.5 });
        return { tokens, x, want: ref.bitLinear({ weight: wantWeight, input: x }) as Float32Array };
      });
      for (const b of backends) {
        const pw = b.prepareWeight({ weight: w, sparseInputs: true });
        for (const { tokens, x, want } of cases) expect(await b.read(b.bitLinear({ weight: pw, input: x })), `${b.threads} thread(s), ${tokens} tokens`).toEqual(want);
      }
    });
  });
});
