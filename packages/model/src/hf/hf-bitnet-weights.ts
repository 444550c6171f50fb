/**
 * Hugging Face BitNet linear weights ↔ onebit's PackedLinearWeight (kind "ternary", onebit-t2 codes, one
 * per-tensor dequantization multiplier: W ≈ code · scales[0]).
 *
 * Three HF forms (transformers src/transformers/integrations/bitnet.py):
 *  - packed ("offline"): `weight` uint8 [⌈out/4⌉, in], four ternary rows per byte along the OUTPUT axis (row
 *    r + i·⌈out/4⌉ at bits 2i, stored w + 1; `pack_weights`/`unpack_weights`, onebit's packHf/unpackHf), plus
 *    `weight_scale` [1] (bf16 in a bf16 model; the buffer takes the model dtype, so f32 loads as well);
 *  - latent ("online", the `-bf16` sibling): `weight` bf16/f32 [out, in], ternarized at run time by
 *    `WeightQuant`: s = 1 / max(mean|W|, 1e-5); W_q = clamp(round(W·s), −1, 1) / s — exactly onebit's
 *    quantizeTernary (clamp ε, per tensor, round half to even like torch.round, in float32);
 *  - the way back, onebit → packed, for export.
 *
 * What `weight_scale` means depends on the checkpoint's `quantization_config.linear_class` — the two layer
 * classes in bitnet.py apply it in opposite directions:
 *  - AutoBitLinear ("autobitlinear", what microsoft/bitnet-b1.58-2B-4T declares), offline forward:
 *      output = F.linear(ActQuant(x), W̃) * weight_scale          → weight_scale is a MULTIPLIER: W ≈ W̃ · ws
 *  - BitLinear ("bitlinear", BitNetQuantConfig's default), forward:
 *      y = F.linear(x_int8, W̃); post_quant_process: y / (input_scale · weight_scale)
 *                                                                → weight_scale is a DIVISOR:  W ≈ W̃ / ws
 * Worked example: latent row W = [3, 0, −1.5, 1.5]: γ = mean|W| = 1.5, s = 1/γ = 2/3, W·s = [2, 0, −1, 1] →
 * W̃ = [1, 0, −1, 1]; the online layer computes with W̃/s = [1.5, 0, −1.5, 1.5]. With x = [0.5, 0.25, 1, −0.75]
 * (ActQuant: 127/1 → x_int = [64, 32, 127, −95], round half to even) the online output is
 * (64 − 127 − 95)/127 · 1.5 = −1.8661…; AutoBitLinear reproduces it with weight_scale = 1.5 (= γ, multiplied),
 * BitLinear with weight_scale = 0.6667 (= s, divided). So the number in the file is γ for "autobitlinear" and
 * 1/γ for "bitlinear". 2B4T's packed weight_scale values are reported ≈ 1.555 (microsoft/BitNet#616), the size of
 * mean|W| for its bf16 latent weights (which are O(1): −1.13, 6.41, 0.77, …), i.e. γ — AutoBitLinear's
 * multiplier, as its config declares. mlx-lm reads it the same way (models/bitlinear_layers.py:
 * invert_weight_scales = linear_class != "autobitlinear"); llama.cpp's convert_hf_to_gguf.py `dequant_bitnet`
 * always divides ("The scale is inverted"), the BitLinear reading. hf-bitnet-weights.test.ts replays this example
 * through all three forwards. (@onebit/quant's hfScaleToMultiplier is the BitLinear reading only.)
 */
import type { ByteRange, PackedLinearWeight } from "@onebit/kernels";
import { floatToBf16, hfPackedRows, hfToT2, packTernaryT2, QuantInputError, quantizeTernary, t2RowBytes, t2ToHf } from "@onebit/quant";
import { shown } from "../safetensors/safetensors-header";
import type { WeightSource } from "../weights/weight-source";
import { ModelFileError } from "../weights/weight-source";
import type { HfBitnetQuantization, HfLinearClass } from "./hf-bitnet-config";
import { hfDenseToF32 } from "./hf-dense-weights";
import { expectTensor, type HfTensor, readHfTensor, tensorField } from "./hf-tensor";
import { ModelInputError } from "../model-input-error";

const f32 = Math.fround;

/** onebit's multiplier from a checkpoint's weight_scale (see the header comment for the direction). */
export function multiplierFromWeightScale(weightScale: number, linearClass: HfLinearClass): number {
  return linearClass === "autobitlinear" ? f32(weightScale) : f32(1 / weightScale);
}

/** The weight_scale to store for onebit's multiplier. */
export function weightScaleFromMultiplier(multiplier: number, linearClass: HfLinearClass): number {
  return linearClass === "autobitlinear" ? f32(multiplier) : f32(1 / multiplier);
}

function checkLinearClass(linearClass: unknown): asserts linearClass is HfLinearClass {
  if (linearClass !== "autobitlinear" && linearClass !== "bitlinear")
    throw new ModelInputError(`linearClass: expected "autobitlinear" or "bitlinear", got ${shown(linearClass)}`);
}

/** Packed uint8 weight + weight_scale → PackedLinearWeight. `outFeatures` comes from the config (⌈out/4⌉ rows do not fix it). */
export function hfPackedToOnebit(weight: HfTensor, weightScale: HfTensor, outFeatures: number, linearClass: HfLinearClass): PackedLinearWeight {
  checkLinearClass(linearClass);
  if (!Number.isSafeInteger(outFeatures) || outFeatures <= 0) throw new ModelInputError(`outFeatures: expected a positive integer, got ${outFeatures}`);
  if (weight.shape.length !== 2) throw new ModelFileError(weight.file, tensorField(weight, "shape"), `expected [⌈out/4⌉, in] (2 dimensions), found ${shown(weight.shape)}`);
  const inFeatures = weight.shape[1]!;
  expectTensor(weight, ["U8"], [hfPackedRows(outFeatures), inFeatures]);
  const multiplier = multiplierOf(weightScale, linearClass);
  return { kind: "ternary", outFeatures, inFeatures, data: packedToT2(weight.file, weight, outFeatures, inFeatures), scales: Float32Array.of(multiplier), scaleAxis: "tensor" };
}

/** A packed weight's weight_scale [1] → onebit's multiplier, checked. */
function multiplierOf(weightScale: HfTensor, linearClass: HfLinearClass): number {
  expectTensor(weightScale, ["BF16", "F32"], [1]);
  const ws = hfDenseToF32(weightScale, [1])[0]!;
  if (!(ws > 0) || !Number.isFinite(ws)) throw new ModelFileError(weightScale.file, tensorField(weightScale), `expected a positive finite scale, found ${ws}`);
  const multiplier = multiplierFromWeightScale(ws, linearClass);
  if (!(multiplier > 0) || !Number.isFinite(multiplier))
    throw new ModelFileError(weightScale.file, tensorField(weightScale), `${ws} gives no finite ${linearClass} multiplier (found ${multiplier})`);
  return multiplier;
}

/** HF packed bytes → onebit-t2, a code 3 named by the file and tensor. */
function packedToT2(file: string, weight: HfTensor, outFeatures: number, inFeatures: number): Uint8Array {
  try {
    return hfToT2(weight.data, outFeatures, inFeatures);
  } catch (e) {
    if (e instanceof QuantInputError) throw new ModelFileError(file, tensorField(weight), (e as Error).message.replace(/^hfToT2 data: /, ""));
    throw e;
  }
}

/** Latent float weight [out, in] (the `-bf16` sibling, "online" mode) → ternary, as WeightQuant does. */
export function hfLatentToOnebit(weight: HfTensor): PackedLinearWeight {
  if (weight.shape.length !== 2) throw new ModelFileError(weight.file, tensorField(weight, "shape"), `expected [out, in], found ${shown(weight.shape)}`);
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  const values = hfDenseToF32(weight, [outFeatures, inFeatures]);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]!))
      throw new ModelFileError(weight.file, tensorField(weight), `value ${values[i]} at row ${Math.floor(i / inFeatures)}, column ${i % inFeatures}: expected finite weights`);
  // quantizeTernary's defaults are WeightQuant's: per tensor, s = 1/max(γ, 1e-5), scale = 1/s, all in float32.
  // γ's sum is accumulated in float64 and rounded once; torch sums in float32 pairwise, so γ can differ by an ulp
  // and a weight lying exactly on a rounding boundary could then round the other way.
  const q = quantizeTernary(values, [outFeatures, inFeatures], { granularity: "tensor" });
  return { kind: "ternary", outFeatures, inFeatures, data: packTernaryT2(q.codes, outFeatures, inFeatures), scales: Float32Array.of(q.scales[0]!), scaleAxis: "tensor" };
}

export interface HfPackedLinear {
  /** uint8 [⌈out/4⌉, in] */
  weight: Omit<HfTensor, "file">;
  /** [1] */
  weightScale: Omit<HfTensor, "file">;
}

/** onebitToHfPacked with the packing left for later: the weight's name, dtype, shape and size, its weight_scale, and `pack`. */
export interface HfPackedPlan {
  /** uint8 [⌈out/4⌉, in], without its bytes */
  weight: Omit<HfTensor, "file" | "data"> & { byteLength: number };
  /** [1] */
  weightScale: Omit<HfTensor, "file">;
  /** The packed bytes from the weight's onebit-t2 bytes (`data`, or the same transcoded from its file: export/t2-codes.ts). */
  pack(t2: Uint8Array): Uint8Array;
}

/**
 * Every check of onebitToHfPacked but the bytes', and the weight_scale; the packed weight is made by `pack` (an
 * exporter calls it when the writer reaches the tensor, so one tensor's bytes are held at a time).
 */
export function planHfPacked(w: PackedLinearWeight, name: string, options: { linearClass: HfLinearClass; scaleDtype?: "F32" | "BF16" }): HfPackedPlan {
  checkLinearClass(options.linearClass);
  const scaleDtype = options.scaleDtype ?? "F32";
  if (scaleDtype !== "F32" && scaleDtype !== "BF16") throw new ModelInputError(`scaleDtype: expected "F32" or "BF16", got ${shown(scaleDtype)}`);
  const where = `tensor ${shown(name)}`;
  if (w.kind !== "ternary") throw new ModelInputError(`${where}: HF BitNet stores ternary weights; found kind ${shown(w.kind)}`);
  if (w.scaleAxis !== "tensor" || w.scales.length !== 1)
    throw new ModelInputError(`${where}: HF BitNet stores one weight_scale per linear; found ${w.scales.length} scales along ${shown(w.scaleAxis)}`);
  const { outFeatures: out, inFeatures: inF } = w;
  const m = w.scales[0]!;
  if (!(m > 0) || !Number.isFinite(m)) throw new ModelInputError(`${where}: scale ${m}: expected a positive finite multiplier`);
  const ws = weightScaleFromMultiplier(m, options.linearClass);
  if (!(ws > 0) || !Number.isFinite(ws)) throw new ModelInputError(`${where}: scale ${m} gives no finite ${options.linearClass} weight_scale (found ${ws})`);
  let scaleBytes: Uint8Array;
  if (scaleDtype === "F32") scaleBytes = new Uint8Array(Float32Array.of(ws).buffer);
  else scaleBytes = new Uint8Array(Uint16Array.of(floatToBf16(ws)).buffer);
  return {
    weight: { name, dtype: "U8", shape: [hfPackedRows(out), inF], byteLength: hfPackedRows(out) * inF },
    weightScale: { name: `${name}_scale`, dtype: scaleDtype, shape: [1], data: scaleBytes },
    pack(t2) {
      if (t2.length !== out * t2RowBytes(inF)) throw new ModelInputError(`${where}: onebit-t2 data has ${t2.length} bytes, expected ${out * t2RowBytes(inF)} for [${out}, ${inF}]`);
      return t2ToHf(t2, out, inF);
    },
  };
}

/**
 * PackedLinearWeight → HF packed weight + weight_scale, named `<name>` and `<name>_scale`. F32 scales by default:
 * transformers copies the buffer into the model dtype on load, and F32 keeps onebit's multiplier exact in the
 * file; BF16 rounds to nearest even (exact when the value is a bf16 number).
 */
export function onebitToHfPacked(w: PackedLinearWeight, name: string, options: { linearClass: HfLinearClass; scaleDtype?: "F32" | "BF16" }): HfPackedLinear {
  const plan = planHfPacked(w, name, options);
  const { byteLength: _, ...weight } = plan.weight;
  return { weight: { ...weight, data: plan.pack(w.data) }, weightScale: plan.weightScale };
}

/**
 * The bytes the last deferred weight of a load transcoded, shared by that load's weights: reads of one weight one
 * after another (a backend's checks, then its copy) transcode it once, and the next weight's read lets it go — so
 * at most one projection's onebit-t2 bytes are held beside the backend's copy.
 */
export interface LastTranscoded {
  owner?: object;
  bytes?: Uint8Array;
}

/**
 * An offline (packed) BitLinear whose `<prefix>.weight` stays in its file (`range`, WeightSource.range): its shape,
 * dtype and weight_scale are checked now; `data` reads the packed bytes and transcodes them (hfToT2) when it is
 * read, kept only in `last` until another weight of the load is read. A code 3 fails that read, naming the file and
 * tensor.
 */
export async function deferredHfBitLinear(
  source: WeightSource,
  prefix: string,
  outFeatures: number,
  quant: HfBitnetQuantization,
  range: ByteRange,
  last: LastTranscoded,
): Promise<PackedLinearWeight> {
  checkLinearClass(quant.linearClass);
  if (!Number.isSafeInteger(outFeatures) || outFeatures <= 0) throw new ModelInputError(`outFeatures: expected a positive integer, got ${outFeatures}`);
  const name = `${prefix}.weight`;
  const entry = source.tensors.get(name);
  if (!entry) throw new ModelFileError(source.path, `tensor ${shown(name)}`, "is missing");
  const weight = { file: source.path, name, dtype: entry.dtype, shape: entry.shape };
  if (entry.shape.length !== 2) throw new ModelFileError(source.path, tensorField(weight, "shape"), `expected [⌈out/4⌉, in] (2 dimensions), found ${shown(entry.shape)}`);
  const inFeatures = entry.shape[1]!;
  expectTensor({ ...weight, byteLength: range.length }, ["U8"], [hfPackedRows(outFeatures), inFeatures]);
  const weightScale = await readHfTensor(source, `${prefix}.weight_scale`);
  const multiplier = multiplierOf(weightScale, quant.linearClass);
  const w: PackedLinearWeight = {
    kind: "ternary",
    outFeatures,
    inFeatures,
    scales: Float32Array.of(multiplier),
    scaleAxis: "tensor",
    // the file's packed bytes themselves, for a backend that places them (wasm: ternary-place.wat.ts hf_place, a
    // piece at a time straight into its memory, on its threads) rather than reading the transcoded `data`
    encoded: inFeatures % 64 === 0 ? { format: "HF_PACKED", bytes: range } : undefined,
    get data() {
      if (last.owner !== w || !last.bytes) {
        const packed = new Uint8Array(range.length);
        range.copyTo(0, packed);
        last.bytes = undefined; // the previous weight's bytes go before this one's are made
        last.bytes = packedToT2(weight.file, { ...weight, data: packed }, outFeatures, inFeatures);
        last.owner = w;
      }
      return last.bytes;
    },
  };
  return w;
}

/**
 * One BitLinear of a checkpoint: `<prefix>.weight` (and `<prefix>.weight_scale` when offline), e.g.
 * prefix "model.layers.0.mlp.down_proj".
 */
export async function readHfBitLinear(source: WeightSource, prefix: string, outFeatures: number, quant: HfBitnetQuantization): Promise<PackedLinearWeight> {
  const weight = await readHfTensor(source, `${prefix}.weight`);
  if (quant.mode === "online") {
    const w = hfLatentToOnebit(weight);
    if (w.outFeatures !== outFeatures) throw new ModelFileError(weight.file, tensorField(weight, "shape"), `expected ${outFeatures} rows (out_features), found ${w.outFeatures}`);
    return w;
  }
  return hfPackedToOnebit(weight, await readHfTensor(source, `${prefix}.weight_scale`), outFeatures, quant.linearClass);
}
