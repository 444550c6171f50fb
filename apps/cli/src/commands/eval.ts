import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import { ProgressBar } from "../util/progress-bar";
import { kvBitsOf, kvBitsOption } from "../util/kv-bits-option";
import { defineOptions, type OptionValues } from "../util/options";
import { readTextFlag } from "../util/read-text-flag";
import { defineCommand } from "./command";

const evalOptions = defineOptions({
  textFile: { kind: "string", arg: "<file>", description: "score this text as llama-perplexity -f does: chunks of --ctx tokens, the second half of each scored" },
  ctx: { kind: "int", min: 4, arg: "<n>", default: 512, description: "with --text-file: tokens per chunk (llama-perplexity -c)" },
  chunks: { kind: "int", min: 1, arg: "<n>", description: "with --text-file: score at most n chunks (llama-perplexity --chunks)" },
  json: { kind: "boolean", default: false, description: "print one JSON object {perplexity, tokens_scored, ctx} (with --text-file)" },
  data: { kind: "string", arg: "<source>", default: "brown", description: '"brown" or a text file / folder of .txt files' },
  seqLen: { kind: "int", min: 2, arg: "<n>", default: 64, description: "tokens per scored sequence" },
  sequences: { kind: "int", min: 1, arg: "<n>", default: 64, description: "validation sequences to score" },
  kvBits: kvBitsOption,
  ...runOptions,
  // perplexity is a measurement: exact logits unless asked (generation's default, int4, costs +0.3 % here)
  lmHead: { ...runOptions.lmHead, default: "f32", description: "LM head storage: f32 (default here: exact logits), int8 (W8A16) or int4 (4.25 bits per weight)" },
});

/** llama-perplexity's convention on one text file, with the model's own tokenizer (BOS as its file says). */
async function evalTextFile(source: string, textFile: string, options: OptionValues<typeof evalOptions>): Promise<void> {
  const { chunkedPerplexity } = await import("@onebit/model");
  const text = readTextFlag("--text-file", textFile);
  const ctx = options.ctx;
  const m = await loadModelSource(source, 1, { quiet: options.json });
  if (ctx > m.spec.max_position_embeddings) throw new CliError(`--ctx: ${ctx} exceeds the model's context of ${m.spec.max_position_embeddings}`, 2);
  const tokenizer = requireTokenizer(m);
  // llama-perplexity tokenizes the whole file once, BOS as the vocabulary says, control-token text not parsed
  let tokens = tokenizer.encode(text, { parseSpecial: false });
  if (tokens.length < 2 * ctx) throw new CliError(`--text-file ${textFile}: ${tokens.length} tokens; at least ${2 * ctx} are needed for --ctx ${ctx} (as llama-perplexity requires)`);
  if (options.chunks !== undefined) tokens = tokens.slice(0, options.chunks * ctx);
  const backend = await openBackend(options.backend, options.threads);
  try {
    const model = await buildTransformer(m, backend, options.lmHead, { releaseWeights: true });
    const total = Math.floor(tokens.length / ctx);
    const bar = options.json ? undefined : new ProgressBar({ total, label: "eval", stream: process.stderr });
    let r: ReturnType<typeof chunkedPerplexity>;
    try {
      r = chunkedPerplexity(model, tokens, ctx, { bosId: tokenizer.addBos ? tokenizer.bosId : undefined, kvBits: kvBitsOf(options.kvBits), onChunk: (d) => bar?.update(d) });
    } catch (e) {
      throw new CliError(`${source}: ${(e as Error).message}`);
    } finally {
      bar?.finish();
    }
    if (options.json) process.stdout.write(`${JSON.stringify({ perplexity: r.perplexity, tokens_scored: r.tokensScored, ctx: r.ctx, chunks: r.chunks })}\n`);
    else process.stdout.write(`${source} on ${textFile}: perplexity ${r.perplexity.toFixed(4)} over ${r.tokensScored} tokens (${r.chunks} chunks of ${ctx}, second halves scored, as llama-perplexity)\n`);
  } finally {
    backend.dispose();
  }
}

export const evalCommand = defineCommand({
  name: "eval",
  description: "perplexity of a model on the Brown corpus's validation split, or on a text file by llama-perplexity's convention (--text-file, --ctx)",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder", required: true }],
  options: evalOptions,
  async run({ args, options }) {
    if (options.textFile !== undefined) return evalTextFile(args[0], options.textFile, options);
    if (options.json) throw new CliError("--json: only with --text-file", 2);
    const { loadCorpus, packSequences, splitDocuments } = await import("@onebit/train/data");
    const { perplexity } = await import("@onebit/model");
    const m = await loadModelSource(args[0]);
    const tokenizer = requireTokenizer(m);
    let corpus: ReturnType<typeof loadCorpus>;
    try {
      corpus = loadCorpus(options.data);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const seqLen = options.seqLen;
    if (seqLen > m.spec.max_position_embeddings) throw new CliError(`--seq-len: ${seqLen} exceeds the model's context of ${m.spec.max_position_embeddings}`, 2);
    const { validation } = splitDocuments(corpus);
    const rows = packSequences(validation.map((d) => tokenizer.encode(d, { bos: true, eos: true })), seqLen).slice(0, options.sequences);
    if (rows.length === 0) throw new CliError(`--data ${options.data}: the validation split has fewer than ${seqLen + 1} tokens`);
    const backend = await openBackend(options.backend, options.threads);
    try {
      const model = await buildTransformer(m, backend, options.lmHead, { releaseWeights: true });
      const bar = new ProgressBar({ total: rows.length, label: "eval" });
      const t0 = performance.now();
      const r = perplexity(model, rows, { kvBits: kvBitsOf(options.kvBits), onSequence: (d) => bar.update(d) });
      bar.finish();
      const secs = (performance.now() - t0) / 1000;
      process.stdout.write(`${m.source} on ${corpus.name} (validation): perplexity ${r.perplexity.toFixed(2)} over ${r.tokens} tokens in ${r.sequences} sequences of ${seqLen} (${(r.tokens / secs).toFixed(0)} tok/s, KV ${options.kvBits}-bit)\n`);
    } finally {
      backend.dispose();
    }
  },
});
