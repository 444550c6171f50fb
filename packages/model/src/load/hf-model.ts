/**
 * A Hugging Face folder (config.json + model.safetensors or its sharded index) → ModelSpec + weights, through the
 * architecture table: BitNetForCausalLM (packed uint8 + weight_scale, or bf16 master weights quantized at load)
 * and LlamaForCausalLM (full precision). Tensors are read one at a time from the lazy source.
 */
import { type ByteRange, copyBytes } from "@onebit/kernels";
import { bf16ToF32, halfToFloat } from "@onebit/quant";
import type { Architecture } from "../architectures/architecture";
import { moduleName } from "../architectures/tensor-kinds";
import { deferredHfBitLinear, type LastTranscoded, readHfBitLinear } from "../hf/hf-bitnet-weights";
import { type HfBitnetQuantization, parseHfBitnetQuantization } from "../hf/hf-bitnet-config";
import { hfDenseToF32 } from "../hf/hf-dense-weights";
import { expectTensor, readHfTensor } from "../hf/hf-tensor";
import type { ModelSpec } from "../model-spec";
import { tensorList } from "../tensor-names";
import type { ModelWeights } from "../transformer";
import { quantizedTable } from "../weights/quantized-table";
import { ModelFileError, type WeightSource } from "../weights/weight-source";

export interface HfModel {
  spec: ModelSpec;
  weights: ModelWeights;
  notes: string[];
}

export async function modelFromHf(architecture: Architecture, config: Record<string, unknown>, configFile: string, source: WeightSource, onProgress?: (done: number, total: number) => void): Promise<HfModel> {
  const spec = architecture.specFromConfig!(config, configFile);
  const quant: HfBitnetQuantization | undefined = spec.onebit.variant === "fp" ? undefined : parseHfBitnetQuantization(config, configFile);
  const list = tensorList(spec);
  const expected = new Set<string>();
  for (const t of list) {
    expected.add(t.name);
    if (t.projection && quant?.mode === "offline") expected.add(`${moduleName(t.kind, "hf", t.layer)}.weight_scale`);
  }
  if (spec.tie_word_embeddings) expected.add("lm_head.weight"); // some writers store the tied head too; it is not read
  for (const name of source.tensors.keys())
    if (!expected.has(name)) throw new ModelFileError(source.path, `tensor "${name}"`, `unexpected for a ${spec.num_hidden_layers}-layer ${architecture.id} model (config.json says otherwise)`);
  const weights: ModelWeights = new Map();
  const half = new Set(["BF16", "F16"]);
  let deferred = 0;
  const last: LastTranscoded = {};
  let done = 0;
  for (const t of list) {
    if (t.projection && quant) {
      const prefix = moduleName(t.kind, "hf", t.layer);
      // packed weights of a file on disk stay in it until a backend places them (read and transcoded then)
      const range = quant.mode === "offline" ? source.range?.(`${prefix}.weight`) : undefined;
      if (range) deferred += range.length;
      weights.set(t.name, range ? await deferredHfBitLinear(source, prefix, t.shape[0], quant, range, last) : await readHfBitLinear(source, prefix, t.shape[0], quant));
    } else if ((t.component === "embedding" || t.component === "lm_head") && t.shape.length === 2 && half.has(source.tensors.get(t.name)?.dtype ?? "")) {
      // a bf16 / f16 table (2B4T's embedding: 657 MB) stays in its 16 bits, as a GGUF's F16 table does — and in its
      // file where it can be read a piece at a time: lookups read their rows, the LM head is quantized from it; no
      // float32 copy (1.3 GB) is made. The whole table is read once now, a piece at a time, for its finiteness
      const entry = source.tensors.get(t.name)!;
      expectTensor({ file: source.path, name: t.name, dtype: entry.dtype, shape: entry.shape, byteLength: entry.byteLength }, [entry.dtype], t.shape);
      const range = source.range?.(t.name);
      const bytes: Uint8Array | ByteRange = range ?? (await readHfTensor(source, t.name)).data;
      checkFinite16(bytes, entry.dtype, source.path, t.name);
      if (range) deferred += range.length;
      weights.set(t.name, quantizedTable(entry.dtype, t.shape[0]!, t.shape[1]!, bytes));
    } else {
      const w = hfDenseToF32(await readHfTensor(source, t.name), t.shape);
      for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new ModelFileError(source.path, `tensor "${t.name}"`, `element ${i} is ${w[i]}`);
      weights.set(t.name, w);
    }
    onProgress?.(++done, list.length);
  }
  const notes = quant?.mode === "online" ? ["projections held bf16/f32 master weights and were quantized at load with absmean (transformers' online BitLinear)"] : [];
  if (deferred > 0)
    notes.push(`${(deferred / 2 ** 20).toFixed(1)} MiB of tensors are read from the file as the backend places them (a table's rows as they are looked up): keep the file unchanged while the model is in use`);
  return { spec, weights, notes };
}

/** Refuse a 16-bit table holding an infinity or a NaN (exponent bits all ones), naming the element; read in 16 MiB pieces. */
function checkFinite16(bytes: Uint8Array | ByteRange, dtype: string, file: string, name: string): void {
  const exponent = dtype === "F16" ? 0x7c00 : 0x7f80;
  const toFloat = dtype === "F16" ? halfToFloat : (b: number) => bf16ToF32(Uint16Array.of(b))[0]!;
  const piece = new Uint8Array(Math.min(bytes.length, 16 << 20));
  const bits = new Uint16Array(piece.buffer);
  const words = new Uint32Array(piece.buffer, 0, piece.length >> 2);
  // two halves a 32-bit word: a half's exponent field plus its lowest bit carries into the half's top bit exactly
  // when the field is all ones (the carry never crosses into the other half: 0x7f80 + 0x80 = 0x8000)
  const both = exponent * 0x10001;
  const carry = (exponent & -exponent) * 0x10001;
  const refuse = (i: number, at: number) => {
    throw new ModelFileError(file, `tensor "${name}"`, `element ${at / 2 + i} is ${toFloat(bits[i]!)}`);
  };
  for (let at = 0; at < bytes.length; at += piece.length) {
    const n = Math.min(piece.length, bytes.length - at);
    copyBytes(bytes, at, piece.subarray(0, n));
    const whole = n >> 2;
    for (let i = 0; i < whole; i++)
      if (((words[i]! & both) + carry) & 0x80008000) refuse((bits[2 * i]! & exponent) === exponent ? 2 * i : 2 * i + 1, at);
    for (let i = 2 * whole; i < n / 2; i++) if ((bits[i]! & exponent) === exponent) refuse(i, at);
  }
}
