/**
 * `pnpm --filter @onebit/kernels bench:panels` — a weight whose inputs are mostly zero (a ReLU²GLU down projection,
 * 2560×6912 in BitNet b1.58 2B4T) placed as column panels (`prepareWeight({ sparseInputs: true })`,
 * src/wasm/column-panels.wat.ts) against the same weight as t2 rows, on the wasm backend with relaxed SIMD. One
 * token at several densities of non-zero inputs (the panels read only those columns), and a prompt (the panels give
 * their rows back first: straight to tri5, or to t2). Each sample cycles BENCH_WEIGHTS distinct weights (out of
 * cache, as in a model), the two placements alternated sample by sample; printed: medians and panels / rows (< 1:
 * the panels faster). The two must give identical outputs first.
 * Options (env): BENCH_THREADS (default "1,2"), BENCH_DENSITIES (non-zero fraction of the inputs, default
 * "1,0.5,0.25,0.1"), BENCH_TOKENS (the prompt, default 128; 0 skips it), BENCH_SAMPLES (default 15), BENCH_WEIGHTS
 * (default 12).
 */
import { setFlagsFromString } from "node:v8";
setFlagsFromString("--experimental-wasm-relaxed-simd");
import { createBackend, type PreparedWeight, type QuantizedActivations } from "../src/index";
import { printMarkdownTable } from "./markdown-table";
import { randomT2 } from "./random-ternary";

const THREADS = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
const DENSITIES = (process.env.BENCH_DENSITIES ?? "1,0.5,0.25,0.1").split(",").map(Number);
const PROMPT = Number(process.env.BENCH_TOKENS ?? 128);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const WEIGHTS = Number(process.env.BENCH_WEIGHTS ?? 12);
const OUT = 2560;
const IN = 6912;

/** int8 activations with `density` of them non-zero (xorshift32 from `seed`). */
function sparseActs(tokens: number, density: number, seed: number): QuantizedActivations {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const codes = Int8Array.from({ length: tokens * IN }, () => (next() < density ? Math.floor(next() * 255) - 127 : 0));
  return { tokens, features: IN, codes, scales: new Float32Array(tokens).fill(0.01), groups: 1, bits: 8 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`column panels against t2 rows, ${OUT}×${IN}, ${WEIGHTS} weights cycled, ${SAMPLES} alternated samples; Node ${process.version}`);
const rows: string[][] = [];
for (const threads of THREADS) {
  const backend = await createBackend("wasm", { threads, simd: "relaxed" });
  const packed = Array.from({ length: WEIGHTS }, (_, i) => randomT2(OUT, IN, i + 1));
  const asRows = packed.map((weight) => backend.prepareWeight({ weight }));
  const asPanels = packed.map((weight) => backend.prepareWeight({ weight, sparseInputs: true }));
  const cases: Array<[string, QuantizedActivations]> = DENSITIES.map((d, i) => [`1 token, ${Math.round(d * 100)} % non-zero`, sparseActs(1, d, 11 + i)]);
  if (PROMPT > 0) cases.push([`${PROMPT} tokens, 50 % non-zero`, sparseActs(PROMPT, 0.5, 7)]);
  for (const [what, x] of cases) {
    const y = new Float32Array(x.tokens * OUT);
    const run = (ws: PreparedWeight[], i: number) => backend.bitLinear({ weight: ws[i % WEIGHTS]!, input: x, out: y });
    const a = Float32Array.from(run(asRows, 0) as Float32Array);
    const b = run(asPanels, 0) as Float32Array;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`${what}, ${threads} thread(s): output ${i} differs (${b[i]} against ${a[i]})`);
    // calls per sample: about 10 ms of work
    const calls = x.tokens === 1 ? 32 : 1;
    const times: Record<"rows" | "panels", number[]> = { rows: [], panels: [] };
    for (let s = 0; s < SAMPLES; s++)
      for (const k of s % 2 ? (["panels", "rows"] as const) : (["rows", "panels"] as const)) {
        const ws = k === "rows" ? asRows : asPanels;
        const t0 = performance.now();
        for (let c = 0; c < calls; c++) run(ws, s * calls + c);
        times[k].push(((performance.now() - t0) * 1000) / calls);
      }
    const r = median(times.rows);
    const p = median(times.panels);
    rows.push([String(threads), what, r.toFixed(0), p.toFixed(0), (p / r).toFixed(3)]);
    console.log(`  done: ${threads} thread(s), ${what}`);
  }
  backend.dispose();
}
printMarkdownTable(["threads", "input", "t2 rows µs", "column panels µs", "panels / rows"], rows);
