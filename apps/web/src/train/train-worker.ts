/**
 * The training worker: tfjs training of a tiny model on the Brown slice (public/data/brown-slice.json), off the
 * page's thread so the page stays responsive while WebGL (or wasm) works. The backend is the one the user picked —
 * webgl by default — and a backend that cannot run here fails with its reason; nothing falls back silently. The
 * text is encoded with the shipped model's BPE, lazily: only as many documents as the run's steps will see.
 * A finished (or stopped) run hands back its weights already packed for inference, and exports run here too.
 */
/// <reference lib="webworker" />
import "./tfjs-wasm-paths";
import { BpeTokenizer, encodeGguf, ggufTokenizerFields, OnebitBpeTokenizer, onebitFolderFiles, packLatentWeights, parameterCounts, planGgufExport } from "@onebit/model";
import { packSequences, tf, trainInMemory, useTrainBackend } from "@onebit/train/browser";
import { zipFiles } from "../io/zip-writer";
import type { FromTrainWorker, ToTrainWorker, TrainRun } from "./train-protocol";
import { defaultLr, trainSpec } from "./train-spec";

declare const self: DedicatedWorkerGlobalScope;

interface Slice {
  url: string;
  train: string[];
  validation: string[];
  trainTokens: number[][];
  validationTokens?: number[][];
}

let slice: Slice | undefined;
let tokenizer: { url: string; bpe: BpeTokenizer; json: unknown } | undefined;
let stop: AbortController | undefined;

function post(m: FromTrainWorker): void {
  self.postMessage(m);
}

async function fetchJson(url: string, what: string): Promise<unknown> {
  let r: Response;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new Error(`${what} ${url}: cannot be fetched (${(e as Error).message})`);
  }
  if (!r.ok) throw new Error(`${what} ${url}: HTTP ${r.status} ${r.statusText}`);
  try {
    return await r.json();
  } catch (e) {
    throw new Error(`${what} ${url}: not valid JSON (${(e as Error).message})`);
  }
}

async function loadSlice(url: string): Promise<Slice> {
  if (slice?.url === url) return slice;
  const json = (await fetchJson(url, "training text")) as { train?: unknown; validation?: unknown };
  for (const key of ["train", "validation"] as const) {
    const v = json?.[key];
    if (!Array.isArray(v) || v.length === 0 || v.some((d) => typeof d !== "string")) throw new Error(`training text ${url}: "${key}": expected a non-empty array of documents (strings)`);
  }
  slice = { url, train: json.train as string[], validation: json.validation as string[], trainTokens: [] };
  return slice;
}

async function loadTokenizer(url: string): Promise<NonNullable<typeof tokenizer>> {
  if (tokenizer?.url === url) return tokenizer;
  const json = await fetchJson(url, "tokenizer");
  tokenizer = { url, bpe: BpeTokenizer.fromJSON(json, url), json };
  return tokenizer;
}

/** Training rows for a run: documents encoded (BOS … EOS each) until the run's steps have fresh rows, or all are. */
function trainRowsFor(s: Slice, bpe: BpeTokenizer, run: TrainRun): Int32Array[] {
  const wanted = run.steps * run.batchSize;
  let rows = packSequences(s.trainTokens, run.seqLen);
  while (rows.length < wanted && s.trainTokens.length < s.train.length) {
    s.trainTokens.push(bpe.encode(s.train[s.trainTokens.length]!, { bos: true, eos: true }));
    rows = packSequences(s.trainTokens, run.seqLen);
  }
  return rows;
}

async function train(m: Extract<ToTrainWorker, { type: "train" }>): Promise<void> {
  const run = m.run;
  post({ type: "status", id: m.id, text: `starting tfjs ${run.backend}…` });
  // the backend first: a backend that cannot run here fails before any data is fetched
  await useTrainBackend(run.backend);
  post({ type: "status", id: m.id, text: "fetching and encoding the Brown slice…" });
  const [s, tok] = await Promise.all([loadSlice(run.dataUrl), loadTokenizer(run.tokenizerUrl)]);
  // one embedding row per token of the tokenizer (the shipped one has 1024, the presets' vocabulary)
  const spec = trainSpec(run.variant, run.size, tok.bpe.vocabSize);
  if (run.seqLen + 1 > spec.max_position_embeddings) throw new Error(`sequence length: ${run.seqLen} does not fit the model's context of ${spec.max_position_embeddings}`);
  const trainRows = trainRowsFor(s, tok.bpe, run);
  s.validationTokens ??= s.validation.map((d) => tok.bpe.encode(d, { bos: true, eos: true }));
  const valRows = packSequences(s.validationTokens, run.seqLen);
  if (trainRows.length < run.batchSize || valRows.length === 0) throw new Error(`the Brown slice gives ${trainRows.length} training and ${valRows.length} validation rows of ${run.seqLen + 1} tokens; lower the sequence length or the batch size`);
  post({ type: "status", id: m.id, text: `training ${run.variant} on ${trainRows.length} rows of ${run.seqLen} tokens (tfjs ${run.backend})…` });
  stop = new AbortController();
  let r: Awaited<ReturnType<typeof trainInMemory>>;
  try {
    r = await trainInMemory({
      spec,
      trainRows,
      valRows,
      steps: run.steps,
      batchSize: run.batchSize,
      lr: run.lr ?? defaultLr(run.variant),
      backend: run.backend,
      seed: run.seed,
      evalEvery: run.evalEvery,
      evalBatches: 4,
      signal: stop.signal,
      onProgress: (p) => post({ type: "step", id: m.id, step: p.step, steps: p.steps, loss: p.loss, validationLoss: p.validationLoss, tokensPerSecond: p.tokensPerSecond }),
    });
  } finally {
    stop = undefined;
  }
  post({
    type: "trained",
    id: m.id,
    result: {
      variant: run.variant,
      steps: r.steps,
      stoppedEarly: r.stoppedEarly,
      trainLoss: r.trainLoss,
      validationLoss: r.validationLoss,
      validationPerplexity: r.validationPerplexity,
      tokensPerSecond: r.tokensPerSecond,
      seconds: r.seconds,
      backend: tf.getBackend(),
      parameters: parameterCounts(spec).total,
      trainTokens: trainRows.length * run.seqLen,
    },
    spec,
    weights: packLatentWeights(spec, r.weights),
    tokenizer: tok.json,
  });
}

function exportModel(m: Extract<ToTrainWorker, { type: "export" }>): void {
  if (m.format === "onebit") {
    const files = onebitFolderFiles({ spec: m.spec, weights: m.weights, tokenizer: m.tokenizer });
    post({ type: "exported", id: m.id, file: zipFiles(files, m.name), fileName: `${m.name}.zip`, notes: [] });
    return;
  }
  const bpe = new OnebitBpeTokenizer(BpeTokenizer.fromJSON(m.tokenizer, `${m.name}/tokenizer.json`));
  const tok = ggufTokenizerFields({ tokenizer: bpe }, m.spec.vocab_size);
  const plan = planGgufExport(m.spec, m.weights, { tokenizer: tok.fields, name: m.name });
  const bytes = encodeGguf({ metadata: plan.metadata.map(({ key, type, value }) => ({ key, type, value })), tensors: plan.tensors });
  post({ type: "exported", id: m.id, file: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }), fileName: `${m.name}.gguf`, notes: [...plan.notes, ...(tok.missing ? [tok.missing] : [])] });
}

let queue: Promise<void> = Promise.resolve();
self.onmessage = (e: MessageEvent<ToTrainWorker>) => {
  const m = e.data;
  if (m.type === "stop") {
    stop?.abort();
    return;
  }
  queue = queue.then(async () => {
    try {
      if (m.type === "train") await train(m);
      else exportModel(m);
    } catch (err) {
      post({ type: "error", id: m.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
};
post({ type: "ready", id: 0 });
