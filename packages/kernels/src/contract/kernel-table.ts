/**
 * The kernel contract: every kernel a backend offers, as one row of a table — its name, what it computes, its
 * named arguments and its reference implementation (the `js` code the conformance suite holds every other backend
 * to). A backend implements some of the rows natively and declares that it borrows the rest from the reference
 * (contract/define-backend.ts): the borrowing is listed by `listKernels(backend)` / `onebit inspect --backends` and
 * counted per call, never silent. Adding a kernel is one row here plus its reference file under js/
 * (docs/kernels.md walks through it).
 *
 * Activations (`Activations`) are Float32Arrays on host backends and DeviceTensor handles on a device backend
 * (contract/tensors.ts); the reference runs on host memory only.
 */
import type { EpsMode } from "@onebit/quant";
import type { DenseFormat, DenseWeight, DeviceQuantized, PackedLinearWeight, PreparedDense, PreparedWeight, Quantized, QuantizedActivations } from "../backend";
import { KernelInputError } from "../backend";
import { checkWeight } from "../validate-inputs";
import { attentionScoresImpl, attentionValuesImpl, causalAttentionImpl } from "../js/attention";
import { bitLinearImpl } from "../js/bit-linear";
import { type JsPreparedDense, denseJs, denseRowsJs, prepareDenseJs } from "../js/dense-prepared";
import { dequantizeUnsignedImpl } from "../js/dequantize-unsigned";
import { decodeHalfImpl, encodeHalfImpl } from "../js/half-codes";
import { quantizeUnsignedIntoImpl } from "../js/quantize-unsigned-into";
import { addImpl, copyIntoImpl, firstNonFiniteImpl, type GateActivation, gateActivationImpl, multiplyImpl } from "../js/elementwise";
import { matmulF32Impl } from "../js/matmul-f32";
import { type NormKind, normImpl } from "../js/norm";
import { type ActivationQuantizer, quantizeActivationsImpl } from "../js/quantize-activations";
import { rmsNormQuantizeImpl } from "../js/rms-norm-quantize";
import { ropeImpl } from "../js/rope";
import { softmaxImpl } from "../js/softmax";
import { type HalfCodes, hostCodes, type KvCodes } from "./kv-codes";
import { type Activations, hostArray, type Residency } from "./tensors";

/** Named arguments of each kernel. */
export interface KernelArgs {
  /**
   * Place a packed BitLinear weight where the backend reads it (once, at load). `sparseInputs`: most of the inputs
   * it will see in decode are zero (a ReLU²GLU down projection), so a backend may store it to skip them (wasm: column
   * panels); the results are the same.
   */
  prepareWeight: { weight: PackedLinearWeight; sparseInputs?: boolean };
  /**
   * Several packed weights that read one input (an attention block's q, k and v) placed at once: `parts[i]` is
   * weights[i] prepared as prepareWeight prepares it, and `joined` a prepared weight of all their rows in order —
   * bitLinear on it gives the parts' outputs side by side, [tokens, Σ outFeatures], in one call — or null where the
   * backend places them apart (then each part runs on its own).
   */
  prepareWeights: { weights: readonly PackedLinearWeight[] };
  /** out[t, o] = Σ_g (Σ_{i ∈ g} w[o, i]·x[t, i]) · wScale[g(o, i)] · xScale[t, g] — integer dot, float epilogue. */
  bitLinear: {
    weight: PreparedWeight;
    input: Quantized;
    /** Rows with mask 0 are skipped and written 0 (ReLU²GLU's up projection); length outFeatures. */
    rowMask?: Uint8Array;
    /** Reuse an output buffer [tokens, out] (host backends). */
    out?: Float32Array;
  };
  /**
   * Per-token (and per feature group) activation quantization, bit for bit @onebit/quant, zeros counted. `out`
   * [tokens, features] (host backends) receives the codes, and is the result's `codes`: a view of the backend's own
   * memory (a model's workspace, from allocF32) lets its bitLinear read them in place.
   */
  quantize: { x: Activations; tokens: number; features: number; kind: ActivationQuantizer; groups?: number; epsMode?: EpsMode; topKFraction?: number; out?: Int8Array };
  /** Fused RMSNorm (optional gain) → per-token quantization (int8 / int4 / BitNet absmax). */
  rmsNormQuantize: { x: Float32Array; tokens: number; features: number; gain: Float32Array | null; eps: number; kind: "int8" | "int4" | "absmax8"; groups?: number };
  /**
   * RMSNorm or LayerNorm (no bias) with a gain, over `groups` equal groups of features; a new tensor, or `out` (host
   * backends: a buffer [tokens, features] to reuse; a device backend ignores it).
   */
  norm: { x: Activations; tokens: number; features: number; gain: Float32Array; eps: number; kind: NormKind; groups?: number; out?: Float32Array };
  /**
   * Place a dense weight [out, in] in a storage format ("int8": W8A16, "int4": W4A8, quantized once; see js/dense.ts),
   * from a Float32Array or a row source read a chunk of rows at a time (no whole float32 copy).
   */
  prepareDense: { weight: DenseWeight; outFeatures: number; inFeatures: number; format: DenseFormat };
  /** y [tokens, out] = x [tokens, in] · wᵀ with a prepared dense weight, in its format's arithmetic. */
  dense: { weight: PreparedDense; x: Activations; tokens: number; out?: Float32Array };
  /**
   * Rows [start, start + count) of a prepared dense weight as float32 [count, in], dequantized as its format
   * defines (js/dense-rows.ts): a tied embedding looked up from the LM head's own storage. `out`: host backends.
   */
  denseRows: { weight: PreparedDense; start: number; count: number; out?: Float32Array };
  /** out[t, o] = Σ_i x[t, i]·w[o, i]; w [out, in] (FP baseline projections). */
  matmulF32: { x: Activations; tokens: number; weight: Float32Array; outFeatures: number; inFeatures: number; out?: Float32Array };
  /** Rotary embedding in place on x [tokens, heads, headDim]. */
  rope: { x: Activations; tokens: number; heads: number; headDim: number; positions: Int32Array; theta: number; style: "half" | "interleaved" };
  /** Row-wise numerically stable softmax in place on x [rows, cols]. */
  softmax: { x: Activations; rows: number; cols: number };
  /**
   * Grouped-query attention scores over an f32 KV store [≥positions, kvHeads, headDim]: q [heads, headDim] →
   * [heads, positions] = (q[h] · keys[j, ⌊h·kvHeads/heads⌋])·scale, in js/attention.ts's float32 order.
   */
  attentionScores: { q: Activations; heads: number; keys: Activations; kvHeads: number; headDim: number; positions: number; scale: number; out?: Float32Array };
  /** p [heads, positions] (softmaxed) → [heads, headDim] = Σ_j p[h, j]·values[j, ⌊h·kvHeads/heads⌋]. */
  attentionValues: { p: Activations; heads: number; values: Activations; kvHeads: number; headDim: number; positions: number; out?: Activations };
  /**
   * Causal grouped-query attention of `tokens` queries q [tokens, heads, headDim] (post-RoPE) at positions start ..
   * start + tokens − 1 over an f32 KV store [≥ start + tokens, kvHeads, headDim] that already holds their keys and
   * values: token t attends to positions 0 .. start + t — attentionScores, softmax, attentionValues, exactly that
   * composition (js/attention.ts causalAttentionImpl). out [tokens, heads, headDim]: the prompt's attention in one call.
   */
  causalAttention: { q: Activations; tokens: number; heads: number; keys: Activations; values: Activations; kvHeads: number; headDim: number; start: number; scale: number; out?: Float32Array };
  /**
   * Unsigned b-bit (3, 4 or 8) min–max codes, a little-endian bit stream from `bitOffset` (@onebit/kv's low-bit KV
   * layout, contract/kv-codes.ts), back to float32 — groups f = firstGroup (default 0) onwards of scales, offsets
   * and out: out[(f + g)·groupSize + i] = float32(float32(code·scales[f + g]) + offsets[f + g]).
   */
  dequantizeUnsigned: { codes: KvCodes; bitOffset: number; bits: number; groups: number; groupSize: number; scales: Activations; offsets: Activations; out: Activations; firstGroup?: number };
  /**
   * A low-bit KV write (a4.8 §2.3): x [groups, groupSize] → unsigned b-bit (3, 4 or 8) codes per group over
   * [min, max], bit for bit @onebit/quant quantizeUnsigned, into the bit stream `codes` from `bitOffset`; group g's
   * scale and offset go to scales/offsets[firstGroup + g]. Other bits of the stream are kept.
   */
  quantizeUnsignedInto: { x: Activations; groups: number; groupSize: number; bits: number; codes: KvCodes; bitOffset: number; scales: Activations; offsets: Activations; firstGroup?: number };
  /** An f16 KV write: dst[dstOffset + i] ← half(x[i]), round to nearest even (@onebit/quant floatToHalf). */
  encodeHalf: { x: Activations; dst: HalfCodes; dstOffset: number };
  /** An f16 KV read: out[i] ← float32(src[srcOffset + i]) for i < length (exact). */
  decodeHalf: { src: HalfCodes; srcOffset?: number; length: number; out: Activations };
  /** x ← x + y in place (the residual connection). */
  add: { x: Activations; y: Activations };
  /** x ← x ⊙ y in place (the gated FFN's product). */
  multiply: { x: Activations; y: Activations };
  /**
   * x [tokens, features] ← ReLU²(x) or SiLU(x) in place; with `activeRows` (host only), ReLU² marks the features
   * non-zero in some token and returns their count (−1 without it).
   */
  gateActivation: { x: Activations; tokens: number; features: number; activation: GateActivation; activeRows?: Uint8Array };
  /**
   * dst[dstOffset .. dstOffset + length) ← src[srcOffset .. srcOffset + length) (a KV cache write, a row slice);
   * srcOffset defaults to 0 and length to the rest of src.
   */
  copyInto: { src: Activations; dst: Activations; dstOffset: number; srcOffset?: number; length?: number };
  /** The index of the first NaN or ±∞ in x, −1 when every value is finite (a model's check of its residual stream). */
  firstNonFinite: { x: Activations };
}

/** What each kernel returns. */
export interface KernelResults {
  prepareWeight: PreparedWeight;
  prepareWeights: { parts: PreparedWeight[]; joined: PreparedWeight | null };
  bitLinear: Activations;
  quantize: Quantized;
  rmsNormQuantize: QuantizedActivations;
  norm: Activations;
  prepareDense: PreparedDense;
  dense: Activations;
  denseRows: Activations;
  matmulF32: Activations;
  rope: void;
  softmax: void;
  attentionScores: Activations;
  attentionValues: Activations;
  causalAttention: Activations;
  dequantizeUnsigned: void;
  quantizeUnsignedInto: void;
  encodeHalf: void;
  decodeHalf: void;
  add: void;
  multiply: void;
  gateActivation: number;
  copyInto: void;
  firstNonFinite: number;
}

export type KernelName = keyof KernelArgs;

export type KernelFn<K extends KernelName> = (args: KernelArgs[K]) => KernelResults[K];

/** Every kernel as a method with named arguments. */
export type KernelMethods = { [K in KernelName]: KernelFn<K> };

export interface KernelDefinition<K extends KernelName> {
  name: K;
  /** What it computes, in a line (listed by `onebit inspect --backends`). */
  summary: string;
  /** The reference implementation, on host memory; `backend` names who is running it (prepared data is tagged). */
  reference: (args: KernelArgs[K], backend: string) => KernelResults[K];
}

/** A weight the reference prepared: it keeps the packed data. */
export interface ReferencePreparedWeight extends PreparedWeight {
  readonly packed: PackedLinearWeight;
}

const H = hostArray;

/** prepareWeights' input: at least one weight, all of one kind and one input width (they read the same input). */
export function checkWeightGroup(weights: readonly PackedLinearWeight[]): void {
  if (weights.length === 0) throw new KernelInputError("prepareWeights: expected at least one weight, got none");
  const first = weights[0]!;
  weights.forEach((w, i) => {
    if (w.kind !== first.kind || w.inFeatures !== first.inFeatures)
      throw new KernelInputError(`prepareWeights weights[${i}]: a ${w.kind} weight of ${w.inFeatures} inputs beside weights[0], a ${first.kind} weight of ${first.inFeatures}; they must read the same input`);
  });
}

/** prepareWeights where a backend joins nothing: each weight placed on its own by `prepare`. */
export function prepareApart(weights: readonly PackedLinearWeight[], prepare: (weight: PackedLinearWeight) => PreparedWeight): { parts: PreparedWeight[]; joined: null } {
  checkWeightGroup(weights);
  return { parts: weights.map(prepare), joined: null };
}

/** The table. Order is the order `listKernels` prints. */
export const KERNELS: { readonly [K in KernelName]: KernelDefinition<K> } = {
  prepareWeight: {
    name: "prepareWeight",
    summary: "place a packed ternary/binary weight",
    reference({ weight }, backend): ReferencePreparedWeight {
      checkWeight(weight);
      // `data` read once and kept: a loader's weight may make it when read (a file's bytes transcoded), and the
      // reference reads it weight by weight as it computes
      const packed: PackedLinearWeight = { kind: weight.kind, outFeatures: weight.outFeatures, inFeatures: weight.inFeatures, data: weight.data, scales: weight.scales, scaleAxis: weight.scaleAxis };
      return { backend, kind: weight.kind, outFeatures: weight.outFeatures, inFeatures: weight.inFeatures, bytes: packed.data.length + weight.scales.length * 4, packed };
    },
  },
  prepareWeights: {
    name: "prepareWeights",
    summary: "place packed weights of one input together, with one weight of all their rows (or none)",
    reference: ({ weights }, backend) => prepareApart(weights, (weight) => KERNELS.prepareWeight.reference({ weight }, backend)),
  },
  bitLinear: {
    name: "bitLinear",
    summary: "packed ternary/binary weight × int8/int4 activations, float epilogue",
    reference({ weight, input, rowMask, out }, backend) {
      const w = weight as ReferencePreparedWeight;
      if (weight.backend !== backend || !w.packed) throw new KernelInputError(`bitLinear: weight was prepared by the ${weight.backend} backend, not ${backend}`);
      if (!("codes" in input)) throw new KernelInputError(`bitLinear: the reference needs host activations; got activations resident on ${input.owner}`);
      return bitLinearImpl(w.packed, input, { rowMask, out });
    },
  },
  quantize: {
    name: "quantize",
    summary: "per-token int8 / int4 / absmax8 / fp4 / Top-K activation quantization",
    reference: ({ x, tokens, features, kind, groups, epsMode, topKFraction, out }) => quantizeActivationsImpl(H(x, "quantize x"), tokens, features, kind, { groups, epsMode, topKFraction, out }),
  },
  rmsNormQuantize: {
    name: "rmsNormQuantize",
    summary: "fused RMSNorm → per-token quantization",
    reference: ({ x, tokens, features, gain, eps, kind, groups }) => rmsNormQuantizeImpl(x, tokens, features, gain, eps, { kind, groups }),
  },
  norm: {
    name: "norm",
    summary: "RMSNorm / LayerNorm with gain, grouped",
    reference: ({ x, tokens, features, gain, eps, kind, groups, out }) => normImpl(H(x, "norm x"), tokens, features, gain, eps, kind, groups, out),
  },
  prepareDense: {
    name: "prepareDense",
    summary: "place a dense weight as f32, int8 (W8A16) or int4 (W4A8)",
    reference: ({ weight, outFeatures, inFeatures, format }, backend) => prepareDenseJs(backend, weight, outFeatures, inFeatures, format),
  },
  dense: {
    name: "dense",
    summary: "dense weight (f32, W8A16 or W4A8) × f32 activations: the LM head",
    reference({ weight, x, tokens, out }, backend) {
      if (weight.backend !== backend) throw new KernelInputError(`dense: weight was prepared by the ${weight.backend} backend, not ${backend}`);
      return denseJs(weight as JsPreparedDense, H(x, "dense x"), tokens, out);
    },
  },
  denseRows: {
    name: "denseRows",
    summary: "rows of a prepared dense weight, dequantized (tied embedding lookup)",
    reference({ weight, start, count, out }, backend) {
      if (weight.backend !== backend) throw new KernelInputError(`denseRows: weight was prepared by the ${weight.backend} backend, not ${backend}`);
      return denseRowsJs(weight as JsPreparedDense, start, count, out);
    },
  },
  matmulF32: {
    name: "matmulF32",
    summary: "f32 × f32 matmul (FP baseline)",
    reference: ({ x, tokens, weight, outFeatures, inFeatures, out }) => matmulF32Impl(H(x, "matmulF32 x"), tokens, weight, outFeatures, inFeatures, out),
  },
  rope: {
    name: "rope",
    summary: "rotary embedding in place",
    reference: ({ x, tokens, heads, headDim, positions, theta, style }) => ropeImpl(H(x, "rope x"), tokens, heads, headDim, positions, theta, style),
  },
  softmax: { name: "softmax", summary: "row softmax in place", reference: ({ x, rows, cols }) => softmaxImpl(H(x, "softmax x"), rows, cols) },
  attentionScores: {
    name: "attentionScores",
    summary: "GQA scores q·K over an f32 KV store",
    reference: ({ q, heads, keys, kvHeads, headDim, positions, scale, out }) => attentionScoresImpl(H(q, "attentionScores q"), heads, H(keys, "attentionScores keys"), kvHeads, headDim, positions, scale, out),
  },
  attentionValues: {
    name: "attentionValues",
    summary: "GQA weighted sum p·V over an f32 KV store",
    reference: ({ p, heads, values, kvHeads, headDim, positions, out }) =>
      attentionValuesImpl(H(p, "attentionValues p"), heads, H(values, "attentionValues values"), kvHeads, headDim, positions, out === undefined ? undefined : H(out, "attentionValues out")),
  },
  causalAttention: {
    name: "causalAttention",
    summary: "causal GQA of many queries: scores, softmax, values",
    reference: ({ q, tokens, heads, keys, values, kvHeads, headDim, start, scale, out }) =>
      causalAttentionImpl(H(q, "causalAttention q"), tokens, heads, H(keys, "causalAttention keys"), H(values, "causalAttention values"), kvHeads, headDim, start, scale, out),
  },
  dequantizeUnsigned: {
    name: "dequantizeUnsigned",
    summary: "3/4/8-bit KV codes → f32",
    reference: ({ codes, bitOffset, bits, groups, groupSize, scales, offsets, out, firstGroup }) =>
      dequantizeUnsignedImpl(
        hostCodes(codes, "dequantizeUnsigned codes", "Uint8Array"),
        bitOffset,
        bits,
        groups,
        groupSize,
        H(scales, "dequantizeUnsigned scales"),
        H(offsets, "dequantizeUnsigned offsets"),
        H(out, "dequantizeUnsigned out"),
        firstGroup,
      ),
  },
  quantizeUnsignedInto: {
    name: "quantizeUnsignedInto",
    summary: "f32 → 3/4/8-bit KV codes, scale and offset per group (KV write)",
    reference: ({ x, groups, groupSize, bits, codes, bitOffset, scales, offsets, firstGroup }) =>
      quantizeUnsignedIntoImpl(
        H(x, "quantizeUnsignedInto x"),
        groups,
        groupSize,
        bits,
        hostCodes(codes, "quantizeUnsignedInto codes", "Uint8Array"),
        bitOffset,
        H(scales, "quantizeUnsignedInto scales"),
        H(offsets, "quantizeUnsignedInto offsets"),
        firstGroup,
      ),
  },
  encodeHalf: {
    name: "encodeHalf",
    summary: "f32 → f16 codes (KV write)",
    reference: ({ x, dst, dstOffset }) => encodeHalfImpl(H(x, "encodeHalf x"), hostCodes(dst, "encodeHalf dst", "Uint16Array"), dstOffset),
  },
  decodeHalf: {
    name: "decodeHalf",
    summary: "f16 codes → f32 (KV read)",
    reference: ({ src, srcOffset = 0, length, out }) => decodeHalfImpl(hostCodes(src, "decodeHalf src", "Uint16Array"), srcOffset, length, H(out, "decodeHalf out")),
  },
  add: { name: "add", summary: "residual add in place", reference: ({ x, y }) => addImpl(H(x, "add x"), H(y, "add y")) },
  multiply: { name: "multiply", summary: "element-wise product in place", reference: ({ x, y }) => multiplyImpl(H(x, "multiply x"), H(y, "multiply y")) },
  gateActivation: {
    name: "gateActivation",
    summary: "ReLU² / SiLU in place (+ active rows)",
    reference: ({ x, tokens, features, activation, activeRows }) => gateActivationImpl(H(x, "gateActivation x"), tokens, features, activation, activeRows),
  },
  copyInto: { name: "copyInto", summary: "copy a range into a buffer (KV write, row slice)", reference: ({ src, dst, dstOffset, srcOffset, length }) => copyIntoImpl(H(src, "copyInto src"), H(dst, "copyInto dst"), dstOffset, srcOffset, length) },
  firstNonFinite: { name: "firstNonFinite", summary: "index of the first NaN / ±∞ (−1: all finite)", reference: ({ x }) => firstNonFiniteImpl(H(x, "firstNonFinite x")) },
};

export const KERNEL_NAMES = Object.keys(KERNELS) as KernelName[];

/** Where a backend's kernel comes from. */
export type KernelSource = "native" | "reference" | "native, reference for some inputs" | "unsupported";

export interface KernelInfo {
  kernel: KernelName;
  backend: string;
  source: KernelSource;
  /** The backend's own description of its implementation (or why it borrows the reference). */
  description: string;
  /** Calls so far: run natively, and handed to the reference. */
  calls: { native: number; reference: number };
}

/** A backend: the kernel methods plus memory and lifecycle. Built with defineBackend (contract/define-backend.ts). */
export interface Backend extends KernelMethods {
  readonly name: string;
  readonly threads: number;
  /** wasm only: the kernel set in use ("relaxed" SIMD or "baseline" SIMD). */
  readonly simd?: "baseline" | "relaxed";
  /** Where activations live: "host" (Float32Arrays) or "device" (DeviceTensor handles, read with `read`). */
  readonly residency: Residency;
  /** Every kernel, where it comes from, and how often it ran — the truth, not a description. */
  kernels(): KernelInfo[];
  /** Host values → activations on this backend (host backends: the array itself). */
  upload(x: Float32Array): Activations;
  /** Activations → host values: one awaited read (host backends: the array itself). */
  read(x: Activations): Promise<Float32Array>;
  /** Device backends: quantized activations' codes and scales back on the host (tests, diagnostics). */
  readQuantized?(q: DeviceQuantized): Promise<QuantizedActivations>;
  /**
   * Zeroed float32 storage the attention kernels read in place (a KV cache layer); the wasm backend places it in
   * its memory, a device backend on the device. Give it back with freeF32.
   */
  allocF32(length: number): Activations;
  freeF32(a: Activations): void;
  dispose(): void;
}
