/**
 * The model worker: everything that takes time in the Run and Look-inside tabs happens here, so the page never
 * freezes — reading a model (tensor by tensor, with progress), creating a kernel backend (wasm threads block in
 * Atomics.wait, which a page's main thread may not), generating, benchmarking and counting weights. One request at
 * a time, in order; "stop" is handled at once (generation yields between tokens).
 * A failed load keeps the previous model; a failed backend keeps the model, so another backend can be picked.
 */
/// <reference lib="webworker" />
import { type Backend, createBackend } from "@onebit/kernels";
import {
  benchmarkModelAsync,
  bitnet2B4TSpec,
  generate,
  type GenerationStats,
  type ModelSpec,
  type ModelWeights,
  openModelFiles,
  parameterCounts,
  randomPackedWeights,
  runtimeReport,
  type Tokenizer,
  tokenizerFromJson,
  TextStreamer,
  Transformer,
} from "@onebit/model";
import { estimateModelBytes, ModelTooLargeError } from "../env/memory-budget";
import { projectionStats, type ProjectionStats } from "../inspect/weight-stats";
import { filesFromPicked, filesFromUrl } from "../io/model-files-from";
import { specTensorTable } from "./spec-tensor-table";
import type { BackendChoice, BackendInfo, FromWorker, LayerInspection, ModelInfo, RuntimeSummary, ToWorker } from "./worker-protocol";

declare const self: DedicatedWorkerGlobalScope;

interface Loaded {
  info: ModelInfo;
  spec: ModelSpec;
  /**
   * The weights as read, or undefined once a backend holds them: a model read from files, a URL or the random
   * shape is not kept twice (its weights go into the backend's memory, the copies read are released, as the CLI
   * does), so the tab holds about the backend's copy alone — for the 2B4T that halves it. `reread` reads them
   * again when they are needed: another backend, or the Look-inside statistics.
   */
  weights: ModelWeights | undefined;
  /** Read the weights again from where they came from; undefined: they are kept (a model trained in this page). */
  reread?: (progress: (done: number, total: number) => void) => Promise<ModelWeights>;
  tokenizer?: Tokenizer;
}

let loaded: Loaded | undefined;
let backend: Backend | undefined;
let backendChoice: BackendChoice | undefined;
let model: Transformer | undefined;
let weightStats: ProjectionStats[][] | undefined;
let generation: AbortController | undefined;

function post(m: FromWorker): void {
  self.postMessage(m);
}

function backendInfo(): BackendInfo {
  return { name: backend!.name as BackendInfo["name"], threads: backend!.threads, simd: backend!.simd, lmHead: backendChoice!.lmHead };
}

function dropBackend(): void {
  model = undefined;
  backend?.dispose();
  backend = undefined;
}

/** The loaded model's weights: the ones read, or read again (a released model) with progress under `id`. */
async function weightsOf(l: Loaded, id: number | undefined): Promise<ModelWeights> {
  if (l.weights) return l.weights;
  return l.reread!((done, total) => {
    if (id !== undefined) post({ type: "progress", id, phase: "reading the weights again", done, total });
  });
}

/**
 * A fresh backend and Transformer for the loaded weights (the previous backend is disposed first: its memory goes).
 * A model that can be read again gives its weights up to the backend (Transformer `releaseWeights`).
 */
async function build(choice: BackendChoice, id?: number): Promise<void> {
  dropBackend();
  backendChoice = choice;
  const l = loaded!;
  const weights = await weightsOf(l, id);
  const release = l.reread !== undefined;
  const b = choice.name === "wasm" ? await createBackend("wasm", { threads: choice.threads, simd: choice.simd }) : await createBackend(choice.name);
  try {
    model = new Transformer(l.spec, weights, { backend: b, lmHead: choice.lmHead, releaseWeights: release });
  } catch (e) {
    b.dispose();
    throw e;
  } finally {
    // (released tensors are gone from the map even when placing failed part way)
    if (release) l.weights = undefined;
  }
  backend = b;
  // a page started with --js-flags=--expose-gc (bench/memory-bench.ts) collects the released copies now; elsewhere
  // there is no gc and the browser collects them when it will
  (globalThis as { gc?: () => void }).gc?.();
}

function runtime(): RuntimeSummary {
  const r = runtimeReport(model!);
  return { memory: r.memory, sparsity: r.sparsity as Record<string, number> };
}

function describe(name: string, format: string, architecture: string, spec: ModelSpec, tokenizer: Tokenizer | undefined, notes: string[], t0: number): ModelInfo {
  return {
    name,
    format,
    architecture,
    variant: spec.onebit.variant,
    layers: spec.num_hidden_layers,
    hidden: spec.hidden_size,
    intermediate: spec.intermediate_size,
    heads: `${spec.num_attention_heads} / ${spec.num_key_value_heads} KV`,
    vocab: spec.vocab_size,
    context: spec.max_position_embeddings,
    parameters: parameterCounts(spec).total,
    tokenizer: tokenizer ? `${tokenizer.kind}, ${tokenizer.vocabSize} tokens` : undefined,
    notes,
    loadSeconds: (performance.now() - t0) / 1000,
  };
}

async function load(m: Extract<ToWorker, { type: "load" }>): Promise<void> {
  const t0 = performance.now();
  const checkFits = (table: Parameters<typeof estimateModelBytes>[0]) => {
    const needed = estimateModelBytes(table, m.backend.lmHead);
    if (needed > m.budget.bytes) throw new ModelTooLargeError(table.file, needed, m.budget);
  };
  let next: Loaded;
  const s = m.source;
  if (s.kind === "random-2b4t") {
    const spec = bitnet2B4TSpec();
    const name = "BitNet b1.58 2B4T shape, random weights";
    checkFits(specTensorTable(spec, name));
    post({ type: "progress", id: m.id, phase: "making random ternary weights", done: 0, total: 1 });
    // in a wasm backend, speed does not depend on the values: random codes measure what a real 2B4T would run at
    next = {
      spec,
      weights: randomPackedWeights(spec, 1),
      reread: async () => randomPackedWeights(spec, 1),
      info: describe(name, "random", "onebit", spec, undefined, ["random weights: for speed and memory only; there is no tokenizer, so it cannot read text"], t0),
    };
  } else if (s.kind === "weights") {
    checkFits(specTensorTable(s.spec, s.name));
    const tokenizer = s.tokenizer === undefined ? undefined : tokenizerFromJson(s.tokenizer, `${s.name}/tokenizer.json`);
    next = { spec: s.spec, weights: s.weights, tokenizer, info: describe(s.name, "trained in this page", "onebit", s.spec, tokenizer, [], t0) };
  } else {
    post({ type: "progress", id: m.id, phase: "reading headers", done: 0, total: 1 });
    const read = async () => (s.kind === "files" ? filesFromPicked(s.name, s.files) : filesFromUrl(s.url, s.list));
    const opened = await openModelFiles(await read(), {
      beforeTensors: checkFits,
      onProgress: (done, total) => post({ type: "progress", id: m.id, phase: "reading tensors", done, total }),
    });
    // (picked files are read from disk again; a URL is fetched again, from the browser's cache when it has it)
    const reread = async (progress: (done: number, total: number) => void) => (await openModelFiles(await read(), { onProgress: progress })).weights;
    next = { spec: opened.spec, weights: opened.weights, reread, tokenizer: opened.tokenizer, info: describe(opened.path, opened.format, opened.architecture.id, opened.spec, opened.tokenizer, opened.notes, t0) };
  }
  if (next.reread) next.info.notes.push("the weights live in the backend alone: another backend or Look inside reads them again");
  // the new model is read: only now does the old one go
  dropBackend();
  loaded = next;
  weightStats = undefined;
  post({ type: "progress", id: m.id, phase: `preparing the ${m.backend.name} backend`, done: 1, total: 1 });
  let backendError: string | undefined;
  try {
    await build(m.backend, m.id);
  } catch (e) {
    backendError = `backend "${m.backend.name}": ${(e as Error).message}`;
  }
  loaded.info.loadSeconds = (performance.now() - t0) / 1000;
  post({ type: "loaded", id: m.id, info: loaded.info, backend: model ? backendInfo() : undefined, backendError });
}

function requireModel(): Transformer {
  if (!loaded) throw new Error("no model is open: open one first (the shipped model, a file, a folder or a URL)");
  if (!model) throw new Error(`the model has no working backend (${backendChoice?.name ?? "none"} failed): pick another backend and apply it`);
  return model;
}

async function run(m: Extract<ToWorker, { type: "generate" }>): Promise<void> {
  const transformer = requireModel();
  const tokenizer = loaded!.tokenizer;
  if (!tokenizer) throw new Error(`${loaded!.info.name}: has no tokenizer, so it cannot read a prompt (the speed test still runs)`);
  const prompt = tokenizer.encode(m.prompt);
  if (prompt.length === 0) throw new Error("prompt: encodes to no tokens (and the tokenizer adds no BOS): type some text");
  const context = transformer.spec.max_position_embeddings;
  if (prompt.length >= context) throw new Error(`prompt: ${prompt.length} tokens do not fit the model's context of ${context}`);
  const { temperature, topK, topP, seed } = m.sampling;
  const maxTokens = Math.min(m.sampling.maxTokens, context - prompt.length);
  generation = new AbortController();
  const stats = {} as GenerationStats;
  const streamer = new TextStreamer(tokenizer);
  const rate = () => (stats.generatedTokens > 1 && stats.decodeMs > 0 ? ((stats.generatedTokens - 1) * 1000) / stats.decodeMs : 0);
  try {
    const options = { temperature, topK: topK || undefined, topP, maxTokens, seed, signal: generation.signal, vocabLimit: tokenizer.vocabSize, stopTokens: tokenizer.eosIds.length > 0 ? [...tokenizer.eosIds] : undefined };
    for await (const t of generate(transformer, prompt, options, stats)) {
      post({ type: "token", id: m.id, text: streamer.push(t.id), index: t.index, tokensPerSecond: rate() });
    }
  } finally {
    generation = undefined;
  }
  const rest = streamer.flush();
  post({
    type: "generated",
    id: m.id,
    text: rest,
    summary: {
      promptTokens: stats.promptTokens,
      generatedTokens: stats.generatedTokens,
      prefillTokensPerSecond: stats.prefillMs > 0 ? (stats.promptTokens * 1000) / stats.prefillMs : 0,
      decodeTokensPerSecond: rate(),
      stopReason: stats.stopReason,
    },
    runtime: runtime(),
  });
}

async function inspect(m: Extract<ToWorker, { type: "inspect" }>): Promise<void> {
  const transformer = requireModel();
  const spec = loaded!.spec;
  if (!weightStats) {
    // a released model's weights are read once more for the statistics, then dropped again
    const weights = await weightsOf(loaded!, m.id);
    weightStats = Array.from({ length: spec.num_hidden_layers }, (_, l) => projectionStats(weights, l));
  }
  const share = (c: { inputs: number; zeros: number }) => (c.inputs > 0 ? c.zeros / c.inputs : undefined);
  const layers: LayerInspection[] = transformer.blocks.map((b, layer) => {
    const a = b.attention;
    const f = b.ffn;
    const inputSparsity = { q: share(a.q.sparsity), k: share(a.k.sparsity), v: share(a.v.sparsity), o: share(a.o.sparsity), gate: share(f.gate.sparsity), up: share(f.up.sparsity), down: share(f.down.sparsity) };
    return { layer, projections: weightStats![layer]!, ffnSparsity: inputSparsity.down, inputSparsity };
  });
  post({ type: "inspection", id: m.id, layers, runtime: runtime() });
}

async function bench(m: Extract<ToWorker, { type: "bench" }>): Promise<void> {
  const transformer = requireModel();
  const context = transformer.spec.max_position_embeddings;
  if (m.promptTokens + m.decodeTokens > context) throw new Error(`speed test: ${m.promptTokens} prompt + ${m.decodeTokens} decode tokens exceed the model's context of ${context}`);
  // awaited steps: the webgpu backend reads its logits back asynchronously
  const result = await benchmarkModelAsync(transformer, { promptTokens: m.promptTokens, decodeTokens: m.decodeTokens });
  post({ type: "bench-result", id: m.id, result, backend: backendInfo() });
}

async function handle(m: Exclude<ToWorker, { type: "stop" }>): Promise<void> {
  switch (m.type) {
    case "load":
      return load(m);
    case "backend":
      if (!loaded) throw new Error("no model is open: the backend is chosen when one is");
      try {
        await build(m.backend, m.id);
      } catch (e) {
        throw new Error(`backend "${m.backend.name}": ${(e as Error).message}`);
      }
      post({ type: "backend-ready", id: m.id, backend: backendInfo() });
      return;
    case "generate":
      return run(m);
    case "inspect":
      return inspect(m);
    case "bench":
      return bench(m);
  }
}

let queue: Promise<void> = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "stop") {
    generation?.abort();
    return;
  }
  queue = queue.then(() =>
    handle(m).catch((err: unknown) => {
      post({ type: "error", id: m.id, message: err instanceof Error ? err.message : String(err) });
    }),
  );
};
post({ type: "ready", id: 0 });
