import { setFlagsFromString } from "node:v8";
import { packTernaryT2 } from "@onebit/quant";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PackedLinearWeight } from "../backend";
import { createBackend } from "../backends";
import { activations, ternaryWeight } from "../conformance-cases";
import type { Backend } from "../contract/kernel-table";
import { createJsBackend } from "../js/js-backend";
import { kernelExports } from "./abi";
import { ternaryGemmLut } from "./bit-linear-ops";
import { kernelsModule, relaxedSimdAvailable } from "./wasm-module";

// relaxed SIMD is behind a flag on Node 20 (on by default from Node 22); the tri5 functions are in the relaxed module
setFlagsFromString("--experimental-wasm-relaxed-simd");

describe.runIf(relaxedSimdAvailable())("the tri5 layout (tri5-layout.wat.ts) and the LUT GEMM over it", () => {
  it("t2_to_tri5: each byte is Σ code_i·3^i over inputs 80m + 16i + j of its row, code 1 past the t2 row, rows in pairs", () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 16, shared: true });
    const ex = kernelExports(new WebAssembly.Instance(kernelsModule("relaxed"), { env: { memory } }), true);
    const heap = new Uint8Array(memory.buffer);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }), // row pairs
        fc.integer({ min: 1, max: 23 }), // t2 blocks of 64 inputs
        fc.integer({ min: 0, max: 2 }), // extra tri5 blocks past the t2 row's inputs
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (pairs, srcBlocks, extra, seed) => {
          const rows = 2 * pairs;
          const blocks5 = Math.ceil((srcBlocks * 64) / 80) + extra;
          const srcRowStride = srcBlocks * 16;
          const dstRowStride = blocks5 * 16;
          // codes [rows, srcBlocks·64] in {0, 1, 2}, laid out as t2 pairs by the layout's definition: block k of row r
          // at (r >> 1)·2·rowStride + 32k + (r & 1)·16, byte b holding inputs 64k + 16j + b in bits 2j
          let s = seed || 1;
          const code = Uint8Array.from({ length: rows * srcBlocks * 64 }, () => {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            return (s >>> 16) % 3;
          });
          const src = 1024;
          const dst = src + rows * srcRowStride + 64;
          heap.fill(0xee, src, dst + rows * dstRowStride + 64);
          for (let r = 0; r < rows; r++)
            for (let k = 0; k < srcBlocks; k++)
              for (let b = 0; b < 16; b++) {
                let byte = 0;
                for (let j = 0; j < 4; j++) byte |= code[r * srcBlocks * 64 + 64 * k + 16 * j + b]! << (2 * j);
                heap[src + (r >> 1) * 2 * srcRowStride + 32 * k + (r & 1) * 16 + b] = byte;
              }
          // in two calls, as two threads would split the rows
          const mid = 2 * Math.floor(pairs / 2);
          ex.t2_to_tri5(src, srcRowStride, srcBlocks, dst, dstRowStride, blocks5, 0, mid);
          ex.t2_to_tri5(src, srcRowStride, srcBlocks, dst, dstRowStride, blocks5, mid, rows);
          for (let r = 0; r < rows; r++)
            for (let m = 0; m < blocks5; m++)
              for (let j = 0; j < 16; j++) {
                let want = 0;
                for (let i = 0; i < 5; i++) {
                  const input = 80 * m + 16 * i + j;
                  want += (input < srcBlocks * 64 ? code[r * srcBlocks * 64 + input]! : 1) * 3 ** i;
                }
                const at = dst + (r >> 1) * 2 * dstRowStride + 32 * m + (r & 1) * 16 + j;
                if (heap[at] !== want) throw new Error(`row ${r} block ${m} byte ${j}: ${heap[at]}, expected ${want}`);
              }
          // nothing written past the last row pair
          expect(heap[dst + rows * dstRowStride]).toBe(0xee);
        },
      ),
      { numRuns: 60 },
    );
  });

  const ref = createJsBackend();
  const backends: Backend[] = [];
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) backends.push(await createBackend("wasm", { threads, simd: "relaxed" }));
  });
  afterAll(() => {
    ternaryGemmLut.tri5 = "auto";
    ternaryGemmLut.width = "auto";
    for (const b of backends) b.dispose();
  });

  it("the LUT GEMM over tri5 rows gives the reference's outputs bit for bit: tiles of 64, 32 and 16, remainders, masks, the i16 bound", async () => {
    const extreme = (out: number, inF: number, w: -1 | 1, x: number, tokens: number): [string, PackedLinearWeight, ReturnType<typeof activations>] => {
      const weight: PackedLinearWeight = { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(new Int8Array(out * inF).fill(w), out, inF), scales: Float32Array.of(0.5), scaleAxis: "tensor" };
      const a = activations(tokens, inF, 9);
      a.codes.fill(x);
      return [`every w ${w} against x ${x}`, weight, a];
    };
    const cases: Array<[string, PackedLinearWeight, ReturnType<typeof activations>, Uint8Array?]> = [
      // 1000 inputs: 16 t2 blocks, 13 tri5 blocks (1040 inputs, the last 40 zero-padded); 51 tokens: one tile of 64
      // lanes, 13 of them past the tokens; 83 = 64 + 16 + 3 tokens
      ["1000 inputs, 51 tokens", ternaryWeight(301, 1000, 11), activations(51, 1000, 12)],
      ["1000 inputs, 83 tokens", ternaryWeight(301, 1000, 19), activations(83, 1000, 20)],
      ["masked, 70 tokens", ternaryWeight(260, 640, 13), activations(70, 640, 14), Uint8Array.from({ length: 260 }, (_, i) => (i % 3 === 0 ? 0 : 1))],
      // 400 inputs: 5 tri5 blocks, one chunk of 3 and a last of 2
      ["400 inputs, 14 tokens (a 16-token tile)", ternaryWeight(300, 400, 15), activations(14, 400, 16)],
      ["column groups", ternaryWeight(300, 640, 17, "in", 2), activations(64, 640, 18, { groups: 2 })],
      // a chunk's i16 sums at their bound: 48 groups × 5 × 128 = 30720
      extreme(260, 800, -1, -128, 40),
      extreme(260, 800, 1, -128, 40),
      extreme(260, 800, -1, 127, 40),
      extreme(260, 800, 1, -128, 60),
    ];
    for (const [what, w, x, rowMask] of cases) {
      const want = ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x, rowMask }) as Float32Array;
      for (const b of backends) {
        const weight = b.prepareWeight({ weight: w });
        // every variant the tuner picks among (lut-tuner.ts): t2 or tri5 rows, tiles of any width or of at most 32
        for (const tri5 of ["on", "off"] as const)
          for (const width of ["auto", 32] as const) {
            ternaryGemmLut.tri5 = tri5;
            ternaryGemmLut.width = width;
            const got = (await b.read(b.bitLinear({ weight, input: x, rowMask }))) as Float32Array;
            for (let i = 0; i < want.length; i++)
              if (!Object.is(got[i], want[i])) throw new Error(`${what}, ${b.name} (tri5 ${tri5}, width ${width}): output ${i} is ${got[i]}, the reference gives ${want[i]}`);
          }
      }
    }
  });
  it("with the tuner choosing (the defaults), every call gives the reference's outputs while it samples the variants and after", async () => {
    ternaryGemmLut.tri5 = "auto";
    ternaryGemmLut.width = "auto";
    // 2 threads, 128 tokens: 64 a thread, so four candidates (t2 or tri5, tiles of 64 or of 32) — 4 uncounted calls, then
    // 4 samples each, then the choice
    const w = ternaryWeight(300, 640, 23);
    const x = activations(128, 640, 24);
    const want = ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x }) as Float32Array;
    const b = backends[1]!;
    const weight = b.prepareWeight({ weight: w });
    for (let call = 0; call < 24; call++) {
      const got = (await b.read(b.bitLinear({ weight, input: x }))) as Float32Array;
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`call ${call}: output ${i} is ${got[i]}, the reference gives ${want[i]}`);
    }
  });
});
