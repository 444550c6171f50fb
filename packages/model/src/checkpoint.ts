/**
 * onebit's native checkpoint: a folder with
 *   config.json        the ModelSpec (Hugging Face field names)
 *   model.safetensors  block projections PACKED (U8 [out, rowBytes] in onebit-t2 or onebit-b1, plus
 *                      `<name>_scale` F32 [G]); embeddings, norms and FP projections as F32
 *   tokenizer.json     the tokenizer, when one is given
 * `saveCheckpoint` takes latent float weights (from training) and quantizes + packs them exactly as BitLinear
 * does, so a loaded model computes what the exported one did. Files are written atomically.
 */
import type { ByteRange, PackedLinearWeight } from "@onebit/kernels";
import { quantizeBitLinearWeight } from "@onebit/layers";
import { b1RowBytes, t2RowBytes } from "@onebit/quant";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ModelSpec, parseModelSpec } from "./model-spec";
import { t2Codes } from "./export/t2-codes";
import { tableRange } from "./export/table-bytes";
import { f32Tensor, type SafeTensor, SafetensorsError, tensorAsF32 } from "./safetensors";
import { type TensorPlan, writeSafetensorsFile } from "./safetensors/safetensors-writer";
import { openSafetensors } from "./safetensors/safetensors-source";
import { fileByteSource } from "./weights/byte-source";
import { numel, tensorList } from "./tensor-names";
import { bitLinearSpecFor, type ModelWeights } from "./transformer";
import { isQuantizedTable } from "./weights/quantized-table";
import { ModelInputError } from "./model-input-error";

export interface Checkpoint {
  spec: ModelSpec;
  weights: ModelWeights;
  tokenizer?: unknown;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export async function saveCheckpoint(dir: string, checkpoint: { spec: ModelSpec; weights: ModelWeights; tokenizer?: unknown }): Promise<void> {
  const { spec, weights } = checkpoint;
  await mkdir(dir, { recursive: true });
  // the list (names, shapes, sizes) now; each tensor's bytes when the writer reaches it — a table or projection
  // still in a GGUF file is read from it then (tableRange, t2Codes), so a conversion holds one tensor at a time
  const plan: TensorPlan[] = [];
  const bytes: Array<() => Uint8Array | ByteRange> = [];
  const add = (name: string, dtype: "F32" | "U8", shape: number[], byteLength: number, data: () => Uint8Array | ByteRange) => {
    plan.push({ name, dtype, shape, byteLength });
    bytes.push(data);
  };
  for (const t of tensorList(spec)) {
    const stored = weights.get(t.name);
    if (!stored) throw new ModelInputError(`saveCheckpoint: tensor "${t.name}" is missing`);
    if (isQuantizedTable(stored)) {
      // onebit folders hold dense tensors as F32
      if (stored.rows * stored.cols !== numel(t.shape)) throw new ModelInputError(`saveCheckpoint: tensor "${t.name}" has ${stored.rows * stored.cols} values, expected ${numel(t.shape)}`);
      add(t.name, "F32", [...t.shape], stored.rows * stored.cols * 4, () => tableRange(stored, "F32"));
      continue;
    }
    const packed = t.projection && stored instanceof Float32Array ? quantizeBitLinearWeight(bitLinearSpecFor(spec, t.projection), stored) : stored;
    if (packed instanceof Float32Array) {
      if (packed.length !== numel(t.shape)) throw new ModelInputError(`saveCheckpoint: tensor "${t.name}" has ${packed.length} values, expected ${numel(t.shape)}`);
      add(t.name, "F32", [...t.shape], packed.byteLength, () => f32Tensor(packed, []).data);
    } else {
      const rowBytes = packed.kind === "ternary" ? t2RowBytes(packed.inFeatures) : b1RowBytes(packed.inFeatures);
      add(t.name, "U8", [packed.outFeatures, rowBytes], packed.outFeatures * rowBytes, () => (packed.kind === "ternary" ? t2Codes(packed) : packed.data));
      add(`${t.name}_scale`, "F32", [packed.scales.length], packed.scales.byteLength, () => f32Tensor(packed.scales, []).data);
    }
  }
  await writeSafetensorsFile(join(dir, "model.safetensors"), plan, (_, i) => bytes[i]!(), { format: "onebit", variant: spec.onebit.variant });
  await writeAtomic(join(dir, "config.json"), `${JSON.stringify(spec, null, 2)}\n`);
  if (checkpoint.tokenizer !== undefined) await writeAtomic(join(dir, "tokenizer.json"), `${JSON.stringify(checkpoint.tokenizer)}\n`);
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const configPath = join(dir, "config.json");
  let raw: string;
  try {
    raw = await readFile(configPath, "utf8");
  } catch (e) {
    throw new ModelInputError(`${configPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ModelInputError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  let spec: ModelSpec;
  try {
    spec = parseModelSpec(json);
  } catch (e) {
    throw new ModelInputError(`${configPath}: ${(e as Error).message}`);
  }
  const file = join(dir, "model.safetensors");
  // header first, then one tensor at a time: the file is never held twice
  const source = await openSafetensors(await fileByteSource(file));
  const weights: ModelWeights = new Map();
  try {
    const list = tensorList(spec);
    const expected = new Set(list.flatMap((t) => (t.projection ? [t.name, `${t.name}_scale`] : [t.name])));
    for (const name of source.tensors.keys())
      if (!expected.has(name)) throw new SafetensorsError(file, `tensor "${name}" is not part of the model ${configPath} describes (${spec.num_hidden_layers} layers, variant ${spec.onebit.variant})`);
    const read = async (name: string): Promise<SafeTensor> => {
      const e = source.tensors.get(name)!;
      return { dtype: e.dtype as SafeTensor["dtype"], shape: e.shape, data: await source.read(name) };
    };
    for (const t of list) {
      if (!source.tensors.has(t.name)) throw new SafetensorsError(file, `tensor "${t.name}" is missing`);
      const st = await read(t.name);
      const linear = t.projection ? bitLinearSpecFor(spec, t.projection) : undefined;
      if (!linear || linear.quant.weight === "none") {
        if (st.dtype !== "F32" || st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i]))
          throw new SafetensorsError(file, `tensor "${t.name}": expected F32 ${JSON.stringify(t.shape)}, found ${st.dtype} ${JSON.stringify(st.shape)}`);
        const w = tensorAsF32(st);
        for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new SafetensorsError(file, `tensor "${t.name}": element ${i} is ${w[i]}`);
        weights.set(t.name, w);
        continue;
      }
      const kind = linear.quant.weight as "ternary" | "binary";
      const rowBytes = kind === "ternary" ? t2RowBytes(linear.inFeatures) : b1RowBytes(linear.inFeatures);
      if (st.dtype !== "U8" || st.shape.length !== 2 || st.shape[0] !== linear.outFeatures || st.shape[1] !== rowBytes)
        throw new SafetensorsError(file, `tensor "${t.name}": expected packed U8 [${linear.outFeatures}, ${rowBytes}] (${kind === "ternary" ? "onebit-t2" : "onebit-b1"}), found ${st.dtype} ${JSON.stringify(st.shape)}`);
      const groups = linear.groups;
      const scale = source.tensors.has(`${t.name}_scale`) ? await read(`${t.name}_scale`) : undefined;
      if (!scale || scale.dtype !== "F32" || scale.shape.length !== 1 || scale.shape[0] !== groups)
        throw new SafetensorsError(file, `tensor "${t.name}_scale": expected F32 [${groups}], found ${scale ? `${scale.dtype} ${JSON.stringify(scale.shape)}` : "nothing"}`);
      const scales = tensorAsF32(scale);
      for (let g = 0; g < scales.length; g++) if (!Number.isFinite(scales[g]!)) throw new SafetensorsError(file, `tensor "${t.name}_scale": element ${g} is ${scales[g]}`);
      weights.set(t.name, {
        kind,
        outFeatures: linear.outFeatures,
        inFeatures: linear.inFeatures,
        data: st.data,
        scales,
        scaleAxis: groups === 1 ? "tensor" : linear.groupAxis,
      });
    }
  } finally {
    await source.close();
  }
  let tokenizer: unknown;
  try {
    tokenizer = JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new ModelInputError(`${join(dir, "tokenizer.json")}: ${(e as Error).message}`);
  }
  return { spec, weights, tokenizer };
}
