/**
 * The int4 head's row-pair layout (dense-int4.wat.ts): `q4_dot_r` reads two rows a pass and an unpaired first or last
 * row alone, `q4_dot` one row at a time; any cut of a job's rows into calls must give the js reference's bits. The
 * pool's own splits start on multiples of 4, so the odd starts are made here by a wrapper that cuts each call.
 */
import { setFlagsFromString } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rng } from "../conformance-helpers";
import { denseInt4Impl, quantizeDenseInt4 } from "../js/dense-int4";
import { kernelExports, type KernelExports } from "./abi";
import type { WasmContext } from "./context";
import { dense, prepareDense } from "./dense-ops";
import { Heap } from "./heap";
import { LutTuner } from "./lut-tuner";
import { ThreadPool } from "./thread-pool";
import { kernelsModule, type WasmSimd } from "./wasm-module";

setFlagsFromString("--experimental-wasm-relaxed-simd");

/** Every q4 call over [ra, rb) made as calls over [ra, ra + 1), [ra + 1, ra + 4), [ra + 4, ra + 7), [ra + 7, rb). */
function cutting(exports: KernelExports, cuts: Array<[number, number]>): KernelExports {
  const pieces = (dot: KernelExports["q4_dot"]): KernelExports["q4_dot"] => (w, rowStride, groups, x, ra, rb, out) => {
    let start = ra;
    for (const end of [ra + 1, ra + 4, ra + 7, rb].map((e) => Math.min(e, rb))) {
      if (end <= start) continue;
      cuts.push([start, end]);
      dot(w, rowStride, groups, x, start, end, out);
      start = end;
    }
  };
  return { ...exports, q4_dot: pieces(exports.q4_dot), q4_dot_r: pieces(exports.q4_dot_r) };
}

async function wasmContext(simd: WasmSimd, cuts?: Array<[number, number]>): Promise<WasmContext & { dispose(): void }> {
  const module = kernelsModule(simd);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const plain = kernelExports(new WebAssembly.Instance(module, { env: { memory } }), simd === "relaxed");
  const pool = await ThreadPool.create(1, module, memory);
  const exports = cuts ? cutting(plain, cuts) : plain;
  return { heap: new Heap(memory), pool, exports, relaxed: simd === "relaxed", alive: () => {}, f32Weights: new WeakMap(), lutTuner: new LutTuner(), dispose: () => pool.dispose() };
}

describe.each(["relaxed", "baseline"] as const)("int4 rows in pairs, %s module", (simd) => {
  const cuts: Array<[number, number]> = [];
  let cut: WasmContext & { dispose(): void };
  let whole: WasmContext & { dispose(): void };
  beforeAll(async () => {
    cut = await wasmContext(simd, cuts);
    whole = await wasmContext(simd);
  });
  afterAll(() => {
    cut.dispose();
    whole.dispose();
  });

  it("gives the reference's bits over any cut of the rows: odd and even starts and ends, odd row counts", () => {
    const r = rng(21);
    for (const [tokens, out, inF] of [[1, 1, 128], [1, 2, 32], [2, 3, 256], [1, 8, 160], [3, 9, 384], [1, 33, 2560]] as const) {
      const w = Float32Array.from({ length: out * inF }, () => (r() - 0.5) * 2 ** Math.floor(r() * 6 - 3));
      const x = Float32Array.from({ length: tokens * inF }, () => (r() - 0.5) * 4);
      const want = denseInt4Impl(quantizeDenseInt4(w, out, inF), x, tokens);
      cuts.length = 0;
      const got = dense(cut, prepareDense(cut, w, out, inF, "int4"), x, tokens);
      const gotWhole = dense(whole, prepareDense(whole, w, out, inF, "int4"), x, tokens);
      const where = `${tokens}×${out}×${inF}`;
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `${where}, rows cut ${JSON.stringify(cuts)}`).toBe(true);
      expect(Buffer.from(gotWhole.buffer).equals(Buffer.from(want.buffer)), `${where}, one call`).toBe(true);
      if (out > 4) expect(cuts.some(([start, end]) => start % 2 === 1 && end - start >= 3), `${where}: an odd start with a pair after it`).toBe(true);
    }
  });
});
