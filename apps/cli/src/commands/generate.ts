import type { KvBits } from "@onebit/kv";
import type { GenerationStats } from "@onebit/model";
import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import type { OptionSpec, OptionValues } from "../util/options";
import { TextStreamer } from "../util/text-streamer";
import { checkContext } from "../util/usage-limits";
import type { CommandDef } from "./command";

export const samplingOptions: OptionSpec[] = [
  { key: "maxTokens", kind: "int", min: 1, arg: "<n>", default: 64, description: "tokens to generate at most" },
  { key: "temperature", kind: "number", min: 0, arg: "<t>", default: 0.8, description: "sampling temperature (0 = greedy)" },
  { key: "topK", kind: "int", min: 0, arg: "<k>", default: 40, description: "sample from the k most likely tokens (0 = off)" },
  { key: "topP", kind: "number", exclusiveMin: 0, max: 1, arg: "<p>", default: 0.95, description: "nucleus sampling mass (1 = off)" },
  { key: "repetitionPenalty", kind: "number", min: 1, arg: "<r>", default: 1.1, description: "penalty on tokens already seen (1 = off)" },
  { key: "seed", kind: "int", min: 0, arg: "<n>", default: 0, description: "sampling seed (same seed, same text)" },
  { key: "kvBits", kind: "choice", choices: ["32", "16", "4", "3"], default: "32", arg: "<bits>", description: "KV cache precision" },
];

export function samplingFrom(o: OptionValues) {
  return {
    maxTokens: o.maxTokens as number,
    temperature: o.temperature as number,
    topK: (o.topK as number) || undefined,
    topP: o.topP as number,
    repetitionPenalty: o.repetitionPenalty as number,
    seed: o.seed as number,
    kvBits: Number(o.kvBits) as KvBits,
  };
}

export function describeStats(s: GenerationStats): string {
  const prefill = s.prefillMs > 0 ? (s.promptTokens * 1000) / s.prefillMs : 0;
  const decode = s.decodeMs > 0 ? (Math.max(0, s.generatedTokens - 1) * 1000) / s.decodeMs : 0;
  return `${s.promptTokens} prompt tokens at ${prefill.toFixed(0)} tok/s · ${s.generatedTokens} generated at ${decode.toFixed(0)} tok/s · stopped: ${s.stopReason}`;
}

export const generateCommand: CommandDef = {
  name: "generate",
  description: "stream text from a model (.gguf, Hugging Face folder or onebit checkpoint)",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder (from onebit train / demo)", required: true }],
  options: [{ key: "prompt", kind: "string", short: "p", arg: "<text>", default: "The", description: "text to continue" }, ...samplingOptions, ...runOptions],
  async run({ args, options }) {
    const { generate } = await import("@onebit/model");
    const m = await loadModelSource(args[0]!);
    const tokenizer = requireTokenizer(m);
    const backend = await openBackend(options.backend as string, options.threads as number | undefined);
    try {
      const model = await buildTransformer(m, backend, options.lmHead as string);
      const prompt = tokenizer.encode(options.prompt as string); // BOS as the tokenizer file says
      // checked before the prompt is echoed: a run that cannot finish prints nothing
      if (prompt.length >= model.spec.max_position_embeddings) throw new CliError(`--prompt: ${prompt.length} tokens do not fit the model's context of ${model.spec.max_position_embeddings}`, 2);
      const maxTokens = options.maxTokens as number;
      checkContext(`--max-tokens ${maxTokens}`, prompt.length + maxTokens, model.spec, `${prompt.length} prompt tokens + ${maxTokens} generated (at most ${model.spec.max_position_embeddings - prompt.length} fit)`);
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once("SIGINT", onSigint);
      const stats = {} as GenerationStats;
      const streamer = new TextStreamer(tokenizer);
      process.stdout.write(options.prompt as string);
      for await (const t of generate(model, prompt, { ...samplingFrom(options), vocabLimit: tokenizer.vocabSize, signal: ac.signal, stopTokens: tokenizer.eosIds.length > 0 ? [...tokenizer.eosIds] : undefined }, stats)) process.stdout.write(streamer.push(t.id));
      process.stdout.write(`${streamer.flush()}\n`);
      process.off("SIGINT", onSigint);
      process.stderr.write(`${describeStats(stats)}\n`);
    } finally {
      backend.dispose();
    }
  },
};
