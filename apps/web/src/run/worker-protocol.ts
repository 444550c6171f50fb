/**
 * Messages between the page and the model worker (run/model-worker.ts). Every request carries an id; the worker
 * answers it with exactly one final message (a result or "error") and may send "progress" and "token" messages
 * for it before. "stop" has no id: it ends the generation in flight.
 */
import type { ModelBenchmark, ModelSpec, ModelWeights, NamedBlob } from "@onebit/model";
import type { ProjectionStats } from "../inspect/weight-stats";
import type { MemoryBudget } from "../env/memory-budget";

export type BackendName = "wasm" | "webgl" | "webgpu" | "js";
export type SimdChoice = "auto" | "baseline" | "relaxed";

export interface BackendChoice {
  name: BackendName;
  /** wasm threads, the worker's own included */
  threads: number;
  simd: SimdChoice;
  lmHead: LmHead;
}

/** The LM head's storage on the backend (@onebit/kernels DenseFormat): f32 exact, int8 W8A16, int4 W4A8 (4.25 bits/weight). */
export type LmHead = "f32" | "int8" | "int4";

export interface BackendInfo {
  name: BackendName;
  threads: number;
  simd?: "baseline" | "relaxed";
  lmHead: LmHead;
}

export type ModelRequest =
  | { kind: "files"; name: string; files: NamedBlob[] }
  | { kind: "url"; url: string; list?: string[] }
  /** random ternary weights in the BitNet b1.58 2B4T shape: for speed and memory only (no tokenizer) */
  | { kind: "random-2b4t" }
  /** a model trained in the Train tab, already packed */
  | { kind: "weights"; name: string; spec: ModelSpec; weights: ModelWeights; tokenizer: unknown };

export interface ModelInfo {
  name: string;
  format: string;
  architecture: string;
  variant: string;
  layers: number;
  hidden: number;
  intermediate: number;
  heads: string;
  vocab: number;
  context: number;
  parameters: number;
  tokenizer?: string;
  notes: string[];
  loadSeconds: number;
}

export interface SamplingChoice {
  temperature: number;
  topK: number;
  topP: number;
  maxTokens: number;
  seed: number;
}

export interface RuntimeSummary {
  memory: Record<"embeddings" | "lmHead" | "attention" | "ffn" | "norms" | "total", number>;
  sparsity: Record<string, number>;
}

export interface GenerationSummary {
  promptTokens: number;
  generatedTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  stopReason: string;
}

export interface LayerInspection {
  layer: number;
  projections: ProjectionStats[];
  /** fraction of zero inputs to the down projection (the ReLU² output), undefined before any token ran */
  ffnSparsity?: number;
  /** fraction of zero inputs per projection, over every token run so far */
  inputSparsity: Partial<Record<string, number>>;
}

export type ToWorker =
  | { type: "load"; id: number; source: ModelRequest; backend: BackendChoice; budget: MemoryBudget }
  | { type: "backend"; id: number; backend: BackendChoice }
  | { type: "generate"; id: number; prompt: string; sampling: SamplingChoice }
  | { type: "stop" }
  | { type: "inspect"; id: number }
  | { type: "bench"; id: number; promptTokens: number; decodeTokens: number };

export type FromWorker =
  | { type: "ready"; id: 0 }
  | { type: "progress"; id: number; phase: string; done: number; total: number }
  | { type: "loaded"; id: number; info: ModelInfo; backend?: BackendInfo; backendError?: string }
  | { type: "backend-ready"; id: number; backend: BackendInfo }
  | { type: "token"; id: number; text: string; index: number; tokensPerSecond: number }
  | { type: "generated"; id: number; text: string; summary: GenerationSummary; runtime: RuntimeSummary }
  | { type: "inspection"; id: number; layers: LayerInspection[]; runtime: RuntimeSummary }
  | { type: "bench-result"; id: number; result: ModelBenchmark; backend: BackendInfo }
  | { type: "error"; id: number; message: string };
