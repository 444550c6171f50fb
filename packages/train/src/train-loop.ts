/**
 * THE training loop — the only one: `trainInMemory` (single thread, Node and browser) and every tensor-parallel
 * shard (parallel-worker.ts) run it. Per step: the a4.8 stage (switching to hybrid INT4 + Top-K for the final steps
 * with the optimizer state kept), the schedule's lr and weight decay, the deterministic batch of (seed, step), loss
 * and gradients, one AdamW update, optional validation loss, and a report to the caller (progress, metrics,
 * checkpoints). Browser-safe: no Node APIs.
 * Shapes: rows [n, seqLen + 1] int32 → batch [batchSize, seqLen + 1] → loss scalar.
 */
import type { AdamW } from "./adamw";
import { batchRows, evaluate, makeBatch } from "./batches";
import { type ScheduleOptions, scheduleAt } from "./schedule";
import { tf } from "./tf-backend";
import { TrainDivergedError } from "./train-errors";
import type { TrainableModel } from "./trainable-model";
import type { TrainHistory } from "./training-state";

export interface StepReport {
  /** Steps done (1-based). */
  step: number;
  loss: number;
  lr: number;
  stage: 1 | 2;
  validationLoss?: number;
  /** Over this session's steps (a resumed run counts from where it resumed). */
  tokensPerSecond: number;
  elapsedSeconds: number;
}

export interface TrainLoopOptions {
  model: TrainableModel;
  optimizer: AdamW;
  trainRows: Int32Array[];
  valRows: Int32Array[];
  /** Total steps of the run (the schedule's length). */
  steps: number;
  /** First step index to run (0-based): a resumed run's saved step. */
  startStep?: number;
  batchSize: number;
  seed: number;
  schedule: ScheduleOptions;
  /** First step of a4.8's stage 2 (Infinity: never). */
  stage2From: number;
  evalEvery?: number;
  evalBatches?: number;
  /** The run's history so far (a resumed run's); every step appends its entry. */
  history: TrainHistory;
  /** Asked before each step; true stops the loop there (tensor-parallel shards must all answer alike). */
  shouldStop?: () => boolean;
  /** Tensor-parallel shards: combine the shards' squared gradient norms so every shard clips alike (AdamW.apply). */
  globalSquaredNorm?: Parameters<AdamW["apply"]>[4];
  /** After each step, its entry already in `history`. */
  afterStep?: (report: StepReport) => void | Promise<void>;
}

export interface TrainLoopResult {
  /** Steps done in all (the index of the next step). */
  step: number;
  stoppedEarly: boolean;
  /** The last step's loss (NaN when no step ran). */
  loss: number;
  /** Tokens trained on in this session. */
  tokens: number;
}

/** The first step of the a4.8 hybrid stage: the final `stage2Fraction` of the run (other variants: never). */
export function stage2Start(variant: string, steps: number, stage2Fraction = 0.05): number {
  return variant.startsWith("a4.8") ? Math.floor(steps * (1 - stage2Fraction)) : Number.POSITIVE_INFINITY;
}

export async function trainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, optimizer, trainRows, batchSize } = o;
  const seqLen = trainRows[0]!.length - 1;
  const t0 = performance.now();
  let tokens = 0;
  let loss = Number.NaN;
  let stoppedEarly = false;
  let step = o.startStep ?? 0;
  for (; step < o.steps; step++) {
    if (o.shouldStop?.()) {
      stoppedEarly = true;
      break;
    }
    model.stage = step >= o.stage2From ? 2 : 1; // a4.8: same optimizer state across the switch
    const { lr, weightDecay } = scheduleAt(step, o.schedule);
    const batch = makeBatch(trainRows, batchRows(o.seed, step, batchSize, trainRows.length)); // [B, T + 1]
    const { value, grads } = tf.variableGrads(() => model.loss(batch));
    loss = value.dataSync()[0]!;
    if (!Number.isFinite(loss)) throw new TrainDivergedError(step + 1, loss, `training diverged at step ${step + 1}: loss is ${loss} (try a lower learning rate)`);
    optimizer.apply(model.variables, grads, lr, weightDecay, o.globalSquaredNorm);
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    batch.dispose();
    tokens += batchSize * seqLen;
    const entry: TrainHistory[number] = { step: step + 1, loss };
    const evalEvery = o.evalEvery ?? 0;
    if (evalEvery > 0 && (step + 1) % evalEvery === 0) entry.validationLoss = evaluate(model, o.valRows, batchSize, o.evalBatches ?? 8);
    o.history.push(entry);
    const elapsed = (performance.now() - t0) / 1000;
    await o.afterStep?.({ step: step + 1, loss, lr, stage: model.stage, validationLoss: entry.validationLoss, tokensPerSecond: tokens / elapsed, elapsedSeconds: elapsed });
    // let signals, messages and I/O through (setTimeout: Node and browsers alike)
    if ((step & 7) === 7) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { step, stoppedEarly, loss, tokens };
}

/** Validation loss and per-projection sparsity after training, in the stage the exported model runs (a4.8: 2). */
export function finalEvaluation(model: TrainableModel, valRows: Int32Array[], batchSize: number, evalBatches: number, stage2From: number): { validationLoss: number; sparsity: Record<string, number> } {
  model.stage = stage2From < Number.POSITIVE_INFINITY ? 2 : 1;
  model.trackSparsity = true;
  const validationLoss = evaluate(model, valRows, batchSize, evalBatches);
  const sparsity = { ...model.lastSparsity } as Record<string, number>;
  model.trackSparsity = false;
  return { validationLoss, sparsity };
}
