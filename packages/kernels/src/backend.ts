/**
 * The data the kernels exchange: packed BitLinear weights, quantized activations, prepared (backend-placed)
 * weights. The kernels themselves — each a typed definition with named arguments and its reference
 * implementation — are the table in contract/kernel-table.ts; a backend is built from it by defineBackend.
 * Shapes: weights [out, in] row-major, activations [tokens, features].
 */
import { OnebitError } from "@onebit/quant";
import type { ByteRange } from "./contract/byte-range";

/** A backend's name: a row of the BACKENDS table (backends.ts). */
export type BackendName = string;

/** A BitLinear weight as @onebit/quant packs it (docs/design.md invariant 2: it stays packed). */
export interface PackedLinearWeight {
  /** "ternary": onebit-t2 layout; "binary": onebit-b1 layout. */
  kind: "ternary" | "binary";
  outFeatures: number;
  inFeatures: number;
  data: Uint8Array;
  /** Dequantization multipliers: one (per tensor) or G. */
  scales: Float32Array;
  /** "out": G equal groups of rows (column-parallel); "in": G equal groups of columns (row-parallel). */
  scaleAxis: "tensor" | "out" | "in";
  /**
   * The same ternary codes in a file's own 2-bit layout, when they came from one (a GGUF loader): TQ2_0 (cols % 256
   * = 0; each 256-weight block's fp16 d is ignored here — the loader checks it against `scales`, a ByteRange's as it
   * is read), I2_S (cols % 128 = 0; the tail after the last row is ignored) or a Hugging Face folder's packed uint8.
   * `data` stays the definition: a backend may place these bytes itself (wasm: ternary-place.wat.ts) and must then give the same codes, and fail where
   * `data` would. `bytes` may be a ByteRange (a file read a piece at a time): a backend that places them copies each
   * piece straight into its own memory, and an error the range throws (the loader's) is the weight's.
   */
  encoded?: TernaryEncoding;
}

export interface TernaryEncoding {
  /**
   * GGUF TQ2_0 or I2_S, or Hugging Face's packed uint8 [⌈out/4⌉, in] (transformers' BitNet `pack_weights`: rows r,
   * r + ⌈out/4⌉, … at bits 2i of one byte; cols % 64 = 0 here)
   */
  readonly format: "TQ2_0" | "I2_S" | "HF_PACKED";
  /** The tensor's bytes: in memory, or a range a backend copies from a file a piece at a time (ByteRange). */
  readonly bytes: Uint8Array | ByteRange;
}


export interface QuantizedActivations {
  tokens: number;
  features: number;
  /** [tokens, features]: int8 (−128..127), int4 (−8..7) or doubled FP4 (−12..12). */
  codes: Int8Array;
  /** [tokens, groups] dequantization multipliers. */
  scales: Float32Array;
  /** Feature groups with their own scale (G of a row-parallel weight); 1 otherwise. */
  groups: number;
  /** Hint for the kernel choice. */
  bits: 8 | 4;
  /** Many zeros (Top-K, ReLU² outputs): a kernel may skip them. */
  sparse?: boolean;
  /** The number of zero codes, when the producer counted them (the quantize kernel does). */
  zeros?: number;
}

/** Quantized activations kept in a device backend's memory (codes and scales never come back to the host). */
export interface DeviceQuantized {
  readonly residency: "device";
  readonly owner: string;
  tokens: number;
  features: number;
  groups: number;
  bits: 8 | 4;
  sparse?: boolean;
  zeros?: number;
}

/** Quantized activations where their backend keeps them. */
export type Quantized = QuantizedActivations | DeviceQuantized;

/** A weight placed where its backend reads it (wasm memory, GPU texture). Opaque to callers. */
export interface PreparedWeight {
  readonly backend: string;
  readonly kind: "ternary" | "binary";
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** Bytes the backend holds for it. */
  readonly bytes: number;
}

export type ActivationQuantKind = "int8" | "int4" | "absmax8";

/** Storage of a dense weight (LM head, tied embedding, FP projections): see js/dense.ts. */
export type DenseFormat = "f32" | "int8" | "int4";

/**
 * A dense weight [rows, cols] that prepareDense reads a chunk of rows at a time (js/dense.ts denseChunkRows), so a
 * table kept in a file's block format (@onebit/model's QuantizedTable: GGUF F16, Q6_K, …) is quantized or copied
 * straight into the backend's storage without a whole float32 copy first. readRows fills out [count, cols].
 */
export interface DenseRowSource {
  readonly rows: number;
  readonly cols: number;
  readRows(start: number, count: number, out: Float32Array): void;
  /**
   * The rows in their own encoding, when it is one a backend may decode itself: ggml's F16 or BF16 (2 bytes a
   * weight) or Q6_K (210 bytes per 256 weights, cols % 256 = 0), rows one after another. readRows stays the
   * definition: a backend that decodes these gives readRows's values bit for bit (the wasm backend at load,
   * ggml-decode.wat.ts); one that does not reads readRows.
   */
  readonly encoded?: DenseRowEncoding;
}

/**
 * A DenseRowSource's rows as stored: `bytes` holds all of them, row r at r · (its row bytes) — in memory, or a
 * ByteRange a backend copies from (a file read a piece at a time; an error it throws is the weight's).
 */
export interface DenseRowEncoding {
  readonly format: "F16" | "BF16" | "Q6_K";
  readonly bytes: Uint8Array | ByteRange;
}

/** What prepareDense takes: the float32 weight [out, in], or a row source of that shape. */
export type DenseWeight = Float32Array | DenseRowSource;

/** A dense weight placed by its backend in a storage format. Opaque to callers. */
export interface PreparedDense {
  readonly backend: string;
  readonly format: DenseFormat;
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** Bytes the backend holds for it (0 when it reads the caller's array in place). */
  readonly bytes: number;
}

/** Options of a bitLinear call beyond its operands. */
export interface BitLinearOptions {
  /** Rows with mask 0 are skipped and written 0 (ReLU²GLU's up projection). Length outFeatures. */
  rowMask?: Uint8Array;
  /** Reuse an output buffer [tokens, out]. */
  out?: Float32Array;
}

export type { Backend, KernelName } from "./contract/kernel-table";

export class KernelInputError extends OnebitError {
  constructor(message: string) {
    super("KERNEL_INPUT", message);
    this.name = "KernelInputError";
  }
}
