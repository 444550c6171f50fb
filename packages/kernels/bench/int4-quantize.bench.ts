/**
 * `pnpm --filter @onebit/kernels bench:int4` — quantizing a dense weight to the int4 format at load (prepareDense):
 * the JS reference (js/dense-int4.ts quantizeInt4Rows, into its plain arrays and through the closure sinks the wasm
 * backend used to write its 80-byte groups with) against the wasm backend's q4_quantize (int4-quantize.wat.ts),
 * at 1 and 2 threads, alternated round by round in one process. Prints each one's median ns/weight (the wasm runs
 * write fresh memory each round, page faults included, as a model load does), and checks the wasm weights are the
 * reference's. The weight: 16384 × 2560 f32 (2B4T's LM head width, 1/8 of its 128256 rows), roughly Gaussian with
 * outliers. Options (env): BENCH_OUT (rows, default 16384), BENCH_IN (default 2560), BENCH_ROUNDS (default 5).
 */
import { createBackend } from "../src/index";
import { forEachDenseChunk, INT4_BLOCK } from "../src/js/dense";
import { quantizeDenseInt4, quantizeInt4Rows } from "../src/js/dense-int4";
import { fillDenseWeights } from "./random-dense";

const OUT = Number(process.env.BENCH_OUT ?? 16384);
const IN = Number(process.env.BENCH_IN ?? 2560);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const w = fillDenseWeights(new Float32Array(OUT * IN), 12345);

const blocks = IN / INT4_BLOCK;
const groups = Math.ceil(blocks / 4);
const rowStride = groups * 80;

/** The wasm backend's former prepareInt4: the reference writing the 80-byte groups through codeAt/scaleAt closures. */
function referenceIntoGroups(): Uint8Array {
  const codes = new Uint8Array(OUT * rowStride);
  const scales = new Float32Array(codes.buffer);
  const groupAt = (r: number, b: number) => r * rowStride + (b >> 2) * 80;
  const codeAt = (r: number, b: number) => groupAt(r, b) + (b & 3) * 16;
  const scaleAt = (r: number, b: number) => (groupAt(r, b) + 64) / 4 + (b & 3);
  forEachDenseChunk(w, OUT, IN, (r0, n, rows) =>
    quantizeInt4Rows(rows, n, IN, { codes, scales, codeAt: (r, b) => codeAt(r0 + r, b), scaleAt: (r, b) => scaleAt(r0 + r, b) }, r0),
  );
  return codes;
}

const wasm1 = await createBackend("wasm", { threads: 1, simd: "baseline" });
const wasm2 = await createBackend("wasm", { threads: 2, simd: "baseline" });
const runs: Record<string, () => void> = {
  "js reference, plain arrays": () => quantizeDenseInt4(w, OUT, IN),
  "js reference, 80-byte groups (before)": () => referenceIntoGroups(),
  "wasm q4_quantize, 1 thread": () => wasm1.prepareDense({ weight: w, outFeatures: OUT, inFeatures: IN, format: "int4" }),
  "wasm q4_quantize, 2 threads": () => wasm2.prepareDense({ weight: w, outFeatures: OUT, inFeatures: IN, format: "int4" }),
};

// the wasm weight checked against the reference once (through denseRows: the dequantized values, every row)
const ref = quantizeDenseInt4(w, OUT, IN);
const pw = wasm2.prepareDense({ weight: w, outFeatures: OUT, inFeatures: IN, format: "int4" });
const rows = wasm2.denseRows({ weight: pw, start: 0, count: OUT }) as Float32Array;
for (let o = 0; o < OUT; o++)
  for (let i = 0; i < IN; i++) {
    const b = o * blocks + Math.floor(i / 32);
    const byte = ref.codes[b * 16 + (i % 16)]!;
    const want = Math.fround(((i % 32 < 16 ? byte & 15 : byte >> 4) - 8) * ref.scales[b]!);
    if (!Object.is(rows[o * IN + i], want)) throw new Error(`row ${o}, column ${i}: wasm ${rows[o * IN + i]}, reference ${want}`);
  }

const names = Object.keys(runs);
const samples = new Map<string, number[]>(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++)
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length]!;
    const t0 = performance.now();
    runs[name]!();
    samples.get(name)!.push(performance.now() - t0);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`int4 weight quantization, ${OUT}×${IN} f32 (${((OUT * IN) / 1e6).toFixed(1)} M weights), ${ROUNDS} alternated rounds`);
for (const name of names) {
  const ms = median(samples.get(name)!);
  console.log(`  ${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1e6) / (OUT * IN)).toFixed(2).padStart(6)} ns/weight`);
}
wasm1.dispose();
wasm2.dispose();
