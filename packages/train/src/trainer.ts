/**
 * `train(options)`: the whole loop — data, tokenizer, model, AdamW, schedule (b1.58 two-stage; a4.8 two-stage
 * switching to hybrid INT4 + Top-K for the final `stage2Fraction` of steps with the optimizer state kept),
 * periodic validation perplexity, atomic checkpoints every N steps with exact resume, a JSONL metrics log,
 * progress callbacks, cancellation (AbortSignal: stops after writing a checkpoint), and export to a
 * @onebit/model checkpoint.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BpeTokenizer, type ModelSpec, decodeSafetensors, encodeSafetensors, initWeights, saveCheckpoint, trainBpeTokenizer, type SafeTensor } from "@onebit/model";
import { AdamW } from "./adamw";
import { batchRows, evaluate, makeBatch, prepareTrainingData } from "./batches";
import { trainParallel } from "./parallel-trainer";
import { type ScheduleKind, scheduleAt } from "./schedule";
import { loadCorpus, packSequences, splitDocuments } from "./text-data";
import { type TrainBackend, tf, useTrainBackend } from "./tf-backend";
import { TrainableModel } from "./trainable-model";

export interface TrainOptions {
  spec: ModelSpec;
  /** "brown" or a path to a text file / folder. */
  data?: string;
  tokenizer?: BpeTokenizer;
  steps: number;
  batchSize?: number;
  seqLen?: number;
  lr?: number;
  warmupSteps?: number;
  schedule?: ScheduleKind;
  weightDecay?: number;
  /** a4.8: fraction of the final steps trained with the hybrid INT4 + Top-K scheme (default 0.05). */
  stage2Fraction?: number;
  backend?: TrainBackend;
  seed?: number;
  evalEvery?: number;
  evalBatches?: number;
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  metricsFile?: string;
  exportDir?: string;
  /** Tensor-parallel worker threads (G > 1 needs onebit.groups = G); default 1 (this thread). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onLog?: (message: string) => void;
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

export interface TrainResult {
  steps: number;
  stoppedEarly: boolean;
  trainLoss: number;
  validationLoss: number;
  validationPerplexity: number;
  tokensPerSecond: number;
  seconds: number;
  tokenizer: BpeTokenizer;
  weights: Map<string, Float32Array>;
  sparsity: Record<string, number>;
  history: Array<{ step: number; loss: number; validationLoss?: number }>;
}

function saveTrainingState(dir: string, model: TrainableModel, opt: AdamW, step: number, tokenizer: BpeTokenizer, history: TrainResult["history"]): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, SafeTensor>();
  const add = (name: string, v: tf.Variable) => {
    const data = v.dataSync() as Float32Array;
    tensors.set(name, { dtype: "F32", shape: v.shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  };
  for (const [n, v] of model.variables) add(`param/${n}`, v);
  for (const [n, v] of opt.m) add(`adam_m/${n}`, v);
  for (const [n, v] of opt.v) add(`adam_v/${n}`, v);
  const tmp = join(dir, `state.safetensors.${process.pid}.tmp`);
  writeFileSync(tmp, encodeSafetensors(tensors));
  const meta = join(dir, `state.json.${process.pid}.tmp`);
  writeFileSync(meta, JSON.stringify({ step, adamStep: opt.step, spec: model.spec, tokenizer: tokenizer.toJSON(), history }));
  renameSync(tmp, join(dir, "state.safetensors"));
  renameSync(meta, join(dir, "state.json"));
}

function loadTrainingState(dir: string, model: TrainableModel, opt: AdamW): { step: number; tokenizer: BpeTokenizer; history: TrainResult["history"] } {
  const metaPath = join(dir, "state.json");
  const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { step: number; adamStep: number; spec: ModelSpec; tokenizer: unknown; history: TrainResult["history"] };
  if (JSON.stringify(meta.spec) !== JSON.stringify(model.spec)) throw new Error(`${metaPath}: the checkpoint was trained with a different model spec; refusing to resume`);
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, "state.safetensors"))), join(dir, "state.safetensors"));
  for (const [name, t] of tensors) {
    const arr = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    const [kind, ...rest] = name.split("/");
    const pname = rest.join("/");
    const target = model.variables.get(pname);
    if (!target) throw new Error(`${dir}/state.safetensors: tensor "${name}" matches no model variable`);
    if (kind === "param") target.assign(tf.tensor(arr, target.shape));
    else {
      const map = kind === "adam_m" ? opt.m : opt.v;
      map.set(pname, tf.variable(tf.tensor(arr, target.shape), false));
    }
  }
  opt.step = meta.adamStep;
  return { step: meta.step, tokenizer: BpeTokenizer.fromJSON(meta.tokenizer, metaPath), history: meta.history };
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const log = o.onLog ?? (() => {});
  const steps = o.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps: expected a positive integer, got ${steps}`);
  const batchSize = o.batchSize ?? 8;
  const seqLen = o.seqLen ?? 64;
  const seed = o.seed ?? 1;
  await useTrainBackend(o.backend ?? "wasm");
  const spec = o.spec;

  if (o.workers !== undefined && o.workers > 1) return trainParallel(o);
  const { tokenizer: dataTokenizer, trainRows, valRows } = prepareTrainingData(o, log);
  let tokenizer = dataTokenizer;
  const model = new TrainableModel(spec, initWeights(spec, seed));
  const opt = new AdamW();
  let start = 0;
  let history: TrainResult["history"] = [];
  if (o.resume && o.checkpointDir && existsSync(join(o.checkpointDir, "state.json"))) {
    const st = loadTrainingState(o.checkpointDir, model, opt);
    start = st.step;
    tokenizer = st.tokenizer;
    history = st.history;
    log(`resumed from ${o.checkpointDir} at step ${start}`);
  }
  const stage2From = spec.onebit.variant.startsWith("a4.8") ? Math.floor(steps * (1 - (o.stage2Fraction ?? 0.05))) : Number.POSITIVE_INFINITY;
  const sched = { kind: o.schedule ?? "two-stage", peakLr: o.lr ?? 1.5e-3, totalSteps: steps, warmupSteps: o.warmupSteps ?? Math.min(375, Math.floor(steps / 10)), weightDecay: o.weightDecay ?? 0.1 };
  const t0 = performance.now();
  let tokens = 0;
  let loss = Number.NaN;
  let stoppedEarly = false;
  let step = start;
  for (; step < steps; step++) {
    if (o.signal?.aborted) {
      stoppedEarly = true;
      break;
    }
    model.stage = step >= stage2From ? 2 : 1; // a4.8: same optimizer state across the switch
    const { lr, weightDecay } = scheduleAt(step, sched);
    const batch = makeBatch(trainRows, batchRows(seed, step, batchSize, trainRows.length));
    const { value, grads } = tf.variableGrads(() => model.loss(batch));
    loss = value.dataSync()[0]!;
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step + 1}: loss is ${loss} (try a lower learning rate)`);
    opt.apply(model.variables, grads, lr, weightDecay);
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    batch.dispose();
    tokens += batchSize * seqLen;
    const entry: TrainResult["history"][number] = { step: step + 1, loss };
    const evalEvery = o.evalEvery ?? 0;
    if (evalEvery > 0 && (step + 1) % evalEvery === 0) entry.validationLoss = evaluate(model, valRows, batchSize, o.evalBatches ?? 8);
    history.push(entry);
    const elapsed = (performance.now() - t0) / 1000;
    if (o.metricsFile) appendFileSync(o.metricsFile, `${JSON.stringify({ ...entry, lr, stage: model.stage, tokensPerSecond: tokens / elapsed, time: elapsed })}\n`);
    o.onProgress?.({ step: step + 1, steps, loss, lr, tokensPerSecond: tokens / elapsed, elapsedSeconds: elapsed, stage: model.stage, validationLoss: entry.validationLoss });
    if (o.checkpointDir && o.checkpointEvery && (step + 1) % o.checkpointEvery === 0) saveTrainingState(o.checkpointDir, model, opt, step + 1, tokenizer, history);
    if ((step & 7) === 7) await new Promise((r) => setImmediate(r)); // let signals and I/O through
  }
  if (o.checkpointDir && (stoppedEarly || o.checkpointEvery)) saveTrainingState(o.checkpointDir, model, opt, step, tokenizer, history);
  model.stage = stage2From < Number.POSITIVE_INFINITY ? 2 : 1;
  model.trackSparsity = true;
  const validationLoss = evaluate(model, valRows, batchSize, o.evalBatches ?? 8);
  const sparsity = { ...model.lastSparsity } as Record<string, number>;
  model.trackSparsity = false;
  const seconds = (performance.now() - t0) / 1000;
  const weights = model.weights();
  if (o.exportDir) await saveCheckpoint(o.exportDir, { spec, weights, tokenizer: tokenizer.toJSON() });
  model.dispose();
  opt.dispose();
  return {
    steps: step,
    stoppedEarly,
    trainLoss: loss,
    validationLoss,
    validationPerplexity: Math.exp(validationLoss),
    tokensPerSecond: tokens / Math.max(1e-9, seconds),
    seconds,
    tokenizer,
    weights,
    sparsity,
    history,
  };
}

