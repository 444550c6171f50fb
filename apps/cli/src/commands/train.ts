import { join } from "node:path";
import { CliError } from "../util/cli-error";
import type { OptionSpec, OptionValues } from "../util/options";
import { formatRate, ProgressBar } from "../util/progress-bar";
import { specFrom } from "../util/spec-source";
import type { CommandDef } from "./command";

export const trainOptions: OptionSpec[] = [
  { key: "preset", kind: "string", arg: "<name>", default: "b1.58-tiny", description: "model preset (e.g. b1.58-tiny, a4.8-small, fp-tiny)" },
  { key: "spec", kind: "string", arg: "<file.json>", description: "a ModelSpec JSON file (overrides --preset)" },
  { key: "data", kind: "string", arg: "<source>", default: "brown", description: '"brown" or a text file / folder of .txt files' },
  { key: "steps", kind: "int", min: 1, arg: "<n>", default: 300, description: "optimizer steps" },
  { key: "batchSize", kind: "int", min: 1, arg: "<n>", default: 8, description: "sequences per step" },
  { key: "seqLen", kind: "int", min: 2, arg: "<n>", default: 64, description: "tokens per sequence" },
  { key: "lr", kind: "number", min: 0, arg: "<rate>", description: "peak learning rate (default 5e-3 for 1-bit variants, 3e-3 for fp: the best measured in the acceptance run)" },
  { key: "warmupSteps", kind: "int", min: 0, arg: "<n>", description: "warm-up steps (default min(375, steps/10))" },
  { key: "schedule", kind: "choice", choices: ["two-stage", "linear"], default: "two-stage", arg: "<kind>", description: "b1.58 two-stage (lr steps down, weight decay off at the midpoint) or linear decay" },
  { key: "weightDecay", kind: "number", min: 0, arg: "<wd>", default: 0.1, description: "decoupled weight decay (first stage)" },
  { key: "stage2Fraction", kind: "number", min: 0, max: 1, arg: "<f>", default: 0.05, description: "a4.8: final fraction of steps in the hybrid INT4 + Top-K stage" },
  { key: "backend", kind: "choice", choices: ["wasm", "cpu"], default: "wasm", arg: "<name>", description: "tfjs backend" },
  { key: "workers", kind: "int", min: 1, arg: "<n>", default: 1, description: "tensor-parallel worker threads (n > 1 trains n weight groups, one per worker)" },
  { key: "groups", kind: "int", min: 1, arg: "<n>", description: "quantization groups G (default: --workers)" },
  { key: "seed", kind: "int", min: 0, arg: "<n>", default: 1, description: "initialisation and batch-order seed" },
  { key: "evalEvery", kind: "int", min: 0, arg: "<n>", default: 0, description: "validation loss every n steps (0 = only at the end)" },
  { key: "out", kind: "string", short: "o", arg: "<dir>", default: "onebit-model", description: "where the trained model checkpoint goes" },
  { key: "checkpointDir", kind: "string", arg: "<dir>", description: "training-state checkpoints (default <out>/train-state)" },
  { key: "checkpointEvery", kind: "int", min: 1, arg: "<n>", default: 100, description: "write a training checkpoint every n steps" },
  { key: "resume", kind: "boolean", default: false, description: "continue from the training checkpoint" },
  { key: "metrics", kind: "string", arg: "<file.jsonl>", description: "append one JSON line of metrics per step" },
];

export interface TrainRun {
  validationPerplexity: number;
  tokensPerSecond: number;
  seconds: number;
  stoppedEarly: boolean;
  sparsity: Record<string, number>;
}

/** Train with a progress bar; Ctrl-C stops after writing a checkpoint (exit 130). Shared by `train` and `demo`. */
export async function runTraining(o: OptionValues, label: string, extra: { tokenizer?: unknown } = {}): Promise<TrainRun> {
  const workers = (o.workers as number | undefined) ?? 1;
  const groups = (o.groups as number | undefined) ?? workers;
  let spec = await specFrom(o);
  if (groups !== spec.onebit.groups) {
    const { parseModelSpec } = await import("@onebit/model");
    try {
      spec = parseModelSpec({ ...spec, onebit: { ...spec.onebit, groups } });
    } catch (e) {
      throw new CliError(`--groups ${groups}: ${(e as Error).message}`);
    }
  }
  const { train } = await import("@onebit/train");
  const out = o.out as string;
  // one checkpoint format for every worker count: a run may resume with --workers 1 or n (same --groups)
  const checkpointDir = (o.checkpointDir as string | undefined) ?? join(out, "train-state");
  const steps = o.steps as number;
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
      data: o.data as string,
      tokenizer: extra.tokenizer as never,
      steps,
      batchSize: o.batchSize as number,
      seqLen: o.seqLen as number,
      lr: (o.lr as number | undefined) ?? defaultLearningRate(spec.onebit.variant),
      warmupSteps: o.warmupSteps as number | undefined,
      schedule: o.schedule as "two-stage" | "linear",
      weightDecay: o.weightDecay as number,
      stage2Fraction: o.stage2Fraction as number,
      backend: o.backend as "wasm" | "cpu",
      seed: o.seed as number,
      evalEvery: o.evalEvery as number,
      checkpointDir,
      checkpointEvery: o.checkpointEvery as number,
      resume: o.resume as boolean,
      metricsFile: o.metrics as string | undefined,
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

export const trainCommand: CommandDef = {
  name: "train",
  description: "train a 1-bit (or fp) model on the Brown corpus or your text, then export a checkpoint",
  options: trainOptions,
  async run({ options }) {
    const r = await runTraining(options, "train");
    process.stdout.write(
      `trained: validation perplexity ${r.validationPerplexity.toFixed(2)} · ${formatRate(r.tokensPerSecond)} tok/s · ${r.seconds.toFixed(0)} s · model in ${options.out}\n`,
    );
  },
};
