/**
 * `pnpm --filter @onebit/kernels bench:dense` — the LM head of BitNet b1.58 2B4T (128256 × 2560, one decode token)
 * in each dense format on the wasm backend: f32, int8 (W8A16) and int4 (W4A8), at 1 and 2 threads. The formats run
 * alternated round by round in one process (their order rotating), so a noisy machine slows all of them alike;
 * prints each format's median ms per token, the bytes it reads, GB/s, and its speed-up over f32 and int8.
 * The weight is a synthetic row source (a DenseRowSource), so no float32 copy of the table exists on the JS side.
 * Options (env): BENCH_OUT (rows, default 128256), BENCH_IN (default 2560), BENCH_THREADS (default "1,2"),
 * BENCH_SIMD (default "relaxed"; Node 20 gets relaxed SIMD from the V8 flag set below), BENCH_ROUNDS (default 21),
 * BENCH_FORMATS (default "f32,int8,int4").
 */
import { setFlagsFromString } from "node:v8";
setFlagsFromString("--experimental-wasm-relaxed-simd");
import { createBackend, type DenseFormat, type DenseRowSource, type PreparedDense } from "../src/index";
import { fillDenseWeights } from "./random-dense";

const OUT = Number(process.env.BENCH_OUT ?? 128256);
const IN = Number(process.env.BENCH_IN ?? 2560);
const THREADS = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
const SIMD = (process.env.BENCH_SIMD ?? "relaxed") as "relaxed" | "baseline";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const FORMATS = (process.env.BENCH_FORMATS ?? "f32,int8,int4").split(",") as DenseFormat[];

/**
 * Deterministic roughly-Gaussian rows (sum of 4 uniforms, σ ≈ 0.02), with an outlier every 997 values. Each row from
 * its own seed, so the weight is the same whatever chunks of rows the backend reads.
 */
function syntheticHead(rows: number, cols: number): DenseRowSource {
  return {
    rows,
    cols,
    readRows(start, count, out) {
      for (let r = 0; r < count; r++) fillDenseWeights(out.subarray(r * cols, (r + 1) * cols), (start + r) * 2654435761 + 1);
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const x = Float32Array.from({ length: IN }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 13 === 0 ? 6 : 0)));
console.log(`dense LM head ${OUT}×${IN}, 1 token, wasm ${SIMD} SIMD, ${ROUNDS} alternated rounds`);
for (const threads of THREADS) {
  const b = await createBackend("wasm", { threads, simd: SIMD });
  const source = syntheticHead(OUT, IN);
  const prepared = new Map<DenseFormat, PreparedDense>();
  for (const format of FORMATS) {
    const t0 = performance.now();
    prepared.set(format, b.prepareDense({ weight: source, outFeatures: OUT, inFeatures: IN, format }));
    console.log(`  prepared ${format} from the row source in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(prepared.get(format)!.bytes / 2 ** 20).toFixed(0)} MiB)`);
  }
  const y = new Float32Array(OUT);
  const run = (format: DenseFormat) => b.dense({ weight: prepared.get(format)!, x, tokens: 1, out: y });
  for (const format of FORMATS) for (let i = 0; i < 3; i++) run(format); // warm-up: V8 tiers the wasm up after use
  const samples = new Map<DenseFormat, number[]>(FORMATS.map((f) => [f, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < FORMATS.length; k++) {
      const format = FORMATS[(round + k) % FORMATS.length]!;
      const t0 = performance.now();
      run(format);
      samples.get(format)!.push(performance.now() - t0);
    }
  const ms = new Map(FORMATS.map((f) => [f, median(samples.get(f)!)]));
  console.log(`${threads} thread(s):`);
  for (const format of FORMATS) {
    const t = ms.get(format)!;
    const bytes = prepared.get(format)!.bytes;
    const vs = (base: DenseFormat) => (ms.has(base) && base !== format ? `  ×${(ms.get(base)! / t).toFixed(2)} vs ${base}` : "");
    console.log(`  ${format.padEnd(5)} ${t.toFixed(1).padStart(7)} ms  ${(bytes / 1e6).toFixed(0).padStart(5)} MB  ${(bytes / 1e6 / t).toFixed(1).padStart(5)} GB/s${vs("f32")}${vs("int8")}`);
  }
  b.dispose();
}
