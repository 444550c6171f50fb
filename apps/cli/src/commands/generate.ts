import type { GenerationStats } from "@onebit/model";
import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import { kvBitsOf, kvBitsOption } from "../util/kv-bits-option";
import { defineOptions, type OptionValues } from "../util/options";
import { checkContext } from "../util/usage-limits";
import { defineCommand } from "./command";

export const samplingOptions = defineOptions({
  maxTokens: { kind: "int", min: 1, arg: "<n>", default: 64, description: "tokens to generate at most" },
  temperature: { kind: "number", min: 0, arg: "<t>", default: 0.8, description: "sampling temperature (0 = greedy)" },
  topK: { kind: "int", min: 0, arg: "<k>", default: 40, description: "sample from the k most likely tokens (0 = off)" },
  topP: { kind: "number", exclusiveMin: 0, max: 1, arg: "<p>", default: 0.95, description: "nucleus sampling mass (1 = off)" },
  repetitionPenalty: { kind: "number", min: 1, arg: "<r>", default: 1.1, description: "penalty on tokens already seen (1 = off)" },
  seed: { kind: "int", min: 0, arg: "<n>", default: 0, description: "sampling seed (same seed, same text)" },
  kvBits: kvBitsOption,
});

export function samplingFrom(o: OptionValues<typeof samplingOptions>) {
  return {
    maxTokens: o.maxTokens,
    temperature: o.temperature,
    topK: o.topK || undefined,
    topP: o.topP,
    repetitionPenalty: o.repetitionPenalty,
    seed: o.seed,
    kvBits: kvBitsOf(o.kvBits),
  };
}

export function describeStats(s: GenerationStats): string {
  const prefill = s.prefillMs > 0 ? (s.promptTokens * 1000) / s.prefillMs : 0;
  const decode = s.decodeMs > 0 ? (Math.max(0, s.generatedTokens - 1) * 1000) / s.decodeMs : 0;
  return `${s.promptTokens} prompt tokens at ${prefill.toFixed(0)} tok/s · ${s.generatedTokens} generated at ${decode.toFixed(0)} tok/s · stopped: ${s.stopReason}`;
}

export const generateCommand = defineCommand({
  name: "generate",
  description: "stream text from a model (.gguf, Hugging Face folder or onebit checkpoint)",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder (from onebit train / demo)", required: true }],
  options: defineOptions({ prompt: { kind: "string", short: "p", arg: "<text>", default: "The", description: "text to continue" }, ...samplingOptions, ...runOptions }),
  async run({ args, options }) {
    const { generate, TextStreamer } = await import("@onebit/model");
    const m = await loadModelSource(args[0]);
    const tokenizer = requireTokenizer(m);
    const backend = await openBackend(options.backend, options.threads);
    try {
      const model = await buildTransformer(m, backend, options.lmHead, { releaseWeights: true });
      const prompt = tokenizer.encode(options.prompt); // BOS as the tokenizer file says
      // checked before the prompt is echoed: a run that cannot finish prints nothing
      if (prompt.length >= model.spec.max_position_embeddings) throw new CliError(`--prompt: ${prompt.length} tokens do not fit the model's context of ${model.spec.max_position_embeddings}`, 2);
      const maxTokens = options.maxTokens;
      checkContext(`--max-tokens ${maxTokens}`, prompt.length + maxTokens, model.spec, `${prompt.length} prompt tokens + ${maxTokens} generated (at most ${model.spec.max_position_embeddings - prompt.length} fit)`);
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once("SIGINT", onSigint);
      const stats = {} as GenerationStats;
      const streamer = new TextStreamer(tokenizer);
      process.stdout.write(options.prompt);
      for await (const t of generate(model, prompt, { ...samplingFrom(options), vocabLimit: tokenizer.vocabSize, signal: ac.signal, stopTokens: tokenizer.eosIds.length > 0 ? [...tokenizer.eosIds] : undefined }, stats)) process.stdout.write(streamer.push(t.id));
      process.stdout.write(`${streamer.flush()}\n`);
      process.off("SIGINT", onSigint);
      process.stderr.write(`${describeStats(stats)}\n`);
    } finally {
      backend.dispose();
    }
  },
});
