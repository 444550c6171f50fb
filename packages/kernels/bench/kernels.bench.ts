/**
 * `pnpm bench:kernels` — ternary BitLinear on the BitNet b1.58 2B4T FFN shapes against the f32 matmul a user
 * would otherwise pick (@tensorflow/tfjs-backend-wasm), in one process. Prints µs/op (median), weight GB/s,
 * GFLOP/s-equivalent (2·out·in·N per op) and the speed-up over the baseline.
 * Both wasm kernel sets run: baseline SIMD and relaxed SIMD (Node 20 has relaxed SIMD behind a V8 flag, set
 * below; Node 22+ and Chrome 114+ have it on by default); the "× baseline SIMD" column compares them.
 * Options (env): BENCH_QUICK=1 (fewer shapes/repeats), BENCH_COLD_MB (default 640: distinct matrices cycled for
 * the out-of-cache case), BENCH_SIMD (default "baseline,relaxed"), BENCH_THREADS (default "1,2").
 */
import { setFlagsFromString } from "node:v8";
setFlagsFromString("--experimental-wasm-relaxed-simd");
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { type Backend, createBackend, type QuantizedActivations } from "../src/index";
import { randomT2 } from "./random-ternary";
import { t2RowBytes } from "@onebit/quant";

const quick = process.env.BENCH_QUICK === "1";
const coldMB = Number(process.env.BENCH_COLD_MB ?? 640);

function randomActs(tokens: number, features: number): QuantizedActivations {
  const codes = Int8Array.from({ length: tokens * features }, (_, i) => ((i * 2654435761) >>> 24) - 128);
  return { tokens, features, codes, scales: new Float32Array(tokens).fill(0.01), groups: 1, bits: 8 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, minMs: number, minReps: number): number {
  // warm up for 200 ms: wasm code (also each worker's) starts in V8's baseline tier and is optimised after use
  const warmEnd = performance.now() + 200;
  do fn();
  while (performance.now() < warmEnd);
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minReps || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples) * 1000;
}

async function baselineUs(out: number, inF: number, tokens: number): Promise<number> {
  const w = tf.randomNormal([out, inF], 0, 0.02, "float32");
  const x = tf.randomNormal([tokens, inF], 0, 1, "float32");
  const us = time(() => tf.tidy(() => tf.matMul(x, w, false, true).dataSync()), quick ? 300 : 1000, 5);
  w.dispose();
  x.dispose();
  return us;
}

interface Row {
  shape: string;
  tokens: number;
  threads: number;
  simd: "baseline" | "relaxed";
  cache: "in" | "out";
  us: number;
  gbps: number;
  gflops: number;
  vsBaseline: number;
}

async function main() {
  await tf.setBackend("wasm");
  await tf.ready();
  const shapes: Array<[number, number]> = [
    [6912, 2560],
    [2560, 6912],
  ];
  const tokenCounts = quick ? [1, 32] : [1, 32, 128];
  const threadCounts = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
  const simds = (process.env.BENCH_SIMD ?? "baseline,relaxed").split(",") as Array<"baseline" | "relaxed">;
  const rows: Row[] = [];
  const baseline = new Map<string, number>();
  console.log(`onebit kernels benchmark — ${new Date().toISOString()} — node ${process.version}, ${(await import("node:os")).availableParallelism()} cores`);
  console.log("baseline: @tensorflow/tfjs-backend-wasm f32 matMul (its own threads/SIMD defaults), same shape and tokens\n");
  for (const [out, inF] of shapes)
    for (const tokens of tokenCounts) baseline.set(`${out}x${inF}/${tokens}`, await baselineUs(out, inF, tokens));

  for (const threads of threadCounts)
  for (const simd of simds) {
    const backend: Backend = await createBackend("wasm", { threads, simd });
    for (const [out, inF] of shapes) {
      const hot = backend.prepareWeight({ weight: randomT2(out, inF, 1) });
      const bytes = out * t2RowBytes(inF);
      const coldCount = Math.max(2, Math.ceil((coldMB * 2 ** 20) / bytes));
      const cold = threads === 1 || !quick ? Array.from({ length: coldCount }, (_, i) => backend.prepareWeight({ weight: randomT2(out, inF, i + 2) })) : [];
      for (const tokens of tokenCounts) {
        const x = randomActs(tokens, inF);
        const outBuf = new Float32Array(tokens * out);
        const flops = 2 * out * inF * tokens;
        const record = (cache: "in" | "out", us: number) => {
          const base = baseline.get(`${out}x${inF}/${tokens}`)!;
          rows.push({ shape: `${out}×${inF}`, tokens, threads, simd, cache, us, gbps: bytes / (us * 1e3), gflops: flops / (us * 1e3), vsBaseline: base / us });
        };
        record("in", time(() => backend.bitLinear({ weight: hot, input: x, out: outBuf }), quick ? 300 : 1000, 10));
        if (cold.length && (tokens === 1 || !quick)) {
          let i = 0;
          record("out", time(() => backend.bitLinear({ weight: cold[i++ % cold.length]!, input: x, out: outBuf }), quick ? 500 : 1500, cold.length));
        }
      }
    }
    backend.dispose();
  }
  const header = ["shape", "N", "threads", "simd", "weights", "µs/op", "weight GB/s", "GFLOP/s-eq", "tfjs f32 µs", "× tfjs", "× baseline SIMD"];
  const body = rows.map((r) => {
    const same = rows.find((b) => b.simd === "baseline" && b.shape === r.shape && b.tokens === r.tokens && b.threads === r.threads && b.cache === r.cache);
    return [
      r.shape, String(r.tokens), String(r.threads), r.simd, r.cache === "in" ? "in cache" : `cycled ${coldMB} MB`, r.us.toFixed(0), r.gbps.toFixed(2), r.gflops.toFixed(1),
      baseline.get(`${r.shape.replace("×", "x")}/${r.tokens}`)!.toFixed(0), r.vsBaseline.toFixed(1), same ? (same.us / r.us).toFixed(2) : "-",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padStart(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const b of body) console.log(line(b));
}

await main();
