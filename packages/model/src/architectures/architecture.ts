/**
 * An architecture: one row of the table in registry.ts. It says which file-format identities it answers to (a
 * Hugging Face `model_type`/`architectures`, a GGUF `general.architecture`), how a ModelSpec is read from that
 * format's config (config.json or GGUF metadata) and written back, and which specs it can express. The tensors
 * themselves come from tensor-kinds.ts (the spec decides which are present).
 */
import type { GgufTypedValue } from "../gguf/gguf-value-types";
import type { ModelSpec } from "../model-spec";

/** A GGUF metadata value with its on-disk type (llama.cpp checks types: a u32 key read as i32 fails). */
export interface GgufKv extends GgufTypedValue {
  key: string;
}

export interface Architecture {
  /** Stable id, as `onebit inspect` and `convert` print it. */
  id: string;
  description: string;
  /** The runtimes that read this architecture besides onebit. */
  runtimes: string[];
  /**
   * quantMethod: the `quantization_config.quant_method` a config.json must declare (transformers
   * utils/quantization_config.py); absent, the architecture is full precision and matches only configs with no
   * quantization_config. So one `architectures[0]` (LlamaForCausalLM) can name several rows.
   */
  hf?: { modelTypes: readonly string[]; architectures: readonly string[]; quantMethod?: string };
  /**
   * permuteQk: the runtime uses NORM (interleaved) RoPE, so rotate_half q/k rows are permuted in the file.
   * scaleTensors: the runtime multiplies projections by optional `blk.{l}.*.scale` tensors (llama.cpp `bitnet`).
   */
  gguf?: { arch: string; permuteQk?: boolean; scaleTensors?: boolean };
  /** Why this architecture cannot express `spec` (a sentence), or null when it can. */
  cannotExpress(spec: ModelSpec): string | null;
  /** config.json (already parsed) → spec; errors name the file and field. */
  specFromConfig?(config: Record<string, unknown>, file: string): ModelSpec;
  /** GGUF metadata → spec (the tensor list tells whether the output is tied). */
  specFromGguf?(metadata: ReadonlyMap<string, unknown>, file: string, hasOutputTensor: boolean): ModelSpec;
  /** spec → config.json fields. */
  toConfig?(spec: ModelSpec): Record<string, unknown>;
  /** spec → GGUF metadata (architecture keys; the tokenizer and general.* are added by the writer). */
  toGgufMetadata?(spec: ModelSpec): GgufKv[];
}
