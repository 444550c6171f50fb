/**
 * A Hugging Face folder (config.json + model.safetensors or its sharded index) → ModelSpec + weights, through the
 * architecture table: BitNetForCausalLM (packed uint8 + weight_scale, or bf16 master weights quantized at load)
 * and LlamaForCausalLM (full precision). Tensors are read one at a time from the lazy source.
 */
import { bf16ToF32, halfToFloat } from "@onebit/quant";
import type { Architecture } from "../architectures/architecture";
import { moduleName } from "../architectures/tensor-kinds";
import { readHfBitLinear } from "../hf/hf-bitnet-weights";
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
  let done = 0;
  for (const t of list) {
    if (t.projection && quant) {
      weights.set(t.name, await readHfBitLinear(source, moduleName(t.kind, "hf", t.layer), t.shape[0], quant));
    } else if ((t.component === "embedding" || t.component === "lm_head") && t.shape.length === 2 && half.has(source.tensors.get(t.name)?.dtype ?? "")) {
      // a bf16 / f16 table (2B4T's embedding: 657 MB) stays in its 16 bits, as a GGUF's F16 table does: lookups
      // decode their rows, the LM head is quantized from it; no float32 copy (1.3 GB) is made
      const tensor = await readHfTensor(source, t.name);
      expectTensor(tensor, [tensor.dtype], t.shape);
      const data = tensor.data.byteOffset % 2 === 0 ? tensor.data : tensor.data.slice();
      const bits = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
      const toFloat = tensor.dtype === "F16" ? halfToFloat : (b: number) => bf16ToF32(Uint16Array.of(b))[0]!;
      const exponent = tensor.dtype === "F16" ? 0x7c00 : 0x7f80; // all ones: an infinity or a NaN
      for (let i = 0; i < bits.length; i++)
        if ((bits[i]! & exponent) === exponent) throw new ModelFileError(source.path, `tensor "${t.name}"`, `element ${i} is ${toFloat(bits[i]!)}`);
      weights.set(t.name, quantizedTable(tensor.dtype, t.shape[0]!, t.shape[1]!, data));
    } else {
      const w = hfDenseToF32(await readHfTensor(source, t.name), t.shape);
      for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new ModelFileError(source.path, `tensor "${t.name}"`, `element ${i} is ${w[i]}`);
      weights.set(t.name, w);
    }
    onProgress?.(++done, list.length);
  }
  const notes = quant?.mode === "online" ? ["projections held bf16/f32 master weights and were quantized at load with absmean (transformers' online BitLinear)"] : [];
  return { spec, weights, notes };
}
