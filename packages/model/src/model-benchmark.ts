/**
 * Prefill and decode speed of a Transformer: a `promptTokens` prompt in one forward pass, then `decodeTokens`
 * single-token steps (greedy, through the KV cache), each timed; medians are robust to the noisy shared machines
 * we run on. Resident memory is read after the run.
 */
import type { KvBits, KvCache } from "@onebit/kv";
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

interface BenchmarkOptions {
  promptTokens?: number;
  decodeTokens?: number;
  kvBits?: KvBits;
  seed?: number;
  /**
   * Where the timed decode steps start: "after-prompt" (default) continues from the prompt, at positions
   * promptTokens…; "empty" starts a fresh cache at position 0 (the prompt's first token), as llama-bench's
   * text-generation test (`-n`) does, so its tokens/s compare like for like.
   */
  decodeContext?: "after-prompt" | "empty";
}

/** The run's settings, its random prompt (ids from 3, past the usual special tokens) and its cache. */
function setUp(model: Transformer, options: BenchmarkOptions) {
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
  const decodeContext = options.decodeContext ?? "after-prompt";
  if (decodeContext !== "after-prompt" && decodeContext !== "empty")
    throw new ModelInputError(`benchmarkModel decodeContext: expected "after-prompt" or "empty", got ${JSON.stringify(decodeContext)}`);
  const bits = options.kvBits ?? 32;
  const empty = decodeContext === "empty";
  const cache = model.newCache({ maxTokens: promptTokens + (empty ? 0 : decodeTokens), bits });
  // decoding from an empty context: its own cache, and the prompt's first token as the first input
  const decodeCache = empty ? model.newCache({ maxTokens: decodeTokens, bits }) : cache;
  const firstId = empty ? prompt[0]! : undefined;
  return { promptTokens, decodeTokens, prompt, cache, decodeCache, firstId };
}

/**
 * The run's caches go back to the backend's memory at once (a wasm heap reuses the blocks), rather than when the
 * garbage collector gets to them: a warm-up run before a timed one would otherwise leave its cache's pages resident
 * beside the timed run's (≈ 10 MB for the 2B4T shape and 68 tokens).
 */
function releaseCaches(cache: KvCache, decodeCache: KvCache): void {
  cache.dispose();
  if (decodeCache !== cache) decodeCache.dispose();
}

function summarize(promptTokens: number, decodeTokens: number, prefillMs: number, times: number[]): ModelBenchmark {
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

/** On a host backend (js, wasm, webgl): each step's logits come back at once. */
export function benchmarkModel(model: Transformer, options: BenchmarkOptions = {}): ModelBenchmark {
  const { promptTokens, decodeTokens, prompt, cache, decodeCache, firstId } = setUp(model, options);
  // one logits buffer, as a decode loop uses it (generate): each step's are read before the next overwrites them
  const out = new Float32Array(model.spec.vocab_size);
  try {
    const t0 = performance.now();
    let logits = model.forward(prompt, cache, { out });
    const prefillMs = performance.now() - t0;
    const times: number[] = [];
    for (let i = 0; i < decodeTokens; i++) {
      // the next id is picked before the clock starts: a step is the model's forward pass, as llama-bench times it
      // (its text-generation test samples nothing; an argmax over a 128k vocabulary is ≈ 0.1–0.2 ms)
      const next = i === 0 && firstId !== undefined ? firstId : argmax(logits);
      const t = performance.now();
      logits = model.forward([next], decodeCache, { out });
      times.push(performance.now() - t);
    }
    return summarize(promptTokens, decodeTokens, prefillMs, times);
  } finally {
    releaseCaches(cache, decodeCache);
  }
}

/**
 * On any backend, a device backend (webgpu) included: each step awaits its logits (`forwardAsync`, the one read
 * back of a step), so a step's time is what generation sees.
 */
export async function benchmarkModelAsync(model: Transformer, options: BenchmarkOptions = {}): Promise<ModelBenchmark> {
  const { promptTokens, decodeTokens, prompt, cache, decodeCache, firstId } = setUp(model, options);
  const out = new Float32Array(model.spec.vocab_size);
  try {
    const t0 = performance.now();
    let logits = await model.forwardAsync(prompt, cache, { out });
    const prefillMs = performance.now() - t0;
    const times: number[] = [];
    for (let i = 0; i < decodeTokens; i++) {
      const next = i === 0 && firstId !== undefined ? firstId : argmax(logits);
      const t = performance.now();
      logits = await model.forwardAsync([next], decodeCache, { out });
      times.push(performance.now() - t);
    }
    return summarize(promptTokens, decodeTokens, prefillMs, times);
  } finally {
    releaseCaches(cache, decodeCache);
  }
}
