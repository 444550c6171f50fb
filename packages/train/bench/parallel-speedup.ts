/**
 * `pnpm bench:parallel` — the 2-worker speed-up of group-quantized tensor-parallel training: the same G-group
 * spec, seed and batches trained on one thread and on G worker threads in one process; prints tokens/s of each,
 * the ratio, and the largest loss difference between the two curves.
 * Options (env): PAR_PRESET (b1.58-tiny), PAR_STEPS (30), PAR_BATCH (8), PAR_SEQ (64), PAR_WORKERS (2).
 */
import { cpus } from "node:os";
import { parseModelSpec, presetByName, trainBpeTokenizer } from "@onebit/model";
import { loadCorpus, splitDocuments } from "../src/text-data";
import { train } from "../src/trainer";

const env = process.env;
const G = Number(env.PAR_WORKERS ?? 2);
const steps = Number(env.PAR_STEPS ?? 30);
const base = presetByName(env.PAR_PRESET ?? "b1.58-tiny");
const spec = parseModelSpec({ ...base, onebit: { ...base.onebit, groups: G } });
const tokenizer = trainBpeTokenizer(splitDocuments(loadCorpus("brown")).train.join("\n\n"), { vocabSize: spec.vocab_size });
const options = { spec, data: "brown", tokenizer, steps, batchSize: Number(env.PAR_BATCH ?? 8), seqLen: Number(env.PAR_SEQ ?? 64), lr: 3e-3, seed: 1 };
console.log(`parallel training: ${env.PAR_PRESET ?? "b1.58-tiny"} with ${G} groups, ${steps} steps of ${options.batchSize}×${options.seqLen} tokens; ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}\n`);
const single = await train(options);
const parallel = await train({ ...options, workers: G });
const maxDiff = Math.max(...single.history.map((h, i) => Math.abs(h.loss - parallel.history[i]!.loss)));
const rows = [
  ["1 thread (G groups)", single.tokensPerSecond.toFixed(0), single.seconds.toFixed(1), "1.00×", single.validationLoss.toFixed(4)],
  [`${G} workers`, parallel.tokensPerSecond.toFixed(0), parallel.seconds.toFixed(1), `${(parallel.tokensPerSecond / single.tokensPerSecond).toFixed(2)}×`, parallel.validationLoss.toFixed(4)],
];
const header = ["run", "train tok/s", "seconds", "speed-up", "val loss"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join("  ");
console.log(`${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${rows.map(line).join("\n")}\n\nlargest per-step loss difference: ${maxDiff.toExponential(2)}`);
