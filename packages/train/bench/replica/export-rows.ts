/**
 * Writes the acceptance run's token rows (the tokenizer in ../results/tokenizer.json, the Brown split, rows of
 * 64 + 1 tokens) as int32 files for the PyTorch replica: <repo>/.onebit-cache/replica/{train,val}.bin.
 * Run from packages/train: `npx tsx --conditions=source bench/replica/export-rows.ts`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BpeTokenizer } from "@onebit/model";
import { loadCorpus, tokenRows } from "../../src/text-data";

const here = dirname(fileURLToPath(import.meta.url));
const tokPath = join(here, "../results/tokenizer.json");
const out = join(here, "../../../../.onebit-cache/replica");
const tokenizer = BpeTokenizer.fromJSON(JSON.parse(readFileSync(tokPath, "utf8")), tokPath);
const { trainRows, valRows } = tokenRows(loadCorpus("brown"), tokenizer, 64);
const flat = (rows: Int32Array[]) => {
  const a = new Int32Array(rows.length * 65);
  rows.forEach((r, i) => a.set(r, i * 65));
  return Buffer.from(a.buffer);
};
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "train.bin"), flat(trainRows));
writeFileSync(join(out, "val.bin"), flat(valRows));
console.log(`${trainRows.length} training and ${valRows.length} validation rows → ${out}`);
