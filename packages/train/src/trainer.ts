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

/** A deterministic function of (seed, step): the rows of that step's batch (resume reproduces them exactly). */
function batchRows(seed: number, step: number, batchSize: number, rows: number): number[] {
  let s = (seed * 0x9e3779b1 + step * 0x85ebca77 + 0x165667b1) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < batchSize; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.push((s >>> 0) % rows);
  }
  return out;
}

function makeBatch(rows: Int32Array[], idx: number[]): tf.Tensor2D {
  const len = rows[0]!.length;
  const flat = new Int32Array(idx.length * len);
  idx.forEach((r, i) => flat.set(rows[r]!, i * len));
  return tf.tensor2d(flat, [idx.length, len], "int32");
}

export function evaluate(model: TrainableModel, rows: Int32Array[], batchSize: number, maxBatches: number): number {
  let total = 0;
  let n = 0;
  for (let b = 0; b < maxBatches && b * batchSize < rows.length; b++) {
    const idx = Array.from({ length: Math.min(batchSize, rows.length - b * batchSize) }, (_, i) => b * batchSize + i);
    const batch = makeBatch(rows, idx);
    total += tf.tidy(() => model.loss(batch).dataSync()[0]!) * idx.length;
    n += idx.length;
    batch.dispose();
  }
  return total / Math.max(1, n);
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

  // data and tokenizer
  const corpus = loadCorpus(o.data ?? "brown");
  const split = splitDocuments(corpus);
  let tokenizer = o.tokenizer;
  if (!tokenizer) {
    const t0 = performance.now();
    tokenizer = trainBpeTokenizer(split.train.join("\n\n"), { vocabSize: spec.vocab_size });
    log(`tokenizer: ${tokenizer.vocabSize} tokens learned from ${corpus.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (tokenizer.vocabSize > spec.vocab_size) throw new RangeError(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${spec.vocab_size}`);
  const encode = (docs: string[]) => docs.map((d) => tokenizer!.encode(d, { bos: true, eos: true }));
  const trainRows = packSequences(encode(split.train), seqLen);
  const valRows = packSequences(encode(split.validation), seqLen);
  if (trainRows.length === 0 || valRows.length === 0) throw new Error(`data ${corpus.name}: too little text for sequences of ${seqLen} tokens`);
  log(`data: ${corpus.name}, ${trainRows.length} training and ${valRows.length} validation sequences of ${seqLen} tokens`);

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

