/**
 * `pnpm bench:model` — the BitNet b1.58 2B4T shape with random ternary weights on the wasm backend: prefill
 * tokens/s for a 128-token prompt, decode tokens/s (median step), resident memory, at 1 and 2 threads and with an
 * f32 and an int8 (W8A16) LM head, in one process (the first row is the baseline of the ratio column).
 * Options (env): BENCH_PRESET (default bitnet-b1.58-2B-4T; any preset name), BENCH_PROMPT (128), BENCH_DECODE (32),
 * BENCH_THREADS (comma list, default "1,2"), BENCH_LM_HEAD (comma list of f32 | int8, default "f32,int8"),
 * BENCH_KV_BITS (32), BENCH_SIMD (auto | baseline | relaxed; auto = relaxed).
 */
import { cpus } from "node:os";
import { setFlagsFromString } from "node:v8";
import { createBackend, type DenseFormat } from "@onebit/kernels";
import type { KvBits } from "@onebit/kv";
import { benchmarkModel, parameterCounts, presetByName, randomPackedWeights, runtimeReport, Transformer } from "../src/index";

const presetName = process.env.BENCH_PRESET ?? "bitnet-b1.58-2B-4T";
const promptTokens = Number(process.env.BENCH_PROMPT ?? 128);
const decodeTokens = Number(process.env.BENCH_DECODE ?? 32);
const threadCounts = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
const kvBits = Number(process.env.BENCH_KV_BITS ?? 32) as KvBits;
const lmHeads = (process.env.BENCH_LM_HEAD ?? "f32,int8").split(",") as DenseFormat[];

// relaxed SIMD kernels (on by default from Node 22; a flag on Node 20). BENCH_SIMD=baseline compares.
setFlagsFromString("--experimental-wasm-relaxed-simd");
const simd = (process.env.BENCH_SIMD ?? "auto") as "auto" | "baseline" | "relaxed";
const spec = presetByName(presetName);
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`model benchmark: ${presetName} (${(parameterCounts(spec).total / 1e9).toFixed(2)} B parameters), random ${spec.onebit.variant} weights`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}; prompt ${promptTokens} tokens, ${decodeTokens} decode steps, KV ${kvBits}-bit\n`);
const t0 = performance.now();
const weights = randomPackedWeights(spec, 1);
console.log(`weights generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const rows: string[][] = [];
let baseline = 0;
for (const threads of threadCounts)
  for (const lmHead of lmHeads) {
    const backend = await createBackend("wasm", { threads, simd });
    const model = new Transformer(spec, weights, { backend, lmHead });
    benchmarkModel(model, { promptTokens: 8, decodeTokens: 2, kvBits }); // warm-up: pages weights in, compiles
    const r = benchmarkModel(model, { promptTokens, decodeTokens, kvBits });
    const mem = runtimeReport(model).memory;
    if (!baseline) baseline = r.decodeTokensPerSecond;
    rows.push([
      String(threads),
      backend.simd ?? "-",
      lmHead,
      r.prefillTokensPerSecond.toFixed(1),
      r.decodeMsMedian.toFixed(1),
      r.decodeTokensPerSecond.toFixed(2),
      `${(r.decodeTokensPerSecond / baseline).toFixed(2)}×`,
      mb(mem.attention + mem.ffn),
      mb(mem.embeddings),
      mb(mem.lmHead),
      mb(r.residentBytes),
    ]);
    console.log(`  done: ${threads} thread(s), ${lmHead} LM head — decode ${r.decodeTokensPerSecond.toFixed(2)} tokens/s`);
    backend.dispose();
  }
const header = ["threads", "simd", "LM head", "prefill tok/s", "decode ms/tok", "decode tok/s", "vs first row", "ternary MB", "embed MB", "LM head MB", "RSS MB"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${rows.map(line).join("\n")}`);
