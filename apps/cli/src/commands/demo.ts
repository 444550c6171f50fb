/**
 * `onebit demo` — the README's main job: train a tiny BitNet b1.58 model on the Brown corpus with a progress bar,
 * compare its validation perplexity with a same-shaped full-precision baseline (trained the same way, or read from
 * the cache a previous run left), then stream text from the 1-bit model and report speed, memory and sparsity.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { GenerationStats } from "@onebit/model";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer } from "../util/load-model";
import { defineOptions } from "../util/options";
import { formatRate } from "../util/progress-bar";
import { checkContext } from "../util/usage-limits";
import { defineCommand } from "./command";
import { describeStats } from "./generate";
import { defaultLearningRate, runTraining, type TrainRun, type TrainValues } from "./train";

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;
const pct = (x: number | undefined) => (x === undefined ? "-" : `${(100 * x).toFixed(1)} %`);

export const demoCommand = defineCommand({
  name: "demo",
  description: "train a tiny b1.58 model on the Brown corpus, compare it with an fp baseline, and generate text",
  options: defineOptions({
    steps: { kind: "int", min: 1, arg: "<n>", default: 160, description: "training steps for each model" },
    batchSize: { kind: "int", min: 1, arg: "<n>", default: 8, description: "sequences per step" },
    seqLen: { kind: "int", min: 2, arg: "<n>", default: 64, description: "tokens per sequence" },
    data: { kind: "string", arg: "<source>", default: "brown", description: '"brown" or a text file / folder of .txt files' },
    size: { kind: "choice", choices: ["tiny", "small"], default: "tiny", arg: "<size>", description: "model size preset" },
    out: { kind: "string", short: "o", arg: "<dir>", default: "onebit-demo", description: "where the trained models go" },
    cacheDir: { kind: "string", arg: "<dir>", description: "cache for the tokenizer and the fp baseline (default ~/.cache/onebit)" },
    cache: { kind: "boolean", default: true, description: "reuse a cached fp baseline and tokenizer (--no-cache retrains)" },
    prompt: { kind: "string", short: "p", arg: "<text>", default: "The man said that", description: "text the trained model continues" },
    maxTokens: { kind: "int", min: 1, arg: "<n>", default: 48, description: "tokens to generate" },
    seed: { kind: "int", min: 0, arg: "<n>", default: 1, description: "training and sampling seed" },
    backend: { kind: "choice", choices: ["wasm", "cpu"], default: "wasm", arg: "<name>", description: "tfjs training backend" },
  }),
  async run({ options: o }) {
    const out = (s: string) => process.stdout.write(s);
    const { presetByName, trainBpeTokenizer, BpeTokenizer, generate, runtimeReport, parameterCounts, tensorList, initStd, TextStreamer } = await import("@onebit/model");
    const { loadCorpus, splitDocuments } = await import("@onebit/train/data");
    const size = o.size;
    const oneBitPreset = `b1.58-${size}`;
    const fpPreset = `fp-${size}`;
    const spec = presetByName(oneBitPreset);
    // runTraining checks this too, but only after the banner below has been printed
    checkContext(`--seq-len ${o.seqLen}`, o.seqLen, spec, `sequences of ${o.seqLen} tokens`);
    checkContext(`--max-tokens ${o.maxTokens}`, o.maxTokens + 1, spec, `a prompt token + ${o.maxTokens} generated`);
    const cacheDir = o.cacheDir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "onebit");
    const useCache = o.cache;
    mkdirSync(cacheDir, { recursive: true });
    out(
      `onebit demo: BitNet b1.58 (ternary weights, 8-bit activations) against a full-precision baseline of the same shape\n` +
        `  ${oneBitPreset}: ${(parameterCounts(spec).total / 1e6).toFixed(2)}M parameters, ${o.steps} steps of ${o.batchSize}×${o.seqLen} tokens on ${o.data}\n\n`,
    );

    // 1. tokenizer (cached: learning 1024 BPE merges on Brown takes ~20 s)
    const corpus = loadCorpus(o.data);
    const tokKey = createHash("sha256").update(JSON.stringify([corpus.name, corpus.documents.length, corpus.documents[0]?.slice(0, 200), spec.vocab_size])).digest("hex").slice(0, 12);
    const tokPath = join(cacheDir, `tokenizer-${tokKey}.json`);
    let tokenizer: InstanceType<typeof BpeTokenizer>;
    if (useCache && existsSync(tokPath)) {
      tokenizer = BpeTokenizer.fromJSON(JSON.parse(readFileSync(tokPath, "utf8")), tokPath);
      out(`tokenizer: ${tokenizer.vocabSize} tokens (cached in ${tokPath})\n`);
    } else {
      const t0 = performance.now();
      tokenizer = trainBpeTokenizer(splitDocuments(corpus).train.join("\n\n"), { vocabSize: spec.vocab_size });
      writeJsonAtomic(tokPath, tokenizer.toJSON());
      out(`tokenizer: ${tokenizer.vocabSize} BPE tokens learned in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }

    // `common` is also the fp baseline's cache key below: a key added here invalidates every cached baseline
    const common = { data: o.data, steps: o.steps, batchSize: o.batchSize, seqLen: o.seqLen, seed: o.seed, backend: o.backend, schedule: "two-stage", weightDecay: 0.1, stage2Fraction: 0.05, evalEvery: 0, checkpointEvery: 1000000, resume: false } satisfies Partial<TrainValues>;
    const trainValues = (preset: string, dir: string): TrainValues => ({ ...common, workers: 1, resumeIfPresent: false, preset, out: dir });

    // 2. the 1-bit model
    const oneBitDir = join(o.out, oneBitPreset);
    const oneBit = await runTraining(trainValues(oneBitPreset, oneBitDir), "b1.58", { tokenizer });

    // 3. the fp baseline: trained the same way, or from the cache of a previous identical run
    // the key covers everything that shapes the baseline: the run's options, the default rate and initialisation
    const fpSpec = presetByName(fpPreset);
    const fpInit = tensorList(fpSpec).map((t) => initStd(fpSpec, t));
    const fpKey = createHash("sha256").update(JSON.stringify([fpPreset, tokKey, common, defaultLearningRate("fp"), fpInit])).digest("hex").slice(0, 12);
    const fpDir = join(cacheDir, `fp-baseline-${fpKey}`);
    const fpResultPath = join(fpDir, "demo-result.json");
    let fp: TrainRun;
    if (useCache && existsSync(fpResultPath)) {
      fp = JSON.parse(readFileSync(fpResultPath, "utf8")) as TrainRun;
      out(`fp baseline: cached in ${fpDir}\n`);
    } else {
      fp = await runTraining(trainValues(fpPreset, fpDir), "fp   ", { tokenizer });
      writeJsonAtomic(fpResultPath, fp);
    }

    const fpBytes = parameterCounts(presetByName(fpPreset)).total * 2; // as fp16
    const oneBitModel = await loadModelSource(oneBitDir);
    const backend = await openBackend("wasm");
    try {
      const model = await buildTransformer(oneBitModel, backend);
      const before = runtimeReport(model);
      out(
        `\n${"model".padEnd(14)}${"val. perplexity".padStart(16)}${"train tok/s".padStart(13)}${"weights".padStart(12)}\n` +
          `${oneBitPreset.padEnd(14)}${oneBit.validationPerplexity.toFixed(2).padStart(16)}${formatRate(oneBit.tokensPerSecond).padStart(13)}${mb(before.memory.total).padStart(12)}\n` +
          `${`${fpPreset} (fp16)`.padEnd(14)}${fp.validationPerplexity.toFixed(2).padStart(16)}${formatRate(fp.tokensPerSecond).padStart(13)}${mb(fpBytes).padStart(12)}\n` +
          `perplexity ratio b1.58 / fp: ${(oneBit.validationPerplexity / fp.validationPerplexity).toFixed(3)}\n\n`,
      );

      // 4. stream text from the 1-bit model
      const tok = requireTokenizer(oneBitModel);
      const prompt = tok.encode(o.prompt, { bos: true });
      const stats = {} as GenerationStats;
      const streamer = new TextStreamer(tok);
      out(`b1.58 continues "${o.prompt}" (wasm kernels, temperature 0.8, top-k 40):\n\n${o.prompt}`);
      for await (const t of generate(model, prompt, { maxTokens: o.maxTokens, temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1, seed: o.seed, vocabLimit: tok.vocabSize }, stats))
        out(streamer.push(t.id));
      out(`${streamer.flush()}\n\n`);
      const report = runtimeReport(model, 1);
      const s = report.sparsity;
      out(
        `speed:    ${describeStats(stats)}\n` +
          `memory:   weights ${mb(report.memory.total)} (${report.memory.embeddings ? `embeddings ${mb(report.memory.embeddings)}, LM head` : "embedding = LM head"} ${mb(report.memory.lmHead)}, attention ${mb(report.memory.attention)}, ffn ${mb(report.memory.ffn)}) vs ${mb(fpBytes)} in fp16; process RSS ${mb(process.memoryUsage().rss)}\n` +
          `sparsity: zero activation inputs q/k/v ${pct(s.q)} · o ${pct(s.o)} · gate/up ${pct(s["gate/up"])} · down ${pct(s.down)} · overall ${pct(s.overall)}\n` +
          `energy:   ${report.energy.saving.toFixed(1)}× less arithmetic energy per token than fp16 at ${report.energy.node} (BitNet arXiv 2310.11453 energy table)\n` +
          `\nmodels: ${oneBitDir} (try \`onebit generate ${oneBitDir}\`, \`onebit chat ${oneBitDir}\`, \`onebit inspect ${oneBitDir}\`)\n`,
      );
    } finally {
      backend.dispose();
    }
  },
});
