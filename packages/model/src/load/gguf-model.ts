/**
 * A GGUF file (llama.cpp `bitnet`, bitnet.cpp `bitnet-b1.58`, `llama`, onebit's own) → ModelSpec + weights.
 * The architecture comes from `general.architecture` through the table (architectures/registry.ts), the spec
 * from its metadata, every tensor name from tensor-kinds.ts; tensors are read one at a time from the lazy
 * source and repacked into onebit's kernel layout (ternary-repack.ts), so the file is never held twice.
 * Token embedding and output stay in the file's block format when it quantized them (QuantizedTable).
 */
import { bitLinearSpecFor, type ModelWeights } from "../transformer";
import type { Architecture } from "../architectures/architecture";
import { architectureForGguf } from "../architectures/registry";
import { ggufScaleName, parseTensorName } from "../architectures/tensor-kinds";
import type { ModelSpec } from "../model-spec";
import { numel, schemeName, tensorList } from "../tensor-names";
import { quantizedTable } from "../weights/quantized-table";
import { ModelFileError, type WeightSource } from "../weights/weight-source";
import { unpermuteQk } from "./qk-permute";
import { deferrable, deferredGgufProjection, repackGgufProjection } from "./ternary-repack";
import { SlabAllocator } from "../weights/slab-allocator";
import { dequantizeGgml } from "@onebit/quant";

export interface GgufModel {
  spec: ModelSpec;
  weights: ModelWeights;
  architecture: Architecture;
  /** One line per thing a user should know (projections quantized at load, tables kept quantized). */
  notes: string[];
}

const FLOAT_TYPES = ["F32", "F16", "BF16"];
/** Bytes of transcoded tensors read ahead of the one being processed (modelFromGguf). */
const READ_AHEAD_BYTES = 256 << 20;
const TABLE_TYPES = ["F16", "BF16", "Q8_0", "Q4_0", "Q6_K"];
const PROJECTION_TYPES = ["TQ2_0", "TQ1_0", "I2_S", "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q6_K"];
/** Projection types whose file bytes the loaded weight keeps (ternary-repack.ts lazyT2). */
const KEPT_PROJECTION_TYPES = ["TQ2_0", "I2_S"];

function shapeText(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

export async function modelFromGguf(source: WeightSource, onProgress?: (done: number, total: number) => void): Promise<GgufModel> {
  const file = source.path;
  const archName = source.metadata.get("general.architecture");
  if (typeof archName !== "string") throw new ModelFileError(file, "general.architecture", `expected a string, found ${archName === undefined ? "nothing" : typeof archName}`);
  const architecture = architectureForGguf(archName, file);
  const hasOutput = source.tensors.has("output.weight");
  const spec = architecture.specFromGguf!(source.metadata, file, hasOutput);
  const list = tensorList(spec);

  // every tensor in the file must be one the spec expects (or a projection's *.scale): a file with more layers
  // than block_count, or tensors of another architecture, is refused instead of half-read
  const expected = new Set<string>();
  for (const t of list) {
    expected.add(schemeName(t, "gguf"));
    if (t.projection) expected.add(ggufScaleName(t.kind, t.layer!)!);
  }
  for (const name of source.tensors.keys())
    if (!expected.has(name)) {
      const parsed = parseTensorName(name, "gguf");
      const why = parsed?.layer !== undefined && parsed.layer >= spec.num_hidden_layers ? `layer ${parsed.layer}, but ${archName}.block_count is ${spec.num_hidden_layers}` : `not a tensor of a ${archName} model of this spec`;
      throw new ModelFileError(file, name, `unexpected tensor (${why})`);
    }

  const weights: ModelWeights = new Map();
  const notes: string[] = [];
  const absmean: string[] = [];
  const toFloat = (dtype: string, bytes: Uint8Array, count: number) => dequantizeGgml(dtype, bytes, count);
  // the transcoded projections live until the model is placed on a backend, then go together: slabs, so their pages
  // go back to the system with them (slab-allocator.ts)
  const slabs = new SlabAllocator();
  const alloc = (length: number) => slabs.alloc(length);
  // read ahead: the next tensors' bytes come from the file (libuv's threads) while this one is checked and while the
  // caller builds the tokenizer (open-model.ts). Bytes the weights keep as read (TQ2_0 / I2_S projections, quantized
  // tables) are kept until the model is placed anyway, so reading them early adds nothing to the peak: they are all
  // asked for at once, and the reads go on while the main thread is busy. Bytes that are transcoded and dropped
  // (float or other projections) count against READ_AHEAD_BYTES in flight. A read that fails is reported when its
  // tensor is reached.
  const ahead = new Map<string, Promise<Uint8Array>>();
  let aheadBytes = 0;
  let next = 0;
  const names = list.map((t) => schemeName(t, "gguf"));
  // TQ2_0 / I2_S projections and quantized tables stay in the file where the source can read it later (a file on
  // disk): a backend that places them reads each piece straight into its own memory (deferredGgufProjection,
  // quantizedTable), so they are not read here
  const deferred = new Set(
    names.filter((name, i) => {
      const t = list[i]!;
      const entry = source.tensors.get(name);
      if (!source.range || !entry) return false;
      if (t.projection) return deferrable(entry.dtype, bitLinearSpecFor(spec, t.projection));
      return (t.component === "embedding" || t.component === "lm_head") && TABLE_TYPES.includes(entry.dtype);
    }),
  );
  const counted = (t: (typeof list)[number], dtype: string) =>
    t.projection ? !KEPT_PROJECTION_TYPES.includes(dtype) : t.component === "embedding" || t.component === "lm_head" ? !TABLE_TYPES.includes(dtype) : true;
  // bytes each tensor counts against READ_AHEAD_BYTES while its read is in flight (0: kept as read)
  const costOf = new Map(
    list.map((t, i) => {
      const entry = source.tensors.get(names[i]!);
      return [names[i]!, entry && counted(t, entry.dtype) ? entry.byteLength : 0];
    }),
  );
  const readAhead = () => {
    while (next < names.length && (ahead.size === 0 || aheadBytes < READ_AHEAD_BYTES)) {
      const name = names[next++]!;
      if (!source.tensors.has(name) || ahead.has(name) || deferred.has(name)) continue;
      const p = source.read(name);
      p.catch(() => {}); // handled where it is awaited; a load that stops earlier must not leave an unhandled rejection
      ahead.set(name, p);
      aheadBytes += costOf.get(name)!;
    }
  };
  const read = (name: string): Promise<Uint8Array> => {
    const p = ahead.get(name);
    if (p) {
      ahead.delete(name);
      aheadBytes -= costOf.get(name)!;
    }
    readAhead();
    return p ?? source.read(name);
  };
  readAhead();
  let done = 0;
  for (const t of list) {
    const name = schemeName(t, "gguf");
    const entry = source.tensors.get(name);
    if (!entry) throw new ModelFileError(file, name, `missing (a ${archName} model with ${spec.num_hidden_layers} layers has it)`);
    if (entry.shape.length !== t.shape.length || entry.shape.some((d, i) => d !== t.shape[i]))
      throw new ModelFileError(file, name, `shape ${shapeText(entry.shape)} (PyTorch order), expected ${shapeText(t.shape)} from the metadata`);
    if (t.projection) {
      if (!PROJECTION_TYPES.includes(entry.dtype)) throw new ModelFileError(file, name, `type ${entry.dtype} is not supported for a projection; supported: ${PROJECTION_TYPES.join(", ")}`);
      const linear = bitLinearSpecFor(spec, t.projection);
      const scaleName = ggufScaleName(t.kind, t.layer!)!;
      let multiplier: { name: string; values: Float32Array } | undefined;
      const scaleEntry = source.tensors.get(scaleName);
      if (scaleEntry) {
        if (scaleEntry.dtype !== "F32" || scaleEntry.shape.length !== 1) throw new ModelFileError(file, scaleName, `expected F32 [1], found ${scaleEntry.dtype} ${shapeText(scaleEntry.shape)}`);
        const bytes = await source.read(scaleName);
        multiplier = { name: scaleName, values: new Float32Array(bytes.buffer, bytes.byteOffset, scaleEntry.shape[0]!) };
        for (const v of multiplier.values) if (!Number.isFinite(v)) throw new ModelFileError(file, scaleName, `holds ${v}`);
      }
      const range = deferred.has(name) ? source.range!(name) : undefined;
      if (range) {
        weights.set(t.name, deferredGgufProjection(entry.dtype, range, linear, multiplier, file, name, alloc)!.weight);
        onProgress?.(++done, list.length);
        continue;
      }
      let bytes = await read(name);
      if (linear.quant.weight === "none" && architecture.gguf?.permuteQk && (t.projection === "q" || t.projection === "k")) {
        const heads = t.projection === "q" ? spec.num_attention_heads : spec.num_key_value_heads;
        const w = unpermuteQk(dequantizeGgml(entry.dtype, bytes, numel(t.shape)), heads, spec.head_dim, spec.hidden_size);
        bytes = new Uint8Array(w.buffer);
        const r = repackGgufProjection("F32", bytes, linear, multiplier, file, name, toFloat);
        weights.set(t.name, r.weight);
      } else {
        const r = repackGgufProjection(entry.dtype, bytes, linear, multiplier, file, name, toFloat, alloc);
        if (r.how === "absmean") absmean.push(name);
        weights.set(t.name, r.weight);
      }
    } else if (t.component === "embedding" || t.component === "lm_head") {
      if (TABLE_TYPES.includes(entry.dtype)) {
        const [rows, cols] = t.shape as [number, number];
        const bytes = deferred.has(name) ? source.range!(name)! : await read(name);
        weights.set(t.name, quantizedTable(entry.dtype, rows, cols, bytes));
        notes.push(`${name}: kept as ${entry.dtype} (${(bytes.length / 2 ** 20).toFixed(1)} MiB); rows are dequantized on lookup`);
      } else if (entry.dtype === "F32") weights.set(t.name, dequantizeGgml("F32", await read(name), numel(t.shape)));
      else throw new ModelFileError(file, name, `type ${entry.dtype} is not supported for ${t.component === "embedding" ? "the token embedding" : "the output"}; supported: F32, ${TABLE_TYPES.join(", ")}`);
    } else {
      if (!FLOAT_TYPES.includes(entry.dtype)) throw new ModelFileError(file, name, `type ${entry.dtype} is not supported for a norm; supported: ${FLOAT_TYPES.join(", ")}`);
      const w = dequantizeGgml(entry.dtype, await read(name), numel(t.shape));
      for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new ModelFileError(file, name, `element ${i} is ${w[i]}`);
      weights.set(t.name, w);
    }
    onProgress?.(++done, list.length);
  }
  if (deferred.size > 0) {
    const bytes = [...deferred].reduce((n, name) => n + source.tensors.get(name)!.byteLength, 0);
    notes.push(`${deferred.size} tensors (${(bytes / 2 ** 20).toFixed(1)} MiB) are read from the file as the backend places them (an untied table's rows as they are looked up): keep the file unchanged while the model is in use`);
  }
  if (absmean.length > 0) notes.push(`${absmean.length} projection(s) held latent (non-ternary) float weights and were quantized at load with absmean, e.g. ${absmean[0]}`);
  return { spec, weights, architecture, notes };
}
