/**
 * `pnpm bench:model` — the BitNet b1.58 2B4T shape with random ternary weights on the wasm backend: prefill
 * tokens/s for a 128-token prompt, decode tokens/s (median step), resident memory, at 1 and 2 threads and with the
 * int4 LM head `onebit generate` uses by default (or the heads BENCH_LM_HEAD names), in one process (the first row is
 * the baseline of the ratio column). The package
 * script runs it with `--max-semi-space-size=1`, as the CLI runs a model (apps/cli/src/launch/young-generation.ts).
 * Options (env): BENCH_PRESET (default bitnet-b1.58-2B-4T; any preset name), BENCH_PROMPT (128), BENCH_DECODE (32),
 * BENCH_THREADS (comma list, default "1,2"), BENCH_LM_HEAD (comma list of int4 | int8 | f32, default "int4"),
 * BENCH_KV_BITS (32), BENCH_SIMD (auto | baseline | relaxed; auto = relaxed), BENCH_WARMUP (untimed decode steps before
 * each timed run, default 64, then one untimed prompt of BENCH_PROMPT tokens, as llama-bench warms up; 0 keeps only
 * the 8-token prompt and 2 steps that page the weights in).
 * BENCH_MODEL=<file or folder>: benchmark that model (a .gguf, Hugging Face or onebit folder) instead of a preset.
 * LLAMA_BENCH=<path to llama-bench> (llama.cpp's or bitnet.cpp's, built beside the project, never vendored; needs
 * BENCH_MODEL to be a .gguf; several as `label=path,label=path`): also run that engine on the same file, prompt and
 * threads in the same run, alternating rounds with onebit's (BENCH_ROUNDS, default 3; onebit with the first
 * BENCH_LM_HEAD), and print medians and onebit's tokens/s as a ratio of the engine's; before anything else, the load
 * time of each (engine-load.ts: onebit's from its built CLI, apps/cli/dist) and onebit's time as a ratio of the engine's.
 */
import { cpus } from "node:os";
import { setFlagsFromString } from "node:v8";
import { createBackend, type DenseFormat } from "@onebit/kernels";
import type { KvBits } from "@onebit/kv";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { engineLoadSeconds, ONEBIT_CLI, onebitFreshRun } from "./engine-load";
import { benchmarkModel, openModel, parameterCounts, presetByName, randomPackedWeights, runtimeReport, Transformer } from "../src/index";

const presetName = process.env.BENCH_PRESET ?? "bitnet-b1.58-2B-4T";
const promptTokens = Number(process.env.BENCH_PROMPT ?? 128);
const decodeTokens = Number(process.env.BENCH_DECODE ?? 32);
const threadCounts = (process.env.BENCH_THREADS ?? "1,2").split(",").map(Number);
const kvBits = Number(process.env.BENCH_KV_BITS ?? 32) as KvBits;
const LM_HEADS: readonly DenseFormat[] = ["int4", "int8", "f32"];
const lmHeads = (process.env.BENCH_LM_HEAD ?? "int4").split(",").map((h) => {
  const head = LM_HEADS.find((f) => f === h);
  if (!head) throw new Error(`BENCH_LM_HEAD: expected a comma list of ${LM_HEADS.join(", ")}, found ${JSON.stringify(h)}`);
  return head;
});
// untimed decode steps before each timed run: V8 optimises a step's JavaScript (the model's ops, the pool's job
// loop on every thread) over the first ≈ 40 steps — measured on the 2B4T file, 2 threads: 33–35 ms a step for the
// first 40, then 28 — and llama-bench runs a warm-up too. BENCH_WARMUP=0 times a cold start.
const warmupSteps = Number(process.env.BENCH_WARMUP ?? 64);
// llama-bench also runs the test's prompt once, untimed, before it measures: so does the warm-up here when steps are
// asked for (measured on the 2B4T file, 2 threads: the first 128-token prompt of a fresh backend took 1455–1585 ms —
// its workspace and scratch paged in, its worker's job loop still cold — and the next ones 1395–1466 ms)
const warmUp = (model: Transformer) => {
  const steps = Math.min(warmupSteps, model.spec.max_position_embeddings - 8);
  benchmarkModel(model, { promptTokens: 8, decodeTokens: Math.max(2, steps), kvBits }); // also pages weights in
  if (warmupSteps > 0 && promptTokens > 8) benchmarkModel(model, { promptTokens, decodeTokens: 1, kvBits });
};

// relaxed SIMD kernels (on by default from Node 22; a flag on Node 20). BENCH_SIMD=baseline compares.
setFlagsFromString("--experimental-wasm-relaxed-simd");
const simd = (process.env.BENCH_SIMD ?? "auto") as "auto" | "baseline" | "relaxed";
const modelPath = process.env.BENCH_MODEL;
const llamaBench = process.env.LLAMA_BENCH;
if (llamaBench && !modelPath?.endsWith(".gguf")) throw new Error("LLAMA_BENCH needs BENCH_MODEL=<a .gguf file>: both engines run the same file");
// load times first, while this process holds no model: each load is a fresh process's (engine-load.ts)
const loads = llamaBench && modelPath ? measureLoads(llamaBench, modelPath) : undefined;
const opened = modelPath ? await openModel(modelPath) : undefined;
const spec = opened?.spec ?? presetByName(presetName);
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`model benchmark: ${modelPath ?? presetName} (${(parameterCounts(spec).total / 1e9).toFixed(2)} B parameters), ${opened ? "" : "random "}${spec.onebit.variant} weights`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}; prompt ${promptTokens} tokens, ${decodeTokens} decode steps, KV ${kvBits}-bit\n`);
const t0 = performance.now();
const weights = opened?.weights ?? randomPackedWeights(spec, 1);
// (a file's TQ2_0/I2_S projections and quantized tables are read as each backend places them: not in this time)
console.log(`weights ${opened ? "opened" : "generated"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const rows: string[][] = [];
const ours = new Map<number, { prefill: number; decode: number }>(); // threads → best tokens/s over LM heads
let baseline = 0;
for (const threads of threadCounts)
  for (const lmHead of lmHeads) {
    const backend = await createBackend("wasm", { threads, simd });
    const model = new Transformer(spec, weights, { backend, lmHead });
    warmUp(model);
    const r = benchmarkModel(model, { promptTokens, decodeTokens, kvBits });
    const mem = runtimeReport(model).memory;
    if (!baseline) baseline = r.decodeTokensPerSecond;
    const best = ours.get(threads);
    ours.set(threads, { prefill: Math.max(best?.prefill ?? 0, r.prefillTokensPerSecond), decode: Math.max(best?.decode ?? 0, r.decodeTokensPerSecond) });
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

if (llamaBench && modelPath) await compareWithEngines(llamaBench, modelPath, loads!);

/** LLAMA_BENCH's engines: `label=path` or a bare path (its own label), comma-separated. */
function engineList(engines: string): Array<[label: string, bin: string]> {
  return engines.split(",").map((entry) => (entry.includes("=") ? (entry.split("=", 2) as [string, string]) : [entry, entry]));
}

/** Load times (seconds, per round) of the engine and of onebit, and onebit's peak resident bytes over its fresh runs. */
interface FreshRuns {
  engine: number[];
  onebit: number[];
  onebitRss: number;
}

/**
 * Load times (engine-load.ts), before anything else runs: per engine and thread count, BENCH_ROUNDS rounds of the
 * engine's load then onebit's, each in a fresh process — onebit's also runs the benchmark's prompt and steps, for its
 * resident memory with one model. Keyed `label threads`; onebit's are empty where its CLI is not built (said here).
 */
function measureLoads(engines: string, file: string): Map<string, FreshRuns> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const out = new Map<string, FreshRuns>();
  for (const [label, bin] of engineList(engines)) {
    for (const threads of threadCounts) {
      const m: FreshRuns = { engine: [], onebit: [], onebitRss: 0 };
      for (let r = 0; r < rounds; r++) {
        const e = engineLoadSeconds(bin, file, threads);
        m.engine.push(e.seconds);
        const ours = onebitFreshRun(file, threads, lmHeads[0]!, promptTokens, decodeTokens);
        if (ours !== undefined) {
          m.onebit.push(ours.loadSeconds);
          m.onebitRss = Math.max(m.onebitRss, ours.rssBytes);
        }
        if (r === 0) console.log(`load time, ${label}, ${threads} thread(s): ${e.tool}${ours === undefined ? `; onebit's not measured — ${ONEBIT_CLI} is not built (pnpm build)` : ""}`);
      }
      out.set(`${label} ${threads}`, m);
    }
  }
  return out;
}

/**
 * The native engines on the same file, prompt length and thread counts, in this run: per thread count, `rounds`
 * rounds that alternate the engine's `llama-bench -r 1` with onebit's benchmark (a fresh backend and Transformer each
 * round, warmed up by BENCH_WARMUP untimed steps as llama-bench warms up before it measures), medians of the rounds and
 * their ratio — a shared machine's load moves
 * both sides alike. Decode is measured as llama-bench's text-generation test runs it: from an empty context (its
 * prompt test is a separate run), so both sides attend over the same few positions. Resident memory: the engine's peak from `/usr/bin/time -f %M` where that exists; onebit's RSS
 * in the fresh CLI processes of measureLoads, after the same prompt and steps (this process holds other models). Load time (engine-load.ts; measured first, by measureLoads, while this process holds no model): the
 * engine's one-shot tool from start to exit less its evaluation, onebit's CLI load_s in a fresh process; the ratio is
 * onebit's time over the engine's.
 */
async function compareWithEngines(engines: string, file: string, loads: Map<string, FreshRuns>): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const lmHead = lmHeads[0]!;
  const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const out: string[][] = [];
  for (const [label, bin] of engineList(engines)) {
    for (const threads of threadCounts) {
      const fresh = loads.get(`${label} ${threads}`)!;
      const e = { prefill: [] as number[], decode: [] as number[], rss: 0, load: fresh.engine };
      const o = { prefill: [] as number[], decode: [] as number[], load: fresh.onebit };
      for (let r = 0; r < rounds; r++) {
        const args = ["-m", file, "-p", String(promptTokens), "-n", String(decodeTokens), "-t", String(threads), "-r", "1", "-o", "json"];
        const res = spawnSync(timeBin ?? bin, timeBin ? ["-f", "maxrss_kb=%M", bin, ...args] : args, { encoding: "utf8", maxBuffer: 16 << 20 });
        if (res.status !== 0) throw new Error(`${bin} failed on ${file} (exit ${res.status}): ${res.stderr.slice(-400)}`);
        const results = JSON.parse(res.stdout) as Array<{ n_prompt: number; n_gen: number; avg_ts: number }>;
        e.prefill.push(results.find((x) => x.n_prompt > 0 && x.n_gen === 0)?.avg_ts ?? Number.NaN);
        e.decode.push(results.find((x) => x.n_gen > 0 && x.n_prompt === 0)?.avg_ts ?? Number.NaN);
        const kb = /maxrss_kb=(\d+)/.exec(res.stderr);
        if (kb) e.rss = Math.max(e.rss, Number(kb[1]) * 1024);
        const backend = await createBackend("wasm", { threads, simd });
        const model = new Transformer(spec, weights, { backend, lmHead });
        warmUp(model);
        // decode from an empty context, as llama-bench's -n test runs it (its -p test is the prompt alone)
        const b = benchmarkModel(model, { promptTokens, decodeTokens, kvBits, decodeContext: "empty" });
        o.prefill.push(b.prefillTokensPerSecond);
        o.decode.push(b.decodeTokensPerSecond);
        backend.dispose();
      }
      const [ep, ed, op, od] = [median(e.prefill), median(e.decode), median(o.prefill), median(o.decode)];
      const [el, ol] = [median(e.load), o.load.length ? median(o.load) : Number.NaN];
      const loadCells = [el.toFixed(2), o.load.length ? ol.toFixed(2) : "-", o.load.length ? `${(ol / el).toFixed(2)}×` : "-"];
      out.push([label, String(threads), ep.toFixed(1), op.toFixed(1), `${(op / ep).toFixed(2)}×`, ed.toFixed(2), od.toFixed(2), `${(od / ed).toFixed(2)}×`, e.rss ? mb(e.rss) : "-", fresh.onebitRss ? mb(fresh.onebitRss) : "-", e.rss && fresh.onebitRss ? `${(fresh.onebitRss / e.rss).toFixed(2)}×` : "-", ...loadCells]);
      console.log(`  done: ${label}, ${threads} thread(s)`);
    }
  }
  const h = ["engine", "threads", "engine prefill tok/s", "onebit prefill", "onebit/engine", "engine decode tok/s", "onebit decode", "onebit/engine", "engine peak RSS MB", "onebit RSS MB", "onebit/engine", "engine load s", "onebit load s", "onebit/engine"];
  const w = h.map((x, i) => Math.max(x.length, ...out.map((r) => r[i]!.length)));
  const l = (cells: string[]) => cells.map((c, i) => c.padStart(w[i]!)).join("  ");
  console.log(`\n${file}: llama-bench -p ${promptTokens} -n ${decodeTokens} -r 1 alternated with onebit (${lmHead} LM head; its ${decodeTokens} decode steps from an empty context, as llama-bench's), medians of ${rounds} rounds:\n${l(h)}\n${w.map((x) => "-".repeat(x)).join("  ")}\n${out.map(l).join("\n")}`);
  console.log("(onebit's RSS: its CLI's in a fresh process after the same prompt and steps, the most over the rounds; RSS and load: onebit's over the engine's, lower is better)");
}
