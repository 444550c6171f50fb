/**
 * `pnpm bench:train` — the training acceptance run: the same tiny shape, the same Brown data and the same token
 * budget for the fp baseline, BitNet b1.58, BitNet (1-bit) and BitNet a4.8 (stage 2 for the final 5 %), each
 * trained in its own process (tfjs-wasm is single-threaded here, so two run side by side on two cores).
 * Prints validation perplexity, its ratio to the fp baseline, and training tokens/s beside the baseline's;
 * writes every result to bench/results/acceptance.json.
 * Options (env): ACCEPT_STEPS (1200), ACCEPT_BATCH (8), ACCEPT_SEQ (64), ACCEPT_PARALLEL (2),
 * ACCEPT_VARIANTS (fp,b1.58,bitnet,a4.8), ACCEPT_LR_FP (2e-3), ACCEPT_LR_1BIT (4e-3), ACCEPT_SIZE (tiny),
 * ACCEPT_OVERRIDES (JSON keyed by variant, merged into that variant's preset — for ablations, e.g.
 * '{"fp":{"hidden_act":"relu2"}}'), ACCEPT_INIT (JSON InitOptions of initWeights, the same for every model, e.g.
 * '{"residualScale":1}'; default: initWeights' defaults), ACCEPT_WARMUP (warm-up steps; default the trainer's),
 * ACCEPT_OUT (results file name, acceptance.json).
 */
import { fork } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Variant } from "@onebit/layers";
import { BpeTokenizer, type InitOptions, initWeights, parameterCounts, preset, trainBpeTokenizer } from "@onebit/model";

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const steps = Number(env.ACCEPT_STEPS ?? 1200);
const batchSize = Number(env.ACCEPT_BATCH ?? 8);
const seqLen = Number(env.ACCEPT_SEQ ?? 64);
const size = (env.ACCEPT_SIZE ?? "tiny") as "tiny" | "small";
const overrides = JSON.parse(env.ACCEPT_OVERRIDES ?? "{}") as Partial<Record<Variant, Record<string, unknown>>>;
const outName = env.ACCEPT_OUT ?? "acceptance.json";
const initOptions = JSON.parse(env.ACCEPT_INIT ?? "{}") as InitOptions;
const warmupSteps = env.ACCEPT_WARMUP === undefined ? undefined : Number(env.ACCEPT_WARMUP);
const lrFor = (v: Variant) => Number(v === "fp" ? (env.ACCEPT_LR_FP ?? 2e-3) : (env.ACCEPT_LR_1BIT ?? 4e-3));

interface Result {
  variant: Variant;
  lr: number;
  steps: number;
  tokens: number;
  validationPerplexity: number;
  tokensPerSecond: number;
  minutes: number;
  sparsity: Record<string, number>;
  history: Array<{ step: number; loss: number; validationLoss?: number }>;
}

async function child(variant: Variant, tokenizerPath: string): Promise<void> {
  const { train } = await import("../src/index");
  const { readFileSync } = await import("node:fs");
  const tokenizer = BpeTokenizer.fromJSON(JSON.parse(readFileSync(tokenizerPath, "utf8")), tokenizerPath);
  let last = 0;
  const spec = preset(variant, size, overrides[variant] ?? {});
  const r = await train({
    spec,
    init: initWeights(spec, 1, initOptions),
    warmupSteps,
    data: "brown",
    tokenizer,
    steps,
    batchSize,
    seqLen,
    lr: lrFor(variant),
    evalEvery: Math.max(1, Math.floor(steps / 6)),
    evalBatches: 16,
    stage2Fraction: 0.05,
    onProgress: (p) => {
      if (p.elapsedSeconds - last >= 60 || p.step === p.steps) {
        last = p.elapsedSeconds;
        console.error(`${variant}: step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} ${p.tokensPerSecond.toFixed(0)} tok/s${p.validationLoss ? ` val ppl ${Math.exp(p.validationLoss).toFixed(1)}` : ""}`);
      }
    },
  });
  const result: Result = {
    variant,
    lr: lrFor(variant),
    steps: r.steps,
    tokens: r.steps * batchSize * seqLen,
    validationPerplexity: r.validationPerplexity,
    tokensPerSecond: r.tokensPerSecond,
    minutes: r.seconds / 60,
    sparsity: r.sparsity,
    history: r.history.filter((h) => h.validationLoss !== undefined || h.step % 50 === 0),
  };
  process.send!(result);
}

async function main(): Promise<void> {
  const variants = (env.ACCEPT_VARIANTS ?? "fp,b1.58,bitnet,a4.8").split(",") as Variant[];
  const parallel = Number(env.ACCEPT_PARALLEL ?? 2);
  const spec = preset("b1.58", size);
  console.log(`acceptance run: ${size} preset (${(parameterCounts(spec).total / 1e6).toFixed(2)}M parameters), Brown corpus, ${steps} steps × ${batchSize}×${seqLen} = ${steps * batchSize * seqLen} tokens per model, ${parallel} at a time`);
  const { loadCorpus, splitDocuments } = await import("../src/text-data");
  const t0 = performance.now();
  const tokenizer = trainBpeTokenizer(splitDocuments(loadCorpus("brown")).train.join("\n\n"), { vocabSize: spec.vocab_size });
  const resultsDir = join(here, "results");
  mkdirSync(resultsDir, { recursive: true });
  const tokenizerPath = join(resultsDir, "tokenizer.json");
  writeFileSync(tokenizerPath, JSON.stringify(tokenizer.toJSON()));
  console.log(`tokenizer: ${tokenizer.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s (shared by every model)`);
  const results = new Map<Variant, Result>();
  const queue = [...variants];
  const runOne = async (): Promise<void> => {
    const v = queue.shift();
    if (!v) return;
    await new Promise<void>((resolve, reject) => {
      const c = fork(fileURLToPath(import.meta.url), ["--child", v, tokenizerPath], { execArgv: process.execArgv, stdio: "inherit" });
      c.on("message", (m) => results.set(v, m as Result));
      c.on("exit", (code) => (code === 0 && results.has(v) ? resolve() : reject(new Error(`${v}: training process exited with ${code}`))));
    });
    await runOne();
  };
  await Promise.all(Array.from({ length: parallel }, runOne));
  const fp = results.get("fp");
  const rows = variants.map((v) => {
    const r = results.get(v)!;
    return [v, r.lr.toExponential(1), String(r.tokens), r.validationPerplexity.toFixed(2), fp ? `${((r.validationPerplexity / fp.validationPerplexity - 1) * 100).toFixed(1)} %` : "-", r.tokensPerSecond.toFixed(0), fp ? `${(r.tokensPerSecond / fp.tokensPerSecond).toFixed(2)}×` : "-", r.minutes.toFixed(1)];
  });
  const header = ["model", "lr", "tokens", "val ppl", "vs fp", "train tok/s", "tok/s vs fp", "minutes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${rows.map(line).join("\n")}`);
  const out = join(resultsDir, outName);
  writeFileSync(`${out}.tmp`, JSON.stringify({ size, steps, batchSize, seqLen, overrides, init: initOptions, warmupSteps, results: Object.fromEntries(results) }, null, 2));
  renameSync(`${out}.tmp`, out);
  console.log(`\nresults: ${out}`);
}

if (process.argv[2] === "--child") await child(process.argv[3] as Variant, process.argv[4]!);
else await main();
