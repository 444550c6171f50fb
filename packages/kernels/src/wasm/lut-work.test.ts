import { setFlagsFromString } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuantizedActivations } from "../backend";
import { createBackend } from "../backends";
import { rng } from "../conformance-helpers";
import { activations, ternaryWeight } from "../conformance-cases";
import type { Backend } from "../contract/kernel-table";
import { createJsBackend } from "../js/js-backend";
import { kernelExports } from "./abi";
import { ternaryGemmLut } from "./bit-linear-ops";
import { LUT_UNIT_BYTES } from "./lut-work.wat";
import { kernelsModule, relaxedSimdAvailable } from "./wasm-module";

// relaxed SIMD is behind a flag on Node 20 (on by default from Node 22); the LUT GEMM is in the relaxed module
setFlagsFromString("--experimental-wasm-relaxed-simd");

describe.runIf(relaxedSimdAvailable())("the LUT GEMM's units shared between threads (lut-work.wat.ts)", () => {
  it("joins until closed, claims blocks from both ends until drained, closes with its last member, counts the parts, closes a unit its only member drained", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const ex = kernelExports(new WebAssembly.Instance(kernelsModule("relaxed"), { env: { memory } }), true);
    const u = 64;
    const state = new Int32Array(memory.buffer, u, LUT_UNIT_BYTES / 4);
    expect([ex.lut_join(u), ex.lut_join(u)]).toEqual([1, 1]);
    // 8 blocks, three at a time: the owner takes [0, 3), another thread [5, 8), the owner what is left, [3, 5), and
    // both then find none
    const claim = (front: number) => {
      const c = ex.lut_claim(u, 8, front);
      return c < 0 ? c : [c & 0xffff, (c & 0xffff) + (c >>> 16)];
    };
    expect([claim(1), claim(0), claim(1), claim(0), claim(1)]).toEqual([[0, 3], [5, 8], [3, 5], -1, -1]);
    expect(state[0]).toBe((5 << 16) | 3);
    // the first part is stored (0 parts before), the second added
    expect(ex.lut_lock(u)).toBe(0);
    ex.lut_unlock(u);
    expect(ex.lut_lock(u)).toBe(1);
    ex.lut_unlock(u);
    expect(state[2]).toBe(0);
    // two members: the first to finish is not the last; the second closes the unit, and no thread joins it after
    expect([ex.lut_finish(u), ex.lut_finish(u)]).toEqual([0, 1]);
    expect(ex.lut_join(u)).toBe(0);
    expect(state[1]).toBe((1 << 16) | (2 << 8) | 2);
    // a unit with one member, none done: closed by that member at once; with two, not
    const w = 192;
    expect([ex.lut_join(w), ex.lut_close_alone(w), ex.lut_join(w)]).toEqual([1, 1, 0]);
    const z = 256;
    expect([ex.lut_join(z), ex.lut_join(z), ex.lut_close_alone(z), ex.lut_finish(z), ex.lut_close_alone(z)]).toEqual([1, 1, 0, 0, 0]);
  });

  const ref = createJsBackend();
  const backends: Backend[] = [];
  beforeAll(async () => {
    for (const threads of [2, 3]) backends.push(await createBackend("wasm", { threads, simd: "relaxed" }));
  });
  afterAll(() => {
    ternaryGemmLut.skipOwn = false;
    ternaryGemmLut.tri5 = "auto";
    for (const b of backends) b.dispose();
  });

  it("gives the reference's outputs bit for bit when the threads share every unit (thread 0 leaving its own to the others), over t2 and tri5 rows", async () => {
    const r = rng(7);
    const cases: Array<[string, number, number, QuantizedActivations, Uint8Array?]> = [
      // split by tokens: tiles of 32 and 16, or of 64 and 32 or 16, and the last few tokens through t2_dot_4r; 10 blocks:
      // chunks of 3 and a last of 1
      ["by tokens", 300, 640, activations(96, 640, 1)],
      ["by tokens, tiles of 64", 300, 640, activations(166, 640, 6)],
      ["by tokens, masked", 300, 640, activations(70, 640, 2), Uint8Array.from({ length: 300 }, () => (r() < 0.5 ? 1 : 0))],
      // split by rows (few tokens: each thread builds every tile's tables over its rows)
      ["by rows", 512, 1000, activations(40, 1000, 3)],
      ["by rows, a 16-token tile", 520, 320, activations(14, 320, 4)],
      // column groups: the i32 dots left for JavaScript (no epilogue in the threads)
      ["column groups", 300, 512, activations(64, 512, 5, { groups: 2 })],
    ];
    const wants = cases.map(([what, out, inF, x, rowMask]) => {
      const w = ternaryWeight(out, inF, out + inF, what === "column groups" ? "in" : "tensor", what === "column groups" ? 2 : 1);
      return { w, want: ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x, rowMask }) as Float32Array };
    });
    // the tiles over t2 rows and over tri5 rows (tri5-layout.wat.ts), each forced
    for (const b of backends)
      for (const [skipOwn, tri5] of [[false, "off"], [true, "off"], [false, "on"], [true, "on"]] as const) {
        ternaryGemmLut.skipOwn = skipOwn;
        ternaryGemmLut.tri5 = tri5;
        for (const [i, [what, , , x, rowMask]] of cases.entries()) {
          const { w, want } = wants[i]!;
          const weight = b.prepareWeight({ weight: w });
          // several times: which thread takes which chunk varies from run to run
          for (let run = 0; run < 3; run++) {
            const got = (await b.read(b.bitLinear({ weight, input: x, rowMask }))) as Float32Array;
            for (let i = 0; i < want.length; i++)
              if (!Object.is(got[i], want[i])) throw new Error(`${what}, ${b.name} (skipOwn ${skipOwn}, tri5 ${tri5}), run ${run}: output ${i} is ${got[i]}, the reference gives ${want[i]}`);
          }
        }
      }
  });
});
