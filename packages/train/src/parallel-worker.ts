/**
 * One tensor-parallel training shard, run in a worker thread by parallel-trainer.ts. Every shard runs the same
 * loop on the same batches; the model's all-reduces (ShardExchange over a SharedArrayBuffer) keep the replicated
 * parts identical, and the shards' own quantization statistics never leave them. Shard 0 reports progress.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ModelSpec } from "@onebit/model";
import { AdamW } from "./adamw";
import { batchRows, evaluate, makeBatch } from "./batches";
import { type ScheduleOptions, scheduleAt } from "./schedule";
import { ShardExchange } from "./shard-exchange";
import { type TrainBackend, tf, useTrainBackend } from "./tf-backend";
import { TrainableModel } from "./trainable-model";

export interface ShardJob {
  index: number;
  count: number;
  spec: ModelSpec;
  /** the full initial weights; the worker keeps its shard */
  init: Record<string, Float32Array>;
  shardedNames: string[];
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
  exchange: SharedArrayBuffer;
  /** Int32 [stop]: set by the main thread to stop after the current step. */
  stop: SharedArrayBuffer;
}

function rowsOf(flat: Int32Array, len: number): Int32Array[] {
  return Array.from({ length: flat.length / len }, (_, i) => flat.subarray(i * len, (i + 1) * len));
}

async function run(job: ShardJob): Promise<void> {
  await useTrainBackend(job.backend);
  const ex = new ShardExchange(job.exchange, job.index, job.count);
  const stop = new Int32Array(job.stop);
  const model = new TrainableModel(job.spec, new Map(Object.entries(job.init)), ex.context());
  const opt = new AdamW();
  const sharded = new Set(job.shardedNames);
  const norm = { isSharded: (n: string) => sharded.has(n), reduce: (s: number, r: number) => ex.sumScalar(s) + r };
  const trainRows = rowsOf(job.trainRows, job.rowLength);
  const valRows = rowsOf(job.valRows, job.rowLength);
  const seqLen = job.rowLength - 1;
  const t0 = performance.now();
  let step = 0;
  let stoppedEarly = false;
  let loss = Number.NaN;
  for (; step < job.steps; step++) {
    // every shard must stop at the same step: shard 0's view of the flag is broadcast
    if (ex.sumScalar(job.index === 0 ? Atomics.load(stop, 0) : 0) > 0) {
      stoppedEarly = true;
      break;
    }
    model.stage = step >= job.stage2From ? 2 : 1;
    const { lr, weightDecay } = scheduleAt(step, job.schedule);
    const batch = makeBatch(trainRows, batchRows(job.seed, step, job.batchSize, trainRows.length));
    const { value, grads } = tf.variableGrads(() => model.loss(batch));
    loss = value.dataSync()[0]!;
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step + 1}: loss is ${loss} (try a lower learning rate)`);
    opt.apply(model.variables, grads, lr, weightDecay, norm);
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    batch.dispose();
    const validationLoss = job.evalEvery > 0 && (step + 1) % job.evalEvery === 0 ? evaluate(model, valRows, job.batchSize, job.evalBatches) : undefined;
    if (job.index === 0) {
      const elapsed = (performance.now() - t0) / 1000;
      parentPort!.postMessage({ type: "progress", step: step + 1, loss, lr, stage: model.stage, validationLoss, tokensPerSecond: ((step + 1) * job.batchSize * seqLen) / elapsed, elapsedSeconds: elapsed });
    }
  }
  model.stage = job.stage2From < job.steps ? 2 : 1;
  model.trackSparsity = true;
  const validationLoss = evaluate(model, valRows, job.batchSize, job.evalBatches);
  const weights = model.weights();
  parentPort!.postMessage({ type: "done", index: job.index, steps: step, stoppedEarly, loss, validationLoss, sparsity: model.lastSparsity, weights: Object.fromEntries(weights) });
  model.dispose();
  opt.dispose();
}

run(workerData as ShardJob).catch((e: unknown) => parentPort!.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) }));
