/**
 * Documents → training rows, without the file system (browser-safe; text-data.ts re-exports it for Node): the
 * deterministic train/validation split, BPE tokenization (each document BOS … EOS) and packing into rows of
 * seqLen + 1 tokens (inputs and the targets shifted by one).
 */
import type { BpeTokenizer } from "@onebit/model";

export interface Corpus {
  name: string;
  documents: string[];
}

/** Every `every`-th document (1-based positions every, 2·every, …) is validation; the rest is training. */
export function splitDocuments(corpus: Corpus, every = 20): { train: string[]; validation: string[] } {
  if (corpus.documents.length < 2) {
    // a single document: the last 5 % of its characters is validation
    const text = corpus.documents[0] ?? "";
    const cut = Math.floor(text.length * 0.95);
    return { train: [text.slice(0, cut)], validation: [text.slice(cut)] };
  }
  const train: string[] = [];
  const validation: string[] = [];
  corpus.documents.forEach((d, i) => {
    ((i + 1) % every === 0 ? validation : train).push(d);
  });
  if (validation.length === 0) validation.push(train.pop()!);
  return { train, validation };
}

/** Concatenate token streams (each document BOS … EOS) and cut into rows of seqLen + 1 (input + shifted target). */
export function packSequences(docs: number[][], seqLen: number): Int32Array[] {
  const stream: number[] = [];
  for (const d of docs) for (const t of d) stream.push(t);
  const rows: Int32Array[] = [];
  for (let i = 0; i + seqLen + 1 <= stream.length; i += seqLen) rows.push(Int32Array.from(stream.slice(i, i + seqLen + 1)));
  return rows;
}

/** Split, tokenize and pack a corpus: rows [n, seqLen + 1] for training and for validation. */
export function tokenRows(corpus: Corpus, tokenizer: BpeTokenizer, seqLen: number): { trainRows: Int32Array[]; valRows: Int32Array[] } {
  const split = splitDocuments(corpus);
  const encode = (docs: string[]) => docs.map((d) => tokenizer.encode(d, { bos: true, eos: true }));
  return { trainRows: packSequences(encode(split.train), seqLen), valRows: packSequences(encode(split.validation), seqLen) };
}
