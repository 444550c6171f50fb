/**
 * `pnpm --filter @onebit/kernels bench:t1` — ternary BitLinear with weights placed as onebit-t1 (1.6 bits/weight,
 * wasm/t1-dot.wat.ts) against onebit-t2 (2 bits/weight), on the BitNet b1.58 2B4T shapes (hidden 2560, 20 query
 * and 5 KV heads of 128, FFN 6912, 30 layers), one decode token:
 *   - GEMV 6912×2560 (gate/up) and 2560×6912 (down), in cache (one matrix, again and again: 3.5–4.4 MB, inside
 *     the 32 MB L3 of the machines we measure on) and cycled (every such matrix of the 30 layers in turn: 60 or 30
 *     distinct matrices, 133–265 MB of t2, far past L3, so the weights stream from DRAM as in decode);
 *   - the whole per-token ternary set: the 210 projections of 30 layers (q, k, v, o, gate, up, down), 521 MB in
 *     t2, 417 MB in t1, each with its own activations, in model order;
 *   - and for comparison a prefill-sized GEMM (6912×2560, 16 tokens, in cache), where the decode is amortised.
 * The two layouts live in two backends of the same kind (threads, SIMD) in one process and run alternated sample
 * by sample (their order swapped every sample), so a noisy machine slows both alike; the ratio is median(t1) /
 * median(t2), and beside it the median of the per-sample ratios (< 1: t1 faster).
 * Options (env): BENCH_THREADS (default "1,2"), BENCH_SIMD (default "relaxed"; Node 20 gets relaxed SIMD from the
 * V8 flag set below), BENCH_SAMPLES (default 31 per case), BENCH_LAYERS (default 30), BENCH_PREFILL (tokens of the
 * prefill case, default 16).
 */
import { setFlagsFromString } from "node:v8";
setFlagsFromString("--experimental-wasm-relaxed-simd");
import { t1RowBytes, t2RowBytes } from "@onebit/quant";
import { type Backend, createBackend, type PreparedWeight, type QuantizedActivations } from "../src/index";
import { randomT2 } from "./random-ternary";
import { printMarkdownTable } from "./markdown-table";

const THREADS = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
const SIMD = (process.env.BENCH_SIMD ?? "relaxed") as "relaxed" | "baseline";
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 31);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 30);
const PREFILL = Number(process.env.BENCH_PREFILL ?? 16);
const HIDDEN = 2560;
const KV = 640;
const FFN = 6912;
/** One layer's projections [out, in] in execution order. */
const LAYER: Array<[string, number, number]> = [
  ["q", HIDDEN, HIDDEN], ["k", KV, HIDDEN], ["v", KV, HIDDEN], ["o", HIDDEN, HIDDEN],
  ["gate", FFN, HIDDEN], ["up", FFN, HIDDEN], ["down", HIDDEN, FFN],
];

/** Random t2 bytes: every byte four codes in {0, 1, 2} (zero weights a third of the time, as in trained b1.58). */
function randomActs(features: number, seed: number, tokens = 1): QuantizedActivations {
  const codes = Int8Array.from({ length: tokens * features }, (_, i) => (((i + seed) * 2654435761) >>> 24) - 128);
  return { tokens, features, codes, scales: new Float32Array(tokens).fill(0.01), groups: 1, bits: 8 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One weight as both backends hold it, with its activations and output buffer. */
interface Pair {
  shape: string;
  t1: PreparedWeight;
  t2: PreparedWeight;
  x: QuantizedActivations;
  out: Float32Array;
}

/** A case: a list of BitLinear calls (one sample runs them all once). */
function runAll(backend: Backend, items: Pair[], which: "t1" | "t2"): void {
  for (const p of items) backend.bitLinear({ weight: p[which], input: p.x, out: p.out });
}

/** Alternate t1 and t2 sample by sample; returns medians (ms) and the median per-sample ratio. */
function abTime(b1: Backend, b2: Backend, items: Pair[], samples: number): { t1: number; t2: number; ratio: number } {
  const warmEnd = performance.now() + 300; // V8 tiers wasm up after use, in every worker too
  while (performance.now() < warmEnd) {
    runAll(b1, items, "t1");
    runAll(b2, items, "t2");
  }
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < samples; i++) {
    const order: Array<"t1" | "t2"> = i % 2 ? ["t2", "t1"] : ["t1", "t2"];
    const ms: Record<string, number> = {};
    for (const which of order) {
      const t0 = performance.now();
      runAll(which === "t1" ? b1 : b2, items, which);
      ms[which] = performance.now() - t0;
    }
    a.push(ms.t1!);
    b.push(ms.t2!);
    ratios.push(ms.t1! / ms.t2!);
  }
  return { t1: median(a), t2: median(b), ratio: median(ratios) };
}

async function main() {
  const os = await import("node:os");
  console.log(`onebit t1 vs t2 — ${new Date().toISOString()} — node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model}), load ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(`${SIMD} SIMD, ${LAYERS} layers, ${SAMPLES} alternated samples per case; ratio < 1: t1 faster\n`);
  // one random matrix per shape; each layer's copy is placed separately (distinct memory), as a model's are
  const sources = new Map(LAYER.map(([, out, inF], i) => [`${out}x${inF}`, randomT2(out, inF, i + 1)]));
  const rows: string[][] = [];
  for (const threads of THREADS) {
    const b1 = await createBackend("wasm", { threads, simd: SIMD, ternaryLayout: "t1" });
    const b2 = await createBackend("wasm", { threads, simd: SIMD, ternaryLayout: "t2" });
    const t0 = performance.now();
    const model: Pair[] = [];
    for (let l = 0; l < LAYERS; l++)
      for (const [name, out, inF] of LAYER) {
        const w = sources.get(`${out}x${inF}`)!;
        model.push({ shape: name, t1: b1.prepareWeight({ weight: w }), t2: b2.prepareWeight({ weight: w }), x: randomActs(inF, l * 7 + out), out: new Float32Array(out) });
      }
    console.log(`threads ${threads}: placed ${model.length} projections in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // the two layouts must agree before they are timed
    for (const p of model.slice(0, LAYER.length)) {
      const y1 = b1.bitLinear({ weight: p.t1, input: p.x }) as Float32Array;
      const y2 = b2.bitLinear({ weight: p.t2, input: p.x }) as Float32Array;
      if (y1.some((v, i) => !Object.is(v, y2[i]))) throw new Error(`${p.shape}: t1 and t2 results differ`);
    }
    const bytes = (items: Pair[], which: "t1" | "t2") =>
      items.reduce((n, p) => n + p[which].outFeatures * (which === "t1" ? t1RowBytes(p[which].inFeatures) : t2RowBytes(p[which].inFeatures)), 0);
    const cases: Array<[string, string, Pair[]]> = [];
    for (const [label, name] of [["6912×2560 (gate/up)", "gate"], ["2560×6912 (down)", "down"]] as const) {
      const all = model.filter((p) => p.shape === name || (name === "gate" && p.shape === "up"));
      cases.push([label, "in cache", [all[0]!]], [label, `cycled ×${all.length}`, all]);
    }
    cases.push([`per-token set (${model.length} GEMVs)`, "cycled", model]);
    // prefill for comparison (the 4-token kernels, decode amortised over the tokens)
    const gate = model.find((p) => p.shape === "gate")!;
    cases.push([`6912×2560, ${PREFILL} tokens`, "in cache", [{ ...gate, x: randomActs(HIDDEN, 1, PREFILL), out: new Float32Array(PREFILL * FFN) }]]);
    for (const [label, cache, items] of cases) {
      const r = abTime(b1, b2, items, SAMPLES);
      const per = items.length;
      const gbps = (which: "t1" | "t2", ms: number) => (bytes(items, which) / (ms * 1e6)).toFixed(1);
      rows.push([
        label, cache, String(threads),
        ((r.t2 * 1000) / per).toFixed(0), ((r.t1 * 1000) / per).toFixed(0),
        gbps("t2", r.t2), gbps("t1", r.t1),
        (r.t1 / r.t2).toFixed(3), r.ratio.toFixed(3),
      ]);
      console.log(`  ${label}, ${cache}: t2 ${r.t2.toFixed(2)} ms, t1 ${r.t1.toFixed(2)} ms per sample → t1/t2 ${(r.t1 / r.t2).toFixed(3)} (paired ${r.ratio.toFixed(3)})`);
    }
    b1.dispose();
    b2.dispose();
  }
  const header = ["shape", "weights", "threads", "t2 µs/call", "t1 µs/call", "t2 GB/s", "t1 GB/s", "t1/t2 (medians)", "t1/t2 (paired)"];
  printMarkdownTable(header, rows);
}

await main();
