/**
 * One tensor-parallel training shard, run in a worker thread by parallel-trainer.ts. Every shard runs the one
 * training loop (train-loop.ts) on the same batches; the model's all-reduces (ShardExchange over a
 * SharedArrayBuffer) keep the replicated parts identical, and the shards' own quantization statistics never leave
 * them. Shard 0 reports progress; at checkpoint steps and at the end every shard posts its block of the latent
 * weights and AdamW moments (the main thread unshards them into one checkpoint).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ModelSpec } from "@onebit/model";
import { AdamW } from "./adamw";
import type { ScheduleOptions } from "./schedule";
import { ShardExchange } from "./shard-exchange";
import { type TrainBackend, type tf, useTrainBackend } from "./tf-backend";
import { finalEvaluation, trainLoop } from "./train-loop";
import { TrainableModel } from "./trainable-model";
import { restoreOptimizer } from "./training-state";

export interface ShardJob {
  index: number;
  count: number;
  spec: ModelSpec;
  /** The full latent weights to start from (fresh: initWeights; resumed: the checkpoint's); the worker keeps its shard. */
  init: Record<string, Float32Array>;
  /** Resuming: AdamW's full moments and step counter, and the step index to continue from. */
  resume?: { step: number; adamStep: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> };
  shardedNames: string[];
  /** [rows, rowLength] flattened */
  trainRows: Int32Array;
  valRows: Int32Array;
  rowLength: number;
  steps: number;
  batchSize: number;
  seed: number;
  schedule: ScheduleOptions;
  stage2From: number;
  evalEvery: number;
  evalBatches: number;
  backend: TrainBackend;
  /** Post this shard's state every N steps (0: never; the final state always comes with "done"). */
  checkpointEvery: number;
  exchange: SharedArrayBuffer;
  /** Int32 [stop]: set by the main thread to stop after the current step. */
  stop: SharedArrayBuffer;
}

/** This shard's block of the training state after `step` steps (names as the full model's tensors). */
export interface ShardState {
  index: number;
  step: number;
  adamStep: number;
  params: Record<string, Float32Array>;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface ShardDone {
  index: number;
  steps: number;
  stoppedEarly: boolean;
  loss: number;
  validationLoss: number;
  sparsity: Record<string, number>;
  state: ShardState;
}

function rowsOf(flat: Int32Array, len: number): Int32Array[] {
  return Array.from({ length: flat.length / len }, (_, i) => flat.subarray(i * len, (i + 1) * len));
}

function shardState(index: number, step: number, model: TrainableModel, opt: AdamW): ShardState {
  const read = (vars: Map<string, tf.Variable>) => Object.fromEntries([...vars].map(([n, v]) => [n, (v.dataSync() as Float32Array).slice()]));
  return { index, step, adamStep: opt.step, params: read(model.variables), m: read(opt.m), v: read(opt.v) };
}

async function run(job: ShardJob): Promise<void> {
  await useTrainBackend(job.backend);
  const ex = new ShardExchange(job.exchange, job.index, job.count);
  const stop = new Int32Array(job.stop);
  const model = new TrainableModel(job.spec, new Map(Object.entries(job.init)), ex.context());
  const opt = new AdamW();
  if (job.resume) restoreOptimizer(opt, model, { adamStep: job.resume.adamStep, adamM: new Map(Object.entries(job.resume.m)), adamV: new Map(Object.entries(job.resume.v)) });
  const sharded = new Set(job.shardedNames);
  const valRows = rowsOf(job.valRows, job.rowLength);
  const loop = await trainLoop({
    model,
    optimizer: opt,
    trainRows: rowsOf(job.trainRows, job.rowLength),
    valRows,
    steps: job.steps,
    startStep: job.resume?.step ?? 0,
    batchSize: job.batchSize,
    seed: job.seed,
    schedule: job.schedule,
    stage2From: job.stage2From,
    evalEvery: job.evalEvery,
    evalBatches: job.evalBatches,
    history: [],
    // every shard must stop at the same step: shard 0's view of the flag is broadcast
    shouldStop: () => ex.sumScalar(job.index === 0 ? Atomics.load(stop, 0) : 0) > 0,
    globalSquaredNorm: { isSharded: (n) => sharded.has(n), reduce: (s, r) => ex.sumScalar(s) + r },
    afterStep: (r) => {
      if (job.index === 0) parentPort!.postMessage({ type: "progress", ...r });
      if (job.checkpointEvery > 0 && r.step % job.checkpointEvery === 0) parentPort!.postMessage({ type: "state", ...shardState(job.index, r.step, model, opt) });
    },
  });
  const { validationLoss, sparsity } = finalEvaluation(model, valRows, job.batchSize, job.evalBatches, job.stage2From);
  const done: ShardDone = { index: job.index, steps: loop.step, stoppedEarly: loop.stoppedEarly, loss: loop.loss, validationLoss, sparsity, state: shardState(job.index, loop.step, model, opt) };
  parentPort!.postMessage({ type: "done", ...done });
  model.dispose();
  opt.dispose();
}

run(workerData as ShardJob).catch((e: unknown) => parentPort!.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) }));
