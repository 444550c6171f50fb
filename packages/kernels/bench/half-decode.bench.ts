/**
 * `pnpm --filter @onebit/kernels bench:half` — f16 → f32 as a 16-bit KV cache's read (`decodeHalf`, every position of
 * a layer at every decode step) and an F16 table's load (`f16_decode` under prepareDense) run it: the wasm backend's
 * `decodeHalf` (ggml-decode.wat.ts f16_decode, on a store and an output in wasm memory, as a placed KV cache reads
 * them) against the js reference's table lookup (js/half-codes.ts), alternated sample by sample in one process.
 * Prints each one's median ns/half and the ratio, for two sets of halves: a 2B4T layer's keys at a long context
 * (values of a few units, float32 → half as encodeHalf rounds them) and every one of the 65 536 half patterns
 * (subnormals, ±∞ and NaNs included), and checks the outputs are the reference's bit for bit. Options (env):
 * BENCH_HALVES (default 655 360: 512 positions × 640 × 2), BENCH_SAMPLES (default 200).
 */
import { floatToHalf } from "@onebit/quant";
import { createBackend, hostArray } from "../src/index";

const N = Number(process.env.BENCH_HALVES ?? 512 * 640 * 2);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
// the store is allocated as N/2 float32 words
if (!Number.isInteger(N) || N < 2 || N % 2 !== 0) throw new Error(`BENCH_HALVES: expected an even integer ≥ 2, got ${process.env.BENCH_HALVES}`);
if (!Number.isInteger(SAMPLES) || SAMPLES < 1) throw new Error(`BENCH_SAMPLES: expected a positive integer, got ${process.env.BENCH_SAMPLES}`);

const wasm = await createBackend("wasm", { threads: 1, simd: "baseline" });
const js = await createBackend("js");

let seed = 7;
const uniform = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const sets: Record<string, (i: number) => number> = {
  // roughly Gaussian, |x| mostly below 4: a KV cache's keys and values
  "keys at a long context": () => floatToHalf((uniform() + uniform() + uniform() - 1.5) * 2.5),
  "every half pattern": (i) => i & 0xffff,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`f16 → f32, ${N} halves a call${N === 512 * 640 * 2 ? " (the 2B4T shape's K and V of one layer at 512 positions)" : ""}, ${SAMPLES} alternated samples, one thread`);
for (const [name, half] of Object.entries(sets)) {
  // the store and the output in wasm memory, where a KV cache placed by this backend keeps them
  const store = hostArray(wasm.allocF32(N / 2), "store");
  const halves = new Uint16Array(store.buffer, store.byteOffset, N);
  for (let i = 0; i < N; i++) halves[i] = half(i);
  const out = hostArray(wasm.allocF32(N), "out");
  const ref = new Float32Array(N);
  const plain = halves.slice();
  const times = { wasm: [] as number[], js: [] as number[] };
  for (let s = 0; s < SAMPLES; s++) {
    let t0 = performance.now();
    wasm.decodeHalf({ src: halves, srcOffset: 0, length: N, out });
    times.wasm.push(performance.now() - t0);
    t0 = performance.now();
    js.decodeHalf({ src: plain, srcOffset: 0, length: N, out: ref });
    times.js.push(performance.now() - t0);
  }
  for (let i = 0; i < N; i++) if (!Object.is(out[i], ref[i])) throw new Error(`${name}: half ${halves[i]} decoded to ${out[i]}, the reference gives ${ref[i]}`);
  const [w, r] = [median(times.wasm), median(times.js)];
  console.log(`  ${name.padEnd(24)} wasm ${((w * 1e6) / N).toFixed(3)} ns/half   js reference ${((r * 1e6) / N).toFixed(3)} ns/half   wasm time / reference time ${(w / r).toFixed(3)}`);
  wasm.freeF32(store);
  wasm.freeF32(out);
}
wasm.dispose();
js.dispose();
