/**
 * `train(options)` in Node: data (Brown or your text) and tokenizer, then the one training loop — in this thread
 * (trainInMemory) or over G tensor-parallel worker threads (trainParallel) — with atomic checkpoints every N steps
 * and on abort (checkpoint-files.ts; one format for both, so either resumes the other's), exact resume, a JSONL
 * metrics log, progress callbacks, cancellation (AbortSignal: stops after writing a checkpoint), and export to a
 * @onebit/model checkpoint.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { BpeTokenizer, type ModelSpec, saveCheckpoint } from "@onebit/model";
import { hasTrainingState, readTrainingState, writeTrainingState } from "./checkpoint-files";
import { checkParallelOptions, trainParallel } from "./parallel-trainer";
import { type InMemoryTrainResult, resolveHyperparameters, type TrainHyperparameters, type TrainProgress, trainInMemory } from "./train-in-memory";
import { useTrainBackend } from "./tf-backend";
import { prepareTrainingData } from "./training-data";
import type { TrainingState } from "./training-state";

export type { TrainProgress } from "./train-in-memory";

export interface TrainOptions extends TrainHyperparameters {
  spec: ModelSpec;
  /** "brown" or a path to a text file / folder. */
  data?: string;
  tokenizer?: BpeTokenizer;
  seqLen?: number;
  /** Initial latent weights (default initWeights(spec, seed) with initWeights' default InitOptions); ignored when resuming. */
  init?: Map<string, Float32Array>;
  /** Training-state checkpoints (state.json + state.safetensors) go here, every `checkpointEvery` steps and on abort. */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Continue from the checkpoint in checkpointDir (if there is one) — written by any worker count. */
  resume?: boolean;
  metricsFile?: string;
  exportDir?: string;
  /** Tensor-parallel worker threads (G > 1 needs onebit.groups = G); default 1 (this thread). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onLog?: (message: string) => void;
}

export interface TrainResult extends InMemoryTrainResult {
  tokenizer: BpeTokenizer;
}

/** One JSONL line per step (the same fields from every executor). */
export function metricsLine(p: TrainProgress): string {
  return `${JSON.stringify({ step: p.step, loss: p.loss, validationLoss: p.validationLoss, lr: p.lr, stage: p.stage, tokensPerSecond: p.tokensPerSecond, time: p.elapsedSeconds })}\n`;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.onLog ?? (() => {});
  const spec = o.spec;
  // bad options and a missing backend fail before any data is read
  const { backend } = resolveHyperparameters(o);
  const workers = o.workers ?? 1;
  if (workers !== 1) checkParallelOptions(spec, workers);
  await useTrainBackend(backend);
  let resumeFrom: TrainingState | undefined;
  if (o.resume && o.checkpointDir && hasTrainingState(o.checkpointDir)) {
    resumeFrom = readTrainingState(o.checkpointDir, spec);
    const from = resumeFrom.workers === workers ? "" : ` (checkpoint written by ${resumeFrom.workers === 1 ? "1 thread" : `${resumeFrom.workers} worker threads`}, continuing on ${workers === 1 ? "1 thread" : `${workers} worker threads`}; the same ${spec.onebit.groups}-group model)`;
    log(`resumed from ${o.checkpointDir} at step ${resumeFrom.step}${from}`);
  }
  // a resumed run encodes its data with the checkpoint's tokenizer (the one its weights were trained with)
  const savedTokenizer = resumeFrom?.tokenizer === undefined ? undefined : BpeTokenizer.fromJSON(resumeFrom.tokenizer, join(o.checkpointDir!, "state.json"));
  const data = prepareTrainingData({ ...o, tokenizer: savedTokenizer ?? o.tokenizer }, log);
  const tokenizerJson = data.tokenizer.toJSON();
  const checkpointDir = o.checkpointDir;
  const save = checkpointDir ? (state: TrainingState) => writeTrainingState(checkpointDir, { ...state, tokenizer: tokenizerJson }) : undefined;
  const onProgress = (p: TrainProgress) => {
    if (o.metricsFile) appendFileSync(o.metricsFile, metricsLine(p));
    o.onProgress?.(p);
  };
  const common = { ...o, trainRows: data.trainRows, valRows: data.valRows, resumeFrom, checkpointEvery: o.checkpointEvery, onCheckpoint: save, onProgress };
  const r = workers > 1 ? await trainParallel({ ...common, workers, onLog: log }) : await trainInMemory(common);
  if (o.exportDir) await saveCheckpoint(o.exportDir, { spec, weights: r.weights, tokenizer: tokenizerJson });
  return { ...r, tokenizer: data.tokenizer };
}
