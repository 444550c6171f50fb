/**
 * Projections from foreign layouts to onebit's packed BitLinear weight (onebit-t2 / onebit-b1, one f32 scale per
 * tensor or per group), exactly: codes are copied, never re-derived from rounded floats.
 *
 * - GGUF TQ2_0 / TQ1_0 (llama.cpp) carry an fp16 scale per 256-weight block. BitNet files (convert_hf_to_gguf.py
 *   BitnetModel: one absmean scale per tensor) give every block that holds a non-zero code the same scale; an
 *   all-zero block's scale is meaningless (quantize_row_tq2_0_ref writes its absmax, 0). A tensor whose non-zero
 *   blocks disagree is refused, naming it: onebit's BitLinear has one scale per tensor or per group.
 * - GGUF I2_S (bitnet.cpp): one f32 scale per tensor in the 32-byte tail.
 * - Float tensors holding already-ternarised weights (values 0 and ±s, as BitNet converters write F16/F32) give
 *   exact codes and s; other float tensors are latent weights and are quantized with absmean (b1.58 §2, eq. 1–3),
 *   as transformers' online BitLinear does at load.
 * An optional llama.cpp `*.scale` multiplier [1] multiplies the scale.
 */
import type { PackedLinearWeight } from "@onebit/kernels";
import { type BitLinearSpec, quantizeBitLinearWeight } from "@onebit/layers";
import { getFormat, packBinaryB1, packTernaryT2 } from "@onebit/quant";
import { ModelFileError } from "../weights/weight-source";

export interface RepackResult {
  weight: PackedLinearWeight | Float32Array;
  /** How the codes were obtained, for `inspect` and `convert` notes. */
  how: "exact" | "absmean";
}

function packCodes(kind: "ternary" | "binary", codes: Int8Array, out: number, inF: number, scales: Float32Array, axis: PackedLinearWeight["scaleAxis"], file: string, name: string): PackedLinearWeight {
  if (kind === "binary") {
    for (let i = 0; i < codes.length; i++)
      if (codes[i] === 0) throw new ModelFileError(file, name, `a binary (BitNet) projection holds a 0 code at element ${i}; binary weights are ±1`);
    return { kind, outFeatures: out, inFeatures: inF, data: packBinaryB1(codes, out, inF), scales, scaleAxis: axis };
  }
  return { kind, outFeatures: out, inFeatures: inF, data: packTernaryT2(codes, out, inF), scales, scaleAxis: axis };
}

/** The one scale of a TQ tensor's blocks (those with a non-zero code), or a ModelFileError naming the blocks that differ. */
function uniformBlockScale(codes: Int8Array, blockScales: Float32Array, blockSize: number, file: string, name: string): number {
  let scale: number | undefined;
  let scaleBlock = -1;
  for (let b = 0; b < blockScales.length; b++) {
    let nonZero = false;
    for (let i = b * blockSize; i < (b + 1) * blockSize; i++)
      if (codes[i] !== 0) {
        nonZero = true;
        break;
      }
    if (!nonZero) continue;
    const d = blockScales[b]!;
    if (scale === undefined) {
      scale = d;
      scaleBlock = b;
    } else if (d !== scale)
      throw new ModelFileError(file, name, `block ${b} has scale ${d} but block ${scaleBlock} has ${scale}; onebit needs one scale per tensor (per-block scales are not supported)`);
  }
  return scale ?? 0;
}

/**
 * A GGUF projection tensor's bytes → packed weight. `linear` is the spec's BitLinear (its kind and groups);
 * `multiplier` is the `*.scale` tensor's values (length 1, or G for onebit's own grouped files) or undefined.
 */
export function repackGgufProjection(
  dtype: string,
  bytes: Uint8Array,
  linear: BitLinearSpec,
  multiplier: { name: string; values: Float32Array } | undefined,
  file: string,
  name: string,
  toFloat: (dtype: string, bytes: Uint8Array, count: number) => Float32Array,
): RepackResult {
  const out = linear.outFeatures;
  const inF = linear.inFeatures;
  const n = out * inF;
  const kind = linear.quant.weight;
  const groups = linear.groups;
  const axis: PackedLinearWeight["scaleAxis"] = groups === 1 ? "tensor" : linear.groupAxis;
  const m = multiplier?.values;
  if (multiplier && m!.length !== 1 && m!.length !== groups) throw new ModelFileError(file, multiplier.name, `has ${m!.length} values, expected 1 or ${groups}`);
  const scalesWith = (base: number): Float32Array => {
    const s = new Float32Array(groups);
    for (let g = 0; g < groups; g++) s[g] = Math.fround(base * (m ? m[m.length === 1 ? 0 : g]! : 1));
    return s;
  };
  if (kind === "none") {
    if (dtype === "TQ1_0" || dtype === "TQ2_0" || dtype === "I2_S") throw new ModelFileError(file, name, `a full-precision model's projection is stored as ${dtype}`);
    const w = toFloat(dtype, bytes, n);
    if (m) for (let i = 0; i < n; i++) w[i] = Math.fround(w[i]! * m[0]!);
    return { weight: w, how: "exact" };
  }
  if (dtype === "TQ2_0" || dtype === "TQ1_0") {
    const { codes, scales } = getFormat(dtype.toLowerCase()).unpack(bytes, out, inF);
    const d = uniformBlockScale(codes, scales, 256, file, name);
    return { weight: packCodes(kind, codes, out, inF, scalesWith(d), axis, file, name), how: "exact" };
  }
  if (dtype === "I2_S") {
    const { codes, scales } = getFormat("i2_s").unpack(bytes, out, inF);
    return { weight: packCodes(kind, codes, out, inF, scalesWith(scales[0]!), axis, file, name), how: "exact" };
  }
  const w = toFloat(dtype, bytes, n);
  // already ternarised (every value 0 or ±s, s the largest magnitude)? then the codes are exact
  let s = 0;
  for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(w[i]!));
  if (!Number.isFinite(s)) throw new ModelFileError(file, name, "holds a non-finite value");
  const codes = new Int8Array(n);
  let exact = groups === 1;
  for (let i = 0; i < n && exact; i++) {
    const v = w[i]!;
    if (v === 0) codes[i] = 0;
    else if (v === s) codes[i] = 1;
    else if (v === -s) codes[i] = -1;
    else exact = false;
  }
  if (exact) return { weight: packCodes(kind, codes, out, inF, scalesWith(s), axis, file, name), how: "exact" };
  const q = quantizeBitLinearWeight(linear, w) as PackedLinearWeight;
  if (m) q.scales.set(scalesWith(1).map((f, g) => Math.fround(f * q.scales[g]!)));
  return { weight: q, how: "absmean" };
}
