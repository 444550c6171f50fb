/**
 * `trainInMemory(options)`: train a ModelSpec on token rows held in memory, in this thread — the browser-safe core
 * of `train()` (no file system: data, checkpoints and export are the caller's). Builds the TrainableModel and AdamW
 * (fresh, or from a TrainingState), runs trainLoop, hands a TrainingState to `onCheckpoint` every
 * `checkpointEvery` steps and when stopped (AbortSignal), and ends with validation loss and sparsity.
 * Runs on any tfjs training backend: wasm or cpu in Node, webgl (or cpu) in a browser.
 * Shapes: trainRows / valRows [n, seqLen + 1] int32 token ids (inputs + the targets shifted by one).
 */
import { initWeights, type ModelSpec } from "@onebit/model";
import { AdamW } from "./adamw";
import type { ScheduleKind, ScheduleOptions } from "./schedule";
import { type TrainBackend, defaultTrainBackend, useTrainBackend } from "./tf-backend";
import { TrainConfigError, TrainDataError } from "./train-errors";
import { finalEvaluation, stage2Start, trainLoop } from "./train-loop";
import { TrainableModel } from "./trainable-model";
import { captureTrainingState, checkTrainingState, restoreOptimizer, type TrainHistory, type TrainingState } from "./training-state";

/** The knobs of a run, shared by `train`, `trainInMemory` and the tensor-parallel trainer. */
export interface TrainHyperparameters {
  steps: number;
  batchSize?: number;
  lr?: number;
  warmupSteps?: number;
  schedule?: ScheduleKind;
  weightDecay?: number;
  /** a4.8: fraction of the final steps trained with the hybrid INT4 + Top-K scheme (default 0.05). */
  stage2Fraction?: number;
  /** Default: "wasm" in Node, "webgl" in a browser. */
  backend?: TrainBackend;
  seed?: number;
  evalEvery?: number;
  evalBatches?: number;
}

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  stage: 1 | 2;
  validationLoss?: number;
}

export interface InMemoryTrainOptions extends TrainHyperparameters {
  spec: ModelSpec;
  trainRows: Int32Array[];
  valRows: Int32Array[];
  /** Initial latent weights (default initWeights(spec, seed)); ignored when resuming. */
  init?: Map<string, Float32Array>;
  /** Continue a run from its saved state (same spec; the schedule and batches go on from its step). */
  resumeFrom?: TrainingState;
  /** Call onCheckpoint every N steps (and after the last step); it is always called when the run is stopped. */
  checkpointEvery?: number;
  onCheckpoint?: (state: TrainingState) => void | Promise<void>;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}

export interface InMemoryTrainResult {
  /** Steps done in all (a resumed run counts the saved ones). */
  steps: number;
  stoppedEarly: boolean;
  trainLoss: number;
  validationLoss: number;
  validationPerplexity: number;
  tokensPerSecond: number;
  seconds: number;
  weights: Map<string, Float32Array>;
  sparsity: Record<string, number>;
  history: TrainHistory;
}

/** Defaults filled in, checked once for every executor. */
export function resolveHyperparameters(o: TrainHyperparameters & { spec: ModelSpec }): {
  steps: number;
  batchSize: number;
  seed: number;
  backend: TrainBackend;
  schedule: ScheduleOptions;
  stage2From: number;
  evalEvery: number;
  evalBatches: number;
} {
  const steps = o.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new TrainConfigError(`steps: expected a positive integer, got ${steps}`);
  const batchSize = o.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainConfigError(`batchSize: expected a positive integer, got ${batchSize}`);
  return {
    steps,
    batchSize,
    seed: o.seed ?? 1,
    backend: o.backend ?? defaultTrainBackend(),
    schedule: { kind: o.schedule ?? "two-stage", peakLr: o.lr ?? 1.5e-3, totalSteps: steps, warmupSteps: o.warmupSteps ?? Math.min(375, Math.floor(steps / 10)), weightDecay: o.weightDecay ?? 0.1 },
    stage2From: stage2Start(o.spec.onebit.variant, steps, o.stage2Fraction),
    evalEvery: o.evalEvery ?? 0,
    evalBatches: o.evalBatches ?? 8,
  };
}

/** Rows must be non-empty, of one length ≥ 2, with ids inside the vocabulary (a bad id would train silently on a zero one-hot). */
export function checkRows(name: string, rows: Int32Array[], vocabSize: number): void {
  if (rows.length === 0) throw new TrainDataError(`${name}: no rows`);
  const len = rows[0]!.length;
  if (len < 2) throw new TrainDataError(`${name}: rows need at least 2 tokens (seqLen + 1), got ${len}`);
  rows.forEach((r, i) => {
    if (r.length !== len) throw new TrainDataError(`${name}[${i}]: ${r.length} tokens, expected ${len} like row 0`);
    for (const id of r) if (!(id >= 0 && id < vocabSize)) throw new TrainDataError(`${name}[${i}]: token id ${id} outside the vocabulary [0, ${vocabSize})`);
  });
}

export async function trainInMemory(o: InMemoryTrainOptions): Promise<InMemoryTrainResult> {
  const spec = o.spec;
  const h = resolveHyperparameters(o);
  checkRows("trainRows", o.trainRows, spec.vocab_size);
  checkRows("valRows", o.valRows, spec.vocab_size);
  await useTrainBackend(h.backend);
  const state = o.resumeFrom;
  if (state) checkTrainingState(state, spec, "resumeFrom");
  const model = new TrainableModel(spec, state?.params ?? o.init ?? initWeights(spec, h.seed));
  const opt = new AdamW();
  if (state) restoreOptimizer(opt, model, state);
  const history: TrainHistory = state ? state.history.map((e) => ({ ...e })) : [];
  const t0 = performance.now();
  try {
    const loop = await trainLoop({
      model,
      optimizer: opt,
      trainRows: o.trainRows,
      valRows: o.valRows,
      steps: h.steps,
      startStep: state?.step ?? 0,
      batchSize: h.batchSize,
      seed: h.seed,
      schedule: h.schedule,
      stage2From: h.stage2From,
      evalEvery: h.evalEvery,
      evalBatches: h.evalBatches,
      history,
      shouldStop: () => o.signal?.aborted === true,
      afterStep: async (r) => {
        o.onProgress?.({ ...r, steps: h.steps });
        if (o.onCheckpoint && o.checkpointEvery && r.step % o.checkpointEvery === 0) await o.onCheckpoint(captureTrainingState(model, opt, r.step, history));
      },
    });
    if (o.onCheckpoint && (loop.stoppedEarly || o.checkpointEvery)) await o.onCheckpoint(captureTrainingState(model, opt, loop.step, history));
    const { validationLoss, sparsity } = finalEvaluation(model, o.valRows, h.batchSize, h.evalBatches, h.stage2From);
    const seconds = (performance.now() - t0) / 1000;
    return {
      steps: loop.step,
      stoppedEarly: loop.stoppedEarly,
      trainLoss: loop.loss,
      validationLoss,
      validationPerplexity: Math.exp(validationLoss),
      tokensPerSecond: loop.tokens / Math.max(1e-9, seconds),
      seconds,
      weights: model.weights(),
      sparsity,
      history,
    };
  } finally {
    model.dispose();
    opt.dispose();
  }
}
