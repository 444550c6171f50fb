/**
 * A loaded model → the tensors and metadata of a GGUF file that llama.cpp (`bitnet`, `llama`) or bitnet.cpp
 * (`bitnet-b1.58`, `bitnet` with I2_S) runs, or onebit's own `onebit` architecture for what they cannot express
 * (architectures/registry.ts ggufArchitectureFor says which and why).
 *
 * Projections, exactly (the loader reads back the same codes and f32 scales):
 * - tq2_0 / tq1_0: the ternary codes with every block scale d = 1 and the f32 scale in llama.cpp's optional
 *   `blk.{l}.*.scale` tensor (its bitnet graph multiplies the matmul output by it: llama.cpp build_bitnet), so the
 *   scale keeps all 24 bits instead of fp16's 11. bitnet.cpp's `bitnet-b1.58` loads no *.scale tensors: there the
 *   scale is every block's fp16 d (rounded; noted). Rows whose length is not a multiple of 256 cannot be TQ blocks
 *   (ggml requires ne[0] % block == 0; llama-quantize falls back for them too): they are written as F16 codes
 *   (−1, 0, 1, exact) with the same `*.scale` — and listed in the notes.
 * - i2_s: bitnet.cpp's 2-bit layout with its f32 scale in the 32-byte tail (rows must be multiples of 128).
 * Embedding/output: float32 as F32 (default: exact) or quantized to `embeddingType`; a table the source file
 * kept quantized is written back byte for byte in its own type.
 *
 * The plan is made up front (every check that can fail on the model's shape fails here), but the tensors' bytes
 * are made when the writer reads them (lazy-bytes.ts), one tensor at a time, and a table or projection still in its
 * source file is read from it then: converting a 2B4T GGUF holds a few tensors, not the model twice.
 */
import type { ByteRange, PackedLinearWeight } from "@onebit/kernels";
import { floatToHalf, halfToFloat, packTq1_0, packTq2_0, quantizeGgml, t2ToI2s, t2ToTq2, unpackBinaryB1, unpackTernaryT2, OnebitError } from "@onebit/quant";
import type { Architecture, GgufKv } from "../architectures/architecture";
import { ggufArchitectureFor } from "../architectures/registry";
import { ggufScaleName } from "../architectures/tensor-kinds";
import type { ModelSpec } from "../model-spec";
import { numel, schemeName, tensorList } from "../tensor-names";
import type { ModelWeights } from "../transformer";
import { isQuantizedTable } from "../weights/quantized-table";
import { permuteQk } from "../load/qk-permute";
import { ggmlTensorBytes, ggmlTypeByName } from "../gguf/ggml-tensor-types";
import { lazyBytes } from "./lazy-bytes";
import { t2Codes } from "./t2-codes";

export const GGUF_PROJECTION_TYPES = ["tq2_0", "tq1_0", "i2_s"] as const;
export type GgufProjectionType = (typeof GGUF_PROJECTION_TYPES)[number];
export const GGUF_TABLE_TYPES = ["f32", "f16", "bf16", "q8_0", "q6_k", "q4_0"] as const;
export type GgufTableType = (typeof GGUF_TABLE_TYPES)[number];

export interface GgufTensorOut {
  name: string;
  /** ggml type name, upper case ("TQ2_0", "F32", …). */
  dtype: string;
  /** PyTorch order (outermost first). */
  shape: number[];
  /** In memory (small tensors), or made or read from the source file when the writer reads them. */
  data: Uint8Array | ByteRange;
}

export interface GgufExportPlan {
  architecture: Architecture;
  /** Why no foreign runtime can read the file (set when the architecture is onebit's own). */
  onebitOnlyReason?: string;
  metadata: GgufKv[];
  tensors: GgufTensorOut[];
  notes: string[];
}

export interface GgufExportOptions {
  type?: GgufProjectionType;
  /** Storage of a float32 token embedding / output; default "f32" (exact). Tables already quantized keep their type. */
  embeddingType?: GgufTableType;
  /** The `tokenizer.*` keys (from the source GGUF, or made from onebit's or a tokenizer.json vocabulary). */
  tokenizer: GgufKv[];
  name?: string;
}

export class GgufExportError extends OnebitError {
  constructor(message: string) {
    super("GGUF_EXPORT", message);
    this.name = "GgufExportError";
  }
}

/** ggml_nbytes of `elements` values of a ggml type (by name). */
const bytesOf = (dtype: string, elements: number): number => ggmlTensorBytes(ggmlTypeByName(dtype)!, elements);

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function codesOf(w: PackedLinearWeight): Int8Array {
  return w.kind === "ternary" ? unpackTernaryT2(t2Codes(w), w.outFeatures, w.inFeatures) : unpackBinaryB1(w.data, w.outFeatures, w.inFeatures);
}

export function planGgufExport(spec: ModelSpec, weights: ModelWeights, options: GgufExportOptions): GgufExportPlan {
  const type = options.type ?? "tq2_0";
  if (!GGUF_PROJECTION_TYPES.includes(type)) throw new GgufExportError(`--type: expected one of ${GGUF_PROJECTION_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
  const embeddingType = options.embeddingType ?? "f32";
  if (!GGUF_TABLE_TYPES.includes(embeddingType)) throw new GgufExportError(`--embedding-type: expected one of ${GGUF_TABLE_TYPES.join(", ")}, got ${JSON.stringify(embeddingType)}`);
  const { architecture, reason } = ggufArchitectureFor(spec);
  const arch = architecture.gguf!.arch;
  const notes: string[] = [];
  if (reason) notes.push(`written as arch "onebit" (onebit metadata): no other runtime can express this model — ${reason}`);
  const tensors: GgufTensorOut[] = [];
  const fallbackF16: string[] = [];
  const roundedScales: string[] = [];
  for (const t of tensorList(spec)) {
    const name = schemeName(t, "gguf");
    const w = weights.get(t.name);
    if (!w) throw new GgufExportError(`tensor "${t.name}" is missing from the model`);
    if (t.projection && !(w instanceof Float32Array) && !isQuantizedTable(w)) {
      const [out, inF] = t.shape as [number, number];
      if (type === "i2_s") {
        if (w.kind !== "ternary" || w.scales.length !== 1)
          throw new GgufExportError(`${t.name}: I2_S holds ternary weights with one scale per tensor; this is ${w.kind} with ${w.scales.length} scale(s) — use --type tq2_0`);
        if (inF % 128 !== 0) throw new GgufExportError(`${t.name}: I2_S needs rows whose length is a multiple of 128; this projection's rows have ${inF} weights`);
        const scale = w.scales[0]!;
        tensors.push({ name, dtype: "I2_S", shape: [out, inF], data: lazyBytes(bytesOf("I2_S", out * inF), () => t2ToI2s(t2Codes(w), out, inF, scale), t.name) });
        continue;
      }
      // with *.scale tensors the blocks hold bare codes (d = 1) and the exact f32 scale goes beside them; a runtime
      // without them (bitnet.cpp's bitnet-b1.58) gets the scale in every block's fp16 d, rounded
      const scaleTensors = architecture.gguf?.scaleTensors === true;
      if (!scaleTensors && w.scales.length !== 1) throw new GgufExportError(`${t.name}: ${arch} keeps one scale per tensor; this projection has ${w.scales.length}`);
      const d = scaleTensors ? 1 : w.scales[0]!;
      if (!scaleTensors && halfToFloat(floatToHalf(d)) !== d) roundedScales.push(t.name);
      const blocks = (out * inF) / 256;
      if (inF % 256 === 0 && type === "tq2_0" && w.kind === "ternary")
        tensors.push({ name, dtype: "TQ2_0", shape: [out, inF], data: lazyBytes(bytesOf("TQ2_0", out * inF), () => t2ToTq2(t2Codes(w), out, inF, floatToHalf(d)), t.name) });
      else if (inF % 256 === 0) {
        const pack = () => {
          const ds = new Float32Array(blocks).fill(d);
          return type === "tq2_0" ? packTq2_0(codesOf(w), ds) : packTq1_0(codesOf(w), ds);
        };
        tensors.push({ name, dtype: type.toUpperCase(), shape: [out, inF], data: lazyBytes(bytesOf(type.toUpperCase(), out * inF), pack, t.name) });
      } else {
        const halves = () => {
          const codes = codesOf(w);
          const half = new Uint16Array(codes.length);
          for (let i = 0; i < codes.length; i++) half[i] = floatToHalf(codes[i]! * d);
          return new Uint8Array(half.buffer);
        };
        tensors.push({ name, dtype: "F16", shape: [out, inF], data: lazyBytes(bytesOf("F16", out * inF), halves, t.name) });
        fallbackF16.push(name);
      }
      if (scaleTensors) tensors.push({ name: ggufScaleName(t.kind, t.layer!)!, dtype: "F32", shape: [w.scales.length], data: f32Bytes(w.scales) });
      continue;
    }
    if (isQuantizedTable(w)) {
      if (t.component !== "embedding" && t.component !== "lm_head") throw new GgufExportError(`${t.name}: a ${w.dtype} table where a float tensor is expected`);
      tensors.push({ name, dtype: w.dtype, shape: [w.rows, w.cols], data: w.bytes });
      continue;
    }
    if (!(w instanceof Float32Array)) throw new GgufExportError(`${t.name}: expected float32 values, found a packed ${w.kind} weight`);
    if (w.length !== numel(t.shape)) throw new GgufExportError(`${t.name}: has ${w.length} values, expected ${numel(t.shape)}`);
    let values = w;
    if (t.projection && architecture.gguf?.permuteQk && (t.projection === "q" || t.projection === "k"))
      values = permuteQk(w, t.projection === "q" ? spec.num_attention_heads : spec.num_key_value_heads, spec.head_dim, spec.hidden_size);
    const tableType = t.component === "embedding" || t.component === "lm_head" ? embeddingType.toUpperCase() : "F32";
    tensors.push({
      name,
      dtype: tableType,
      shape: [...t.shape],
      data: tableType === "F32" ? f32Bytes(values) : lazyBytes(bytesOf(tableType, values.length), () => quantizeGgml(tableType, values), t.name),
    });
  }
  if (fallbackF16.length > 0)
    notes.push(`${fallbackF16.length} projection(s) have rows of a length that is not a multiple of 256, which ${type.toUpperCase()} blocks need; they are stored as F16 ${architecture.gguf?.scaleTensors ? "codes (−1/0/1, exact) with their f32 *.scale" : "values (code × fp16 scale)"}, e.g. ${fallbackF16[0]}`);
  if (roundedScales.length > 0)
    notes.push(`${arch} has no *.scale tensors: ${roundedScales.length} projection scale(s) are stored as the fp16 block scale, rounded (relative error ≤ 2^-11), e.g. ${roundedScales[0]}; --type i2_s keeps them exact`);
  const metadata: GgufKv[] = [
    { key: "general.architecture", type: "string", value: arch },
    { key: "general.name", type: "string", value: options.name ?? "onebit model" },
    { key: "general.quantization_version", type: "u32", value: 2 },
    ...architecture.toGgufMetadata!(spec),
    ...options.tokenizer,
  ];
  return { architecture, onebitOnlyReason: reason, metadata, tensors, notes };
}
