/**
 * `pnpm --filter @onebit/kernels bench:lut` — ternary prefill on the wasm backend (relaxed SIMD, onebit-t2): the
 * table-lookup GEMM (src/wasm/t2-gemm-lut.wat.ts) against the 4-token kernel t2_dot_4r it replaces for ≥ 12 tokens,
 * on the BitNet b1.58 2B4T shapes, 6912×2560 (gate/up), 2560×6912 (down), 3840×2560 (q·k·v) and 2560×2560 (o),
 * N = 16, 32 and 128 tokens, 1 and 2 threads. One backend, one prepared weight: the two paths differ only in the
 * dispatch switch (bit-linear-ops.ts `ternaryGemmLut`), flipped sample by sample (their order swapped every sample),
 * so a noisy machine slows both alike. Printed: medians of each, median(t2_dot_4r) / median(LUT) and the median of the
 * per-sample ratios (> 1: the LUT faster). The two must give identical outputs first.
 * Options (env): BENCH_THREADS (default "1,2"), BENCH_TOKENS (default "16,32,128"), BENCH_SAMPLES (default 21),
 * BENCH_BASELINE: "dot4" (default: t2_dot_4r against the LUT GEMM as the backend picks its rows' layout) or "t2"
 * (the LUT GEMM over the weight's t2 rows against the same over them transcoded to tri5, both forced:
 * tri5-layout.wat.ts; the transcoding is timed with it), BENCH_WIDTH (64, 32 or 16: the widest tile; default any).
 * The backend's tuner (lut-tuner.ts) is off: each case runs the variant asked for.
 */
import { setFlagsFromString } from "node:v8";
setFlagsFromString("--experimental-wasm-relaxed-simd");
import { createBackend, type QuantizedActivations } from "../src/index";
import { ternaryGemmLut } from "../src/wasm/bit-linear-ops";
import { randomT2 } from "./random-ternary";
import { printMarkdownTable } from "./markdown-table";

const THREADS = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
const TOKENS = (process.env.BENCH_TOKENS ?? "16,32,128").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 21);
const BASELINE = process.env.BENCH_BASELINE ?? "dot4";
if (BASELINE !== "dot4" && BASELINE !== "t2") throw new Error(`BENCH_BASELINE: expected "dot4" or "t2", got ${JSON.stringify(BASELINE)}`);
ternaryGemmLut.tune = false;
if (process.env.BENCH_WIDTH) {
  const width = Number(process.env.BENCH_WIDTH);
  if (width !== 64 && width !== 32 && width !== 16) throw new Error(`BENCH_WIDTH: expected 64, 32 or 16, got ${JSON.stringify(process.env.BENCH_WIDTH)}`);
  ternaryGemmLut.width = width;
}
const [BASE_NAME, LUT_NAME] = BASELINE === "dot4" ? ["t2_dot_4r", "LUT"] : ["LUT over t2", "LUT over tri5"];
const SHAPES: Array<[string, number, number]> = [
  ["6912×2560 (gate/up)", 6912, 2560],
  ["2560×6912 (down)", 2560, 6912],
  ["3840×2560 (q·k·v)", 3840, 2560],
  ["2560×2560 (o)", 2560, 2560],
];

function randomActs(tokens: number, features: number, seed: number): QuantizedActivations {
  const codes = Int8Array.from({ length: tokens * features }, (_, i) => (((i + seed) * 2654435761) >>> 24) - 128);
  return { tokens, features, codes, scales: new Float32Array(tokens).fill(0.01), groups: 1, bits: 8 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main() {
  const os = await import("node:os");
  console.log(
    `onebit t2 prefill: table-lookup GEMM vs t2_dot_4r — ${new Date().toISOString()} — node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model}), load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(`relaxed SIMD, ${SAMPLES} alternated samples per case, ${BASE_NAME} against ${LUT_NAME}; ratio > 1: ${LUT_NAME} faster\n`);
  const rows: string[][] = [];
  for (const threads of THREADS) {
    const b = await createBackend("wasm", { threads, simd: "relaxed" });
    for (const [label, out, inF] of SHAPES) {
      const weight = b.prepareWeight({ weight: randomT2(out, inF, out + inF) });
      for (const tokens of TOKENS) {
        const x = randomActs(tokens, inF, tokens);
        const y = new Float32Array(tokens * out);
        const run = (lut: boolean) => {
          if (BASELINE === "dot4") ternaryGemmLut.enabled = lut;
          else ternaryGemmLut.tri5 = lut ? "on" : "off";
          const t0 = performance.now();
          b.bitLinear({ weight, input: x, out: y });
          return performance.now() - t0;
        };
        // identical outputs before anything is timed
        run(false);
        const want = y.slice();
        run(true);
        if (y.some((v, i) => !Object.is(v, want[i]))) throw new Error(`${label}, ${tokens} tokens: ${LUT_NAME}'s output differs from ${BASE_NAME}'s`);
        const warmEnd = performance.now() + 300; // V8 tiers wasm up after use, in every worker too
        while (performance.now() < warmEnd) {
          run(false);
          run(true);
        }
        const old: number[] = [];
        const lut: number[] = [];
        const ratios: number[] = [];
        for (let i = 0; i < SAMPLES; i++) {
          const ms = i % 2 ? { lut: run(true), old: run(false) } : { old: run(false), lut: run(true) };
          old.push(ms.old);
          lut.push(ms.lut);
          ratios.push(ms.old / ms.lut);
        }
        const o = median(old);
        const l = median(lut);
        const gmacs = (ms: number) => ((out * inF * tokens) / (ms * 1e6)).toFixed(1);
        rows.push([label, String(tokens), String(threads), o.toFixed(2), l.toFixed(2), gmacs(o), gmacs(l), (o / l).toFixed(2), median(ratios).toFixed(2)]);
        console.log(`  ${label}, ${tokens} tokens, ${threads} thread(s): ${BASE_NAME} ${o.toFixed(2)} ms, ${LUT_NAME} ${l.toFixed(2)} ms → ×${(o / l).toFixed(2)} (paired ×${median(ratios).toFixed(2)})`);
      }
    }
    ternaryGemmLut.enabled = true;
    ternaryGemmLut.tri5 = "auto";
    b.dispose();
  }
  const header = ["shape", "tokens", "threads", `${BASE_NAME} ms`, `${LUT_NAME} ms`, `${BASE_NAME} GMAC/s`, `${LUT_NAME} GMAC/s`, "speed-up (medians)", "speed-up (paired)"];
  printMarkdownTable(header, rows);
}

await main();
