/**
 * Prefill and decode speed of a Transformer: a `promptTokens` prompt in one forward pass, then `decodeTokens`
 * single-token steps (greedy, through the KV cache), each timed; medians are robust to the noisy shared machines
 * we run on. Resident memory is read after the run.
 */
import type { KvBits } from "@onebit/kv";
import type { Transformer } from "./transformer";
import { ModelInputError } from "./model-input-error";

export interface ModelBenchmark {
  promptTokens: number;
  decodeTokens: number;
  prefillMs: number;
  prefillTokensPerSecond: number;
  /** median single-token decode time */
  decodeMsMedian: number;
  decodeTokensPerSecond: number;
  /** process resident set size after the run, bytes (Node only; 0 elsewhere) */
  residentBytes: number;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

export function benchmarkModel(model: Transformer, options: { promptTokens?: number; decodeTokens?: number; kvBits?: KvBits; seed?: number } = {}): ModelBenchmark {
  const promptTokens = options.promptTokens ?? 128;
  const decodeTokens = options.decodeTokens ?? 32;
  for (const [k, v] of [["promptTokens", promptTokens], ["decodeTokens", decodeTokens]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ModelInputError(`benchmarkModel ${k}: expected a positive integer, got ${v}`);
  const vocab = model.spec.vocab_size;
  let s = (options.seed ?? 1) >>> 0 || 1;
  const prompt = Array.from({ length: promptTokens }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 3 + (s % (vocab - 3));
  });
  const cache = model.newCache({ maxTokens: promptTokens + decodeTokens, bits: options.kvBits ?? 32 });
  const t0 = performance.now();
  let logits = model.forward(prompt, cache);
  const prefillMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < decodeTokens; i++) {
    const t = performance.now();
    logits = model.forward([argmax(logits)], cache);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const decodeMsMedian = times[Math.floor(times.length / 2)]!;
  const g = globalThis as { process?: { memoryUsage?: () => { rss: number } } };
  return {
    promptTokens,
    decodeTokens,
    prefillMs,
    prefillTokensPerSecond: (promptTokens * 1000) / prefillMs,
    decodeMsMedian,
    decodeTokensPerSecond: 1000 / decodeMsMedian,
    residentBytes: g.process?.memoryUsage?.().rss ?? 0,
  };
}
