/**
 * Messages between the Train tab and the training worker (train/train-worker.ts). One run trains one variant; the
 * tab runs the variants it was asked for one after another, so their curves share the chart. "stop" ends the run
 * in flight after its current step (the model trained so far is still returned).
 */
import type { ModelSpec, ModelWeights } from "@onebit/model";
import type { InMemoryTrainResult } from "@onebit/train/browser";

export type TrainVariant = "b1.58" | "a4.8" | "bitnet" | "fp";
export type TrainSize = "micro" | "tiny";
export type TfBackend = "webgl" | "wasm" | "cpu";

export interface TrainRun {
  variant: TrainVariant;
  size: TrainSize;
  steps: number;
  batchSize: number;
  seqLen: number;
  /** peak learning rate; undefined = the CLI's default for the variant */
  lr?: number;
  evalEvery: number;
  backend: TfBackend;
  seed: number;
  /** absolute URLs (a worker resolves relative ones against its own script) */
  dataUrl: string;
  tokenizerUrl: string;
}

/** What the page shows of a finished run: the trainer's numbers (not its weights) plus where and what it ran. */
export interface TrainResultSummary extends Pick<InMemoryTrainResult, "steps" | "stoppedEarly" | "trainLoss" | "validationLoss" | "validationPerplexity" | "tokensPerSecond" | "seconds"> {
  variant: TrainVariant;
  backend: string;
  parameters: number;
  trainTokens: number;
}

export type ToTrainWorker =
  | { type: "train"; id: number; run: TrainRun }
  | { type: "stop" }
  | { type: "export"; id: number; format: "onebit" | "gguf"; name: string; spec: ModelSpec; weights: ModelWeights; tokenizer: unknown };

export type FromTrainWorker =
  | { type: "ready"; id: 0 }
  | { type: "status"; id: number; text: string }
  | { type: "step"; id: number; step: number; steps: number; loss: number; validationLoss?: number; tokensPerSecond: number }
  | { type: "trained"; id: number; result: TrainResultSummary; spec: ModelSpec; weights: ModelWeights; tokenizer: unknown }
  | { type: "exported"; id: number; file: Blob; fileName: string; notes: string[] }
  | { type: "error"; id: number; message: string };
