/**
 * The compute contract every backend implements. Compute calls are synchronous (wasm threads synchronise
 * through Atomics on one shared WebAssembly.Memory); creating a backend is async (compiling, spawning workers).
 * Shapes: weights [out, in] row-major, activations [tokens, features].
 */
import { OnebitError } from "@onebit/quant";

export type BackendName = "js" | "wasm" | "webgl";
export const BACKEND_NAMES: readonly BackendName[] = ["js", "wasm", "webgl"];

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
  /** The number of zero codes, when the producer counted them (quantizeRows does). */
  zeros?: number;
}

/** A weight placed where its backend reads it (wasm memory, GPU texture). Opaque to callers. */
export interface PreparedWeight {
  readonly backend: BackendName;
  readonly kind: "ternary" | "binary";
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** Bytes the backend holds for it. */
  readonly bytes: number;
}

export type ActivationQuantKind = "int8" | "int4" | "absmax8";

/** Storage of a dense weight (LM head, tied embedding, FP projections): see js/dense.ts. */
export type DenseFormat = "f32" | "int8";

/** A dense weight placed by its backend in a storage format. Opaque to callers. */
export interface PreparedDense {
  readonly backend: BackendName;
  readonly format: DenseFormat;
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** Bytes the backend holds for it (0 when it reads the caller's array in place). */
  readonly bytes: number;
}

export interface BitLinearOptions {
  /** Rows with mask 0 are skipped and written 0 (ReLU²GLU's up projection). Length outFeatures. */
  rowMask?: Uint8Array;
  /** Reuse an output buffer [tokens, out]. */
  out?: Float32Array;
}

export interface Backend {
  readonly name: BackendName;
  readonly threads: number;
  /** wasm only: the kernel set in use ("relaxed" SIMD or "baseline" SIMD). */
  readonly simd?: "baseline" | "relaxed";
  prepareWeight(w: PackedLinearWeight): PreparedWeight;
  /**
   * out[t, o] = Σ_g (Σ_{i ∈ g} w[o, i]·x[t, i]) · wScale[g(o, i)] · xScale[t, g]  — integer dot, float epilogue.
   */
  bitLinear(w: PreparedWeight, x: QuantizedActivations, options?: BitLinearOptions): Float32Array;
  /**
   * Per-token INT8 absmax / INT4 absmean quantization of x [tokens, features], bit for bit @onebit/quant's
   * quantizeInt8 / quantizeInt4 (granularity "row"), with `zeros` counted.
   */
  quantizeRows(x: Float32Array, tokens: number, features: number, kind: "int8" | "int4", epsMode?: "clamp" | "add"): QuantizedActivations;
  /**
   * Unsigned b-bit (3 or 4) min–max codes, a little-endian bit stream from `bitOffset` (@onebit/kv's low-bit KV
   * layout), back to float32: out[g·groupSize + i] = float32(float32(code·scales[g]) + offsets[g]).
   */
  dequantizeUnsigned(codes: Uint8Array, bitOffset: number, bits: number, groups: number, groupSize: number, scales: Float32Array, offsets: Float32Array, out: Float32Array): void;
  /** Fused RMSNorm (optional gain) → per-token quantization (per token and group when groups > 1). */
  rmsNormQuantize(
    x: Float32Array,
    tokens: number,
    features: number,
    gain: Float32Array | null,
    eps: number,
    quant: { kind: ActivationQuantKind; groups?: number },
  ): QuantizedActivations;
  /** Place a dense weight [out, in] in a storage format ("int8": W8A16, quantized here once; see js/dense.ts). */
  prepareDense(w: Float32Array, outFeatures: number, inFeatures: number, format: DenseFormat): PreparedDense;
  /** y [tokens, out] = x [tokens, in] · wᵀ with a prepared dense weight, in its format's arithmetic. */
  dense(w: PreparedDense, x: Float32Array, tokens: number, out?: Float32Array): Float32Array;
  /** out[t, o] = Σ_i x[t, i]·w[o, i]; w [out, in] (embeddings, LM head, FP baseline). */
  matmulF32(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, out?: Float32Array): Float32Array;
  /** Rotary embedding in place on x [tokens, heads, headDim]. */
  rope(x: Float32Array, tokens: number, heads: number, headDim: number, positions: Int32Array, theta: number, style: "half" | "interleaved"): void;
  /** Row-wise numerically stable softmax in place on x [rows, cols]. */
  softmax(x: Float32Array, rows: number, cols: number): void;
  /**
   * Grouped-query attention scores over an f32 KV store [≥positions, kvHeads, headDim]: q [heads, headDim] →
   * scores [heads, positions] = (q[h] · keys[j, ⌊h·kvHeads/heads⌋])·scale, in js/attention.ts's float32 order.
   */
  attentionScores(q: Float32Array, heads: number, keys: Float32Array, kvHeads: number, headDim: number, positions: number, scale: number, out?: Float32Array): Float32Array;
  /** p [heads, positions] (softmaxed) → out [heads, headDim] = Σ_j p[h, j]·values[j, ⌊h·kvHeads/heads⌋]. */
  attentionValues(p: Float32Array, heads: number, values: Float32Array, kvHeads: number, headDim: number, positions: number, out?: Float32Array): Float32Array;
  /**
   * Zeroed float32 storage the attention ops read in place (a KV cache layer); the wasm backend places it in its
   * memory. Give it back with freeF32 (it is also reclaimed when the array is garbage-collected).
   */
  allocF32(length: number): Float32Array;
  freeF32(a: Float32Array): void;
  dispose(): void;
}

export class KernelInputError extends OnebitError {
  constructor(message: string) {
    super("KERNEL_INPUT", message);
    this.name = "KernelInputError";
  }
}
