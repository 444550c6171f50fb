import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import { ProgressBar } from "../util/progress-bar";
import type { CommandDef } from "./command";

export const evalCommand: CommandDef = {
  name: "eval",
  description: "validation perplexity of a checkpoint on the Brown corpus or your text (inference engine)",
  args: [{ name: "model", description: "checkpoint directory", required: true }],
  options: [
    { key: "data", kind: "string", arg: "<source>", default: "brown", description: '"brown" or a text file / folder of .txt files' },
    { key: "seqLen", kind: "int", min: 2, arg: "<n>", default: 64, description: "tokens per scored sequence" },
    { key: "sequences", kind: "int", min: 1, arg: "<n>", default: 64, description: "validation sequences to score" },
    { key: "kvBits", kind: "choice", choices: ["32", "16", "4", "3"], default: "32", arg: "<bits>", description: "KV cache precision" },
    ...runOptions,
  ],
  async run({ args, options }) {
    const { loadCorpus, packSequences, splitDocuments } = await import("@onebit/train/data");
    const { perplexity } = await import("@onebit/model");
    const m = await loadModelSource(args[0]!);
    const tokenizer = requireTokenizer(m);
    let corpus: ReturnType<typeof loadCorpus>;
    try {
      corpus = loadCorpus(options.data as string);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const seqLen = options.seqLen as number;
    if (seqLen > m.spec.max_position_embeddings) throw new CliError(`--seq-len: ${seqLen} exceeds the model's context of ${m.spec.max_position_embeddings}`);
    const { validation } = splitDocuments(corpus);
    const rows = packSequences(validation.map((d) => tokenizer.encode(d, { bos: true, eos: true })), seqLen).slice(0, options.sequences as number);
    if (rows.length === 0) throw new CliError(`--data ${options.data}: the validation split has fewer than ${seqLen + 1} tokens`);
    const backend = await openBackend(options.backend as string, options.threads as number | undefined);
    try {
      const model = await buildTransformer(m, backend, options.lmHead as string);
      const bar = new ProgressBar({ total: rows.length, label: "eval" });
      const t0 = performance.now();
      const r = perplexity(model, rows, { kvBits: Number(options.kvBits) as 32, onSequence: (d) => bar.update(d) });
      bar.finish();
      const secs = (performance.now() - t0) / 1000;
      process.stdout.write(`${m.source} on ${corpus.name} (validation): perplexity ${r.perplexity.toFixed(2)} over ${r.tokens} tokens in ${r.sequences} sequences of ${seqLen} (${(r.tokens / secs).toFixed(0)} tok/s, KV ${options.kvBits}-bit)\n`);
    } finally {
      backend.dispose();
    }
  },
};
