import { join, relative, resolve } from "node:path";
import type { BpeTokenizer } from "@onebit/model";
import { CliError } from "../util/cli-error";
import { defineOptions, type OptionValues } from "../util/options";
import { formatRate, ProgressBar } from "../util/progress-bar";
import { specFrom } from "../util/spec-source";
import { checkContext, checkMemory, checkWorkerSplit, trainingBytes } from "../util/usage-limits";
import { defineCommand } from "./command";

export const trainOptions = defineOptions({
  preset: { kind: "string", arg: "<name>", default: "b1.58-tiny", description: "model preset (e.g. b1.58-tiny, a4.8-small, fp-tiny)" },
  spec: { kind: "string", arg: "<file.json>", description: "a ModelSpec JSON file (overrides --preset)" },
  data: { kind: "string", arg: "<source>", default: "brown", description: '"brown" or a text file / folder of .txt files' },
  steps: { kind: "int", min: 1, arg: "<n>", default: 300, description: "optimizer steps" },
  batchSize: { kind: "int", min: 1, arg: "<n>", default: 8, description: "sequences per step" },
  seqLen: { kind: "int", min: 2, arg: "<n>", default: 64, description: "tokens per sequence" },
  lr: { kind: "number", min: 0, arg: "<rate>", description: "peak learning rate (default 5e-3 for 1-bit variants, 3e-3 for fp: the best measured in the acceptance run)" },
  warmupSteps: { kind: "int", min: 0, arg: "<n>", description: "warm-up steps (default min(375, steps/10))" },
  schedule: { kind: "choice", choices: ["two-stage", "linear"], default: "two-stage", arg: "<kind>", description: "b1.58 two-stage (lr steps down, weight decay off at the midpoint) or linear decay" },
  weightDecay: { kind: "number", min: 0, arg: "<wd>", default: 0.1, description: "decoupled weight decay (first stage)" },
  stage2Fraction: { kind: "number", min: 0, max: 1, arg: "<f>", default: 0.05, description: "a4.8: final fraction of steps in the hybrid INT4 + Top-K stage" },
  backend: { kind: "choice", choices: ["wasm", "cpu"], default: "wasm", arg: "<name>", description: "tfjs backend" },
  workers: { kind: "int", min: 1, max: 256, arg: "<n>", default: 1, description: "tensor-parallel worker threads (n > 1 trains n weight groups, one per worker)" },
  groups: { kind: "int", min: 1, arg: "<n>", description: "quantization groups G (default: --workers)" },
  seed: { kind: "int", min: 0, arg: "<n>", default: 1, description: "initialisation and batch-order seed" },
  evalEvery: { kind: "int", min: 0, arg: "<n>", default: 0, description: "validation loss every n steps (0 = only at the end)" },
  out: { kind: "string", short: "o", arg: "<dir>", default: "onebit-model", description: "where the trained model checkpoint goes" },
  checkpointDir: { kind: "string", arg: "<dir>", description: "training-state checkpoints (default <out>/train-state)" },
  checkpointEvery: { kind: "int", min: 1, arg: "<n>", default: 100, description: "write a training checkpoint every n steps" },
  resume: { kind: "boolean", default: false, description: "continue from the training checkpoint (an error if there is none)" },
  resumeIfPresent: { kind: "boolean", default: false, description: "continue from the training checkpoint if there is one, else start afresh" },
  metrics: { kind: "string", arg: "<file.jsonl>", description: "append one JSON line of metrics per step" },
});

/** What `train` (and `demo`, for each of its two runs) hands runTraining. */
export type TrainValues = OptionValues<typeof trainOptions>;

export interface TrainRun {
  validationPerplexity: number;
  tokensPerSecond: number;
  seconds: number;
  stoppedEarly: boolean;
  sparsity: Record<string, number>;
}

/** Train with a progress bar; Ctrl-C stops after writing a checkpoint (exit 130). Shared by `train` and `demo`. */
export async function runTraining(o: TrainValues, label: string, extra: { tokenizer?: BpeTokenizer } = {}): Promise<TrainRun> {
  const workers = o.workers;
  const groups = o.groups ?? workers;
  let spec = await specFrom(o);
  if (groups !== spec.onebit.groups) {
    const { parseModelSpec } = await import("@onebit/model");
    try {
      spec = parseModelSpec({ ...spec, onebit: { ...spec.onebit, groups } });
    } catch (e) {
      // the flag made the spec invalid (a G that does not divide a projection): a usage error
      throw new CliError(`--groups ${groups}: ${(e as Error).message}`, 2);
    }
  }
  if (workers > 1 && groups !== workers) throw new CliError(`--groups ${groups}: ${workers} workers hold one quantization group each, so --groups must equal --workers (${workers}) or be omitted`, 2);
  checkWorkerSplit(spec, workers);
  const { seqLen, batchSize } = o;
  checkContext(`--seq-len ${seqLen}`, seqLen, spec, `sequences of ${seqLen} tokens`);
  const { parameterCounts } = await import("@onebit/model");
  checkMemory(`--batch-size ${batchSize} × --seq-len ${seqLen}`, trainingBytes(spec, parameterCounts(spec).total, batchSize, seqLen), "training this model (weights, Adam moments, activations, attention scores)");
  const out = o.out;
  // one checkpoint format for every worker count: a run may resume with --workers 1 or n (same --groups)
  const checkpointDir = o.checkpointDir ?? join(out, "train-state");
  const { hasTrainingState, lockFolder } = await import("@onebit/train");
  const resume = o.resume || o.resumeIfPresent;
  if (o.resume && !hasTrainingState(checkpointDir))
    throw new CliError(`--resume: no training checkpoint in ${checkpointDir} (no state.json); train without --resume to start afresh, or use --resume-if-present`, 2);
  // one writer per folder: a second run with the same --out (or --checkpoint-dir) would interleave checkpoints and
  // replace the other's model; the locks are taken after every check, so a refused command leaves no folder behind
  const locks = lockRun(lockFolder, out, checkpointDir, label);
  try {
    return await trainLocked(o, label, extra, { spec, workers, seqLen, batchSize, out, checkpointDir, resume });
  } finally {
    for (const l of locks) l.release();
  }
}

type LockFolder = typeof import("@onebit/train").lockFolder;

function lockRun(lockFolder: LockFolder, out: string, checkpointDir: string, label: string) {
  const dirs = [out];
  const rel = relative(resolve(out), resolve(checkpointDir));
  if (rel.startsWith("..") || resolve(rel) === rel) dirs.push(checkpointDir); // outside --out: it needs its own lock
  const locks: Array<ReturnType<LockFolder>> = [];
  try {
    for (const dir of dirs) {
      const lock = lockFolder(dir, `onebit ${label.trim()}`);
      if (lock.note) process.stderr.write(`${label}: note: ${lock.note}\n`);
      locks.push(lock);
    }
  } catch (e) {
    for (const l of locks) l.release();
    throw new CliError((e as Error).message);
  }
  return locks;
}

async function trainLocked(
  o: TrainValues,
  label: string,
  extra: { tokenizer?: BpeTokenizer },
  r0: { spec: Awaited<ReturnType<typeof specFrom>>; workers: number; seqLen: number; batchSize: number; out: string; checkpointDir: string; resume: boolean },
): Promise<TrainRun> {
  const { spec, workers, seqLen, batchSize, out, checkpointDir } = r0;
  const { train } = await import("@onebit/train");
  const steps = o.steps;
  const ac = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop now
    interrupted = true;
    process.stderr.write("\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)\n");
    ac.abort();
  };
  process.on("SIGINT", onSigint);
  let bar: ProgressBar | undefined;
  try {
    const r = await train({
      spec,
      data: o.data,
      tokenizer: extra.tokenizer,
      steps,
      batchSize,
      seqLen,
      lr: o.lr ?? defaultLearningRate(spec.onebit.variant),
      warmupSteps: o.warmupSteps,
      schedule: o.schedule,
      weightDecay: o.weightDecay,
      stage2Fraction: o.stage2Fraction,
      backend: o.backend,
      seed: o.seed,
      evalEvery: o.evalEvery,
      checkpointDir,
      checkpointEvery: o.checkpointEvery,
      resume: r0.resume,
      metricsFile: o.metrics,
      exportDir: out,
      workers,
      signal: ac.signal,
      onLog: (msg) => process.stderr.write(`${label}: ${msg}\n`),
      onProgress: (p) => {
        bar ??= new ProgressBar({ total: p.steps, label });
        bar.update(p.step, { loss: p.loss.toFixed(3), "tok/s": formatRate(p.tokensPerSecond), ...(p.stage === 2 ? { stage: "2" } : {}) });
      },
    });
    bar?.finish({ loss: r.trainLoss.toFixed(3) }, r.steps);
    if (r.stoppedEarly) throw new CliError(`training stopped at step ${r.steps}/${steps}; checkpoint in ${checkpointDir} (resume with --resume --out ${out})`, 130);
    return { validationPerplexity: r.validationPerplexity, tokensPerSecond: r.tokensPerSecond, seconds: r.seconds, stoppedEarly: r.stoppedEarly, sparsity: r.sparsity };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** Peak learning rates measured best on the tiny preset (BENCHMARKS.md, Training: 1-bit models want a higher rate). */
export function defaultLearningRate(variant: string): number {
  return variant === "fp" ? 3e-3 : 5e-3;
}

export const trainCommand = defineCommand({
  name: "train",
  description: "train a 1-bit (or fp) model on the Brown corpus or your text, then export a checkpoint",
  options: trainOptions,
  async run({ options }) {
    const r = await runTraining(options, "train");
    process.stdout.write(
      `trained: validation perplexity ${r.validationPerplexity.toFixed(2)} · ${formatRate(r.tokensPerSecond)} tok/s · ${r.seconds.toFixed(0)} s · model in ${options.out}\n`,
    );
  },
});
