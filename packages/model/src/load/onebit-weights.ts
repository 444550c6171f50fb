/**
 * The weights of a onebit checkpoint folder (checkpoint.ts describes the layout) from an open WeightSource, so a
 * folder can be read from any bytes — picked files, a zip, a URL — not only from a path. Block projections are
 * packed U8 [out, rowBytes] (onebit-t2 or onebit-b1) with `<name>_scale` F32 [G]; every other tensor is F32. Every
 * tensor is checked against the spec (dtype, shape, finite values) and tensors the spec does not have are refused.
 * (The same checks as `loadCheckpoint`, which reads a path.)
 */
import { b1RowBytes, t2RowBytes } from "@onebit/quant";
import type { ModelSpec } from "../model-spec";
import { numel, tensorList } from "../tensor-names";
import { bitLinearSpecFor, type ModelWeights } from "../transformer";
import { ModelFileError, type WeightSource } from "../weights/weight-source";

function f32(bytes: Uint8Array, count: number): Float32Array {
  // the source hands out fresh, aligned buffers: a view, no copy
  return new Float32Array(bytes.buffer, bytes.byteOffset, count);
}

function finite(file: string, name: string, w: Float32Array): Float32Array {
  for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new ModelFileError(file, name, `element ${i} is ${w[i]}`);
  return w;
}

/** `configPath` names the config.json the spec came from, in the error for a tensor the spec does not describe. */
export async function onebitWeightsFromSource(spec: ModelSpec, source: WeightSource, configPath: string, onProgress?: (done: number, total: number) => void): Promise<ModelWeights> {
  const file = source.path;
  const list = tensorList(spec);
  const expected = new Set(list.flatMap((t) => (t.projection ? [t.name, `${t.name}_scale`] : [t.name])));
  for (const name of source.tensors.keys())
    if (!expected.has(name)) throw new ModelFileError(file, name, `not part of the model ${configPath} describes (${spec.num_hidden_layers} layers, variant ${spec.onebit.variant})`);
  const weights: ModelWeights = new Map();
  let done = 0;
  for (const t of list) {
    const entry = source.tensors.get(t.name);
    if (!entry) throw new ModelFileError(file, t.name, "missing");
    const linear = t.projection ? bitLinearSpecFor(spec, t.projection) : undefined;
    if (!linear || linear.quant.weight === "none") {
      if (entry.dtype !== "F32" || entry.shape.length !== t.shape.length || entry.shape.some((d, i) => d !== t.shape[i]))
        throw new ModelFileError(file, t.name, `expected F32 ${JSON.stringify(t.shape)}, found ${entry.dtype} ${JSON.stringify(entry.shape)}`);
      weights.set(t.name, finite(file, t.name, f32(await source.read(t.name), numel(t.shape))));
    } else {
      const kind = linear.quant.weight as "ternary" | "binary";
      const rowBytes = kind === "ternary" ? t2RowBytes(linear.inFeatures) : b1RowBytes(linear.inFeatures);
      if (entry.dtype !== "U8" || entry.shape.length !== 2 || entry.shape[0] !== linear.outFeatures || entry.shape[1] !== rowBytes)
        throw new ModelFileError(file, t.name, `expected packed U8 [${linear.outFeatures}, ${rowBytes}] (${kind === "ternary" ? "onebit-t2" : "onebit-b1"}), found ${entry.dtype} ${JSON.stringify(entry.shape)}`);
      const scaleName = `${t.name}_scale`;
      const scale = source.tensors.get(scaleName);
      if (scale?.dtype !== "F32" || scale.shape.length !== 1 || scale.shape[0] !== linear.groups)
        throw new ModelFileError(file, scaleName, `expected F32 [${linear.groups}], found ${scale ? `${scale.dtype} ${JSON.stringify(scale.shape)}` : "nothing"}`);
      weights.set(t.name, {
        kind,
        outFeatures: linear.outFeatures,
        inFeatures: linear.inFeatures,
        data: await source.read(t.name),
        scales: finite(file, scaleName, f32(await source.read(scaleName), linear.groups)),
        scaleAxis: linear.groups === 1 ? "tensor" : linear.groupAxis,
      });
    }
    onProgress?.(++done, list.length);
  }
  return weights;
}
