/**
 * Training batches, shared by the single-thread and the tensor-parallel trainer: data preparation (corpus →
 * tokenizer → packed rows), the deterministic batch of each step, and validation loss.
 */
import { type BpeTokenizer, type ModelSpec, trainBpeTokenizer } from "@onebit/model";
import { loadCorpus, packSequences, splitDocuments } from "./text-data";
import { tf } from "./tf-backend";
import type { TrainableModel } from "./trainable-model";

export interface TrainingData {
  tokenizer: BpeTokenizer;
  trainRows: Int32Array[];
  valRows: Int32Array[];
}

export function prepareTrainingData(o: { spec: ModelSpec; data?: string; tokenizer?: BpeTokenizer; seqLen?: number }, log: (m: string) => void): TrainingData {
  const spec = o.spec;
  const seqLen = o.seqLen ?? 64;
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

  return { tokenizer, trainRows, valRows };
}

/** A deterministic function of (seed, step): the rows of that step's batch (resume reproduces them exactly). */
export function batchRows(seed: number, step: number, batchSize: number, rows: number): number[] {
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

export function makeBatch(rows: Int32Array[], idx: number[]): tf.Tensor2D {
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

