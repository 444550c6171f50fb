/**
 * Training data for `train()` in Node: the corpus (Brown, or a text file / folder), a BPE tokenizer trained on its
 * training documents unless one is given, and the packed rows [n, seqLen + 1] of both splits.
 */
import { type BpeTokenizer, type ModelSpec, trainBpeTokenizer } from "@onebit/model";
import { loadCorpus } from "./text-data";
import { splitDocuments, tokenRows } from "./token-rows";
import { TrainConfigError, TrainDataError } from "./train-errors";

export interface TrainingData {
  tokenizer: BpeTokenizer;
  trainRows: Int32Array[];
  valRows: Int32Array[];
}

export function prepareTrainingData(o: { spec: ModelSpec; data?: string; tokenizer?: BpeTokenizer; seqLen?: number }, log: (m: string) => void): TrainingData {
  const spec = o.spec;
  const seqLen = o.seqLen ?? 64;
  const corpus = loadCorpus(o.data ?? "brown");
  let tokenizer = o.tokenizer;
  if (!tokenizer) {
    const t0 = performance.now();
    tokenizer = trainBpeTokenizer(splitDocuments(corpus).train.join("\n\n"), { vocabSize: spec.vocab_size });
    log(`tokenizer: ${tokenizer.vocabSize} tokens learned from ${corpus.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (tokenizer.vocabSize > spec.vocab_size) throw new TrainConfigError(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${spec.vocab_size}`);
  const { trainRows, valRows } = tokenRows(corpus, tokenizer, seqLen);
  if (trainRows.length === 0 || valRows.length === 0) throw new TrainDataError(`data ${corpus.name}: too little text for sequences of ${seqLen} tokens`);
  log(`data: ${corpus.name}, ${trainRows.length} training and ${valRows.length} validation sequences of ${seqLen} tokens`);
  return { tokenizer, trainRows, valRows };
}
