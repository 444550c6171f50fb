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
import type { ByteRange, PackedLinearWeight, TernaryEncoding } from "@onebit/kernels";
import { type BitLinearSpec, quantizeBitLinearWeight } from "@onebit/layers";
import { getFormat, halfToFloatTable, hfToT2, i2sToT2, packBinaryB1, packTernaryT2, t2RowBytes, tq2ToT2 } from "@onebit/quant";
import { ModelInputError } from "../model-input-error";
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

/** The one scale of a TQ tensor's blocks (those with a non-zero code), or a ModelFileError naming blocks that differ. */
function uniformScale(blockScales: Float32Array, blockNonZero: Uint8Array, file: string, name: string): number {
  let scale: number | undefined;
  let scaleBlock = -1;
  for (let b = 0; b < blockScales.length; b++) {
    if (!blockNonZero[b]) continue;
    const d = blockScales[b]!;
    if (scale === undefined) {
      scale = d;
      scaleBlock = b;
    } else if (d !== scale)
      throw new ModelFileError(file, name, `block ${b} has scale ${d} but block ${scaleBlock} has ${scale}; onebit needs one scale per tensor (per-block scales are not supported)`);
  }
  if (scale !== undefined && !Number.isFinite(scale)) throw new ModelFileError(file, name, `block ${scaleBlock} has scale ${scale}`);
  return scale ?? 0;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The TQ2_0 scale rule, uniformScale's, checked without transcoding a run of whole blocks at a time, in order (all
 * at once at load, or piece by piece as a backend copies a tensor left in its file): the scale is the d of the first
 * block holding a non-zero weight, and every other block with a non-zero weight must have the same d. Only the codes
 * of that first block and of blocks whose d differs are read — a weight is zero when its code is 1, so an all-zero
 * block is 64 bytes of 0x55. (Code 3 is found where the codes are read: ternary-place.wat.ts or tq2ToT2.)
 */
class Tq2ScaleCheck {
  /** The scale once a block with a non-zero weight has been seen. */
  scale: number | undefined;
  /** The first such block, and its d's bits. */
  private first = -1;
  private bits = -1;
  constructor(
    private readonly file: string,
    private readonly name: string,
  ) {}

  /** Blocks k0 .. k0 + bytes.length / 66 − 1 of the tensor. */
  check(bytes: Uint8Array, k0: number): void {
    const blocks = bytes.length / 66;
    const half = halfToFloatTable();
    const d = (k: number) => half[bytes[66 * k + 64]! | (bytes[66 * k + 65]! << 8)]!;
    const zero = (k: number) => {
      for (let i = 66 * k; i < 66 * k + 64; i++) if (bytes[i] !== 0x55) return false;
      return true;
    };
    let k = 0;
    if (this.scale === undefined) {
      while (k < blocks && zero(k)) k++;
      if (k === blocks) return;
      this.scale = d(k);
      this.bits = bytes[66 * k + 64]! | (bytes[66 * k + 65]! << 8);
      this.first = k0 + k++;
    }
    const scale = this.scale;
    const differs = (k: number) => {
      const dk = d(k);
      if (dk !== scale && !zero(k))
        throw new ModelFileError(this.file, this.name, `block ${k0 + k} has scale ${dk} but block ${this.first} has ${scale}; onebit needs one scale per tensor (per-block scales are not supported)`);
    };
    if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0 && !Number.isNaN(scale)) {
      // the same d bits mean the same scale (NaN aside): one 16-bit read per block, and only blocks with other bits
      // (another scale, or −0 for +0) take the float comparison
      const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
      const bits = this.bits;
      for (; k < blocks; k++) if (u16[33 * k + 32] !== bits) differs(k);
    } else for (; k < blocks; k++) differs(k);
  }

  /** The scale after every block was checked (0 for a tensor of zeros); a ModelFileError if it is not finite. */
  result(): number {
    if (this.scale !== undefined && !Number.isFinite(this.scale)) throw new ModelFileError(this.file, this.name, `block ${this.first} has scale ${this.scale}`);
    return this.scale ?? 0;
  }
}

/** The one scale of a TQ2_0 tensor in memory (Tq2ScaleCheck over all its blocks), or a ModelFileError. */
function tq2UniformScale(bytes: Uint8Array, rows: number, cols: number, file: string, name: string): number {
  const blocks = (rows * cols) / 256;
  if (bytes.length !== blocks * 66) throw new ModelFileError(file, name, `TQ2_0: has ${bytes.length} bytes, expected ${blocks * 66} for [${rows}, ${cols}]`);
  const check = new Tq2ScaleCheck(file, name);
  check.check(bytes, 0);
  return check.result();
}

/**
 * A ternary weight with one tensor scale that keeps its file bytes as `encoded` and makes onebit-t2 `data` from
 * them on first read (once; an error names the file and tensor). A backend that places `encoded` itself never reads `data`.
 */
function lazyT2(
  out: number,
  inF: number,
  scales: Float32Array,
  encoded: TernaryEncoding,
  transcode: () => Uint8Array,
  file: string,
  name: string,
): PackedLinearWeight {
  let data: Uint8Array | undefined;
  return {
    kind: "ternary",
    outFeatures: out,
    inFeatures: inF,
    scales,
    scaleAxis: "tensor",
    encoded,
    get data() {
      if (!data)
        try {
          data = transcode();
        } catch (e) {
          throw new ModelFileError(file, name, (e as Error).message);
        }
      return data;
    },
  };
}

/** Each file layout a weight may keep as `encoded` → its onebit-t2 rows (into `into` where the transcoder takes one). */
const TO_T2: Record<TernaryEncoding["format"], (bytes: Uint8Array, out: number, inF: number, into: Uint8Array) => Uint8Array> = {
  TQ2_0: (bytes, out, inF, into) => tq2ToT2(bytes, out, inF, into).data,
  I2_S: (bytes, out, inF, into) => i2sToT2(bytes, out, inF, into).data,
  HF_PACKED: (bytes, out, inF) => hfToT2(bytes, out, inF),
};

/**
 * A ternary weight's TQ2_0, I2_S or Hugging Face packed bytes (in memory, or a range of its file read whole) →
 * onebit-t2 rows (in `into` for the GGUF layouts): what a deferred weight's `data` is made by, and what an exporter
 * transcodes without keeping (export/t2-codes.ts).
 */
export function encodedToT2(encoded: TernaryEncoding, out: number, inF: number, into: Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (encoded.bytes instanceof Uint8Array) bytes = encoded.bytes;
  else {
    bytes = new Uint8Array(encoded.bytes.length);
    encoded.bytes.copyTo(0, bytes);
  }
  const toT2 = TO_T2[encoded.format];
  if (!toT2) throw new ModelInputError(`encoded ternary weight: format ${JSON.stringify(encoded.format)} is not one of ${Object.keys(TO_T2).join(", ")}`);
  return toT2(bytes, out, inF, into);
}

/** The weight's scales for a base scale: × the `*.scale` multiplier (1 or G values) where the file has one. */
function scalesFor(linear: BitLinearSpec, multiplier: { name: string; values: Float32Array } | undefined, file: string): (base: number) => Float32Array {
  const groups = linear.groups;
  const m = multiplier?.values;
  if (multiplier && m!.length !== 1 && m!.length !== groups) throw new ModelFileError(file, multiplier.name, `has ${m!.length} values, expected 1 or ${groups}`);
  return (base) => {
    const s = new Float32Array(groups);
    for (let g = 0; g < groups; g++) s[g] = Math.fround(base * (m ? m[m.length === 1 ? 0 : g]! : 1));
    return s;
  };
}

/**
 * Whether a projection of this type keeps its file bytes (`encoded`) rather than being transcoded at load: a ternary
 * weight with one tensor scale in TQ2_0 or I2_S, columns whole blocks of the format.
 */
export function deferrable(dtype: string, linear: BitLinearSpec): boolean {
  if (linear.quant.weight !== "ternary" || linear.groups !== 1) return false;
  return (dtype === "TQ2_0" && linear.inFeatures % 256 === 0) || (dtype === "I2_S" && linear.inFeatures % 128 === 0);
}

/**
 * Blocks a deferred TQ2_0 tensor is scanned in at load for its scale (the first block holding a non-zero weight): 66
 * KiB, one read for any trained tensor, and below a Blob source's read-ahead window (byte-source.ts).
 */
const SCALE_SCAN_BLOCKS = 1024;

/**
 * A projection `deferrable` says keeps its bytes, left in its file (`range`, read on demand): only its scale is read
 * now (I2_S's tail; TQ2_0's first blocks, up to the first holding a non-zero weight), and `encoded` is the range
 * itself, TQ2_0's blocks checked against that scale as they are read (Tq2ScaleCheck). A backend that places
 * `encoded` (wasm) then copies each piece of the file once, straight into its own memory — not into a buffer first
 * and from there again — and a file whose blocks disagree fails there, naming the tensor; `data` (other backends)
 * reads the whole range when first asked. Undefined where the projection is not deferrable: read it whole.
 */
export function deferredGgufProjection(
  dtype: string,
  range: ByteRange,
  linear: BitLinearSpec,
  multiplier: { name: string; values: Float32Array } | undefined,
  file: string,
  name: string,
  /** Where transcoded bytes go (a loader's slabs); a new buffer per tensor by default. */
  alloc: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): RepackResult | undefined {
  if (!deferrable(dtype, linear)) return undefined;
  const out = linear.outFeatures;
  const inF = linear.inFeatures;
  const scalesWith = scalesFor(linear, multiplier, file);
  if (dtype === "TQ2_0") {
    const blocks = (out * inF) / 256;
    if (range.length !== blocks * 66) throw new ModelFileError(file, name, `TQ2_0: has ${range.length} bytes, expected ${blocks * 66} for [${out}, ${inF}]`);
    const check = new Tq2ScaleCheck(file, name);
    for (let k = 0; k < blocks && check.scale === undefined; k += SCALE_SCAN_BLOCKS) {
      const piece = new Uint8Array(66 * Math.min(SCALE_SCAN_BLOCKS, blocks - k));
      range.copyTo(66 * k, piece);
      check.check(piece, k);
    }
    const scale = check.result();
    const checked: ByteRange = {
      length: range.length,
      copyTo(offset, into) {
        if (offset % 66 !== 0 || into.length % 66 !== 0)
          throw new ModelFileError(file, name, `TQ2_0 bytes are read whole 66-byte blocks at a time; asked for ${into.length} bytes at ${offset}`);
        range.copyTo(offset, into);
        check.check(into, offset / 66);
      },
    };
    const encoded: TernaryEncoding = { format: "TQ2_0", bytes: checked };
    return { weight: lazyT2(out, inF, scalesWith(scale), encoded, () => encodedToT2(encoded, out, inF, alloc(out * t2RowBytes(inF))), file, name), how: "exact" };
  }
  const codeBytes = (out * inF) / 4;
  if (range.length !== codeBytes + 32) throw new ModelFileError(file, name, `I2_S: has ${range.length} bytes, expected ${codeBytes + 32} for [${out}, ${inF}]`);
  const tail = new Uint8Array(4);
  range.copyTo(codeBytes, tail);
  const scale = new DataView(tail.buffer).getFloat32(0, true);
  if (!Number.isFinite(scale)) throw new ModelFileError(file, name, `the I2_S scale is ${scale}`);
  const encoded: TernaryEncoding = { format: "I2_S", bytes: range };
  return { weight: lazyT2(out, inF, scalesWith(scale), encoded, () => encodedToT2(encoded, out, inF, alloc(out * t2RowBytes(inF))), file, name), how: "exact" };
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
  /** Where transcoded bytes go (a loader's slabs); a new buffer per tensor by default. */
  alloc: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): RepackResult {
  const out = linear.outFeatures;
  const inF = linear.inFeatures;
  const n = out * inF;
  const kind = linear.quant.weight;
  const groups = linear.groups;
  const axis: PackedLinearWeight["scaleAxis"] = groups === 1 ? "tensor" : linear.groupAxis;
  const m = multiplier?.values;
  const scalesWith = scalesFor(linear, multiplier, file);
  if (kind === "none") {
    if (dtype === "TQ1_0" || dtype === "TQ2_0" || dtype === "I2_S") throw new ModelFileError(file, name, `a full-precision model's projection is stored as ${dtype}`);
    const w = toFloat(dtype, bytes, n);
    if (m) for (let i = 0; i < n; i++) w[i] = Math.fround(w[i]! * m[0]!);
    return { weight: w, how: "exact" };
  }
  // the common layouts of ternary files keep their bytes (`encoded`: the wasm backend places them itself,
  // ternary-place.wat.ts); `data`, onebit-t2, is transcoded byte for byte on first read (no per-weight arrays: a
  // 2B4T file moves 2.1 B weights). Only the scale is checked here, from the blocks' d (tq2UniformScale).
  if (deferrable(dtype, linear) && dtype === "TQ2_0") {
    const scale = tq2UniformScale(bytes, out, inF, file, name);
    return { weight: lazyT2(out, inF, scalesWith(scale), { format: "TQ2_0", bytes }, () => tq2ToT2(bytes, out, inF, alloc(out * t2RowBytes(inF))).data, file, name), how: "exact" };
  }
  if (deferrable(dtype, linear) && dtype === "I2_S") {
    if (bytes.length !== (out * inF) / 4 + 32) throw new ModelFileError(file, name, `I2_S: has ${bytes.length} bytes, expected ${(out * inF) / 4 + 32} for [${out}, ${inF}]`);
    const scale = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32((out * inF) / 4, true);
    if (!Number.isFinite(scale)) throw new ModelFileError(file, name, `the I2_S scale is ${scale}`);
    return { weight: lazyT2(out, inF, scalesWith(scale), { format: "I2_S", bytes }, () => i2sToT2(bytes, out, inF, alloc(out * t2RowBytes(inF))).data, file, name), how: "exact" };
  }
  if (kind === "ternary" && dtype === "TQ2_0" && inF % 256 === 0) {
    // column or row groups (onebit's own grouped files): the same one scale, transcoded now
    const scale = tq2UniformScale(bytes, out, inF, file, name);
    const { data } = tq2ToT2(bytes, out, inF, alloc(out * t2RowBytes(inF)));
    return { weight: { kind, outFeatures: out, inFeatures: inF, data, scales: scalesWith(scale), scaleAxis: axis }, how: "exact" };
  }
  if (kind === "ternary" && dtype === "I2_S" && inF % 128 === 0) {
    const { data, scale } = i2sToT2(bytes, out, inF, alloc(out * t2RowBytes(inF)));
    return { weight: { kind, outFeatures: out, inFeatures: inF, data, scales: scalesWith(scale), scaleAxis: axis }, how: "exact" };
  }
  if (dtype === "TQ2_0" || dtype === "TQ1_0") {
    const { codes, scales } = getFormat(dtype.toLowerCase()).unpack(bytes, out, inF);
    const nonZero = new Uint8Array(scales.length);
    for (let b = 0; b < scales.length; b++)
      for (let i = b * 256; i < (b + 1) * 256; i++)
        if (codes[i] !== 0) {
          nonZero[b] = 1;
          break;
        }
    const d = uniformScale(scales, nonZero, file, name);
    return { weight: packCodes(kind, codes, out, inF, scalesWith(d), axis, file, name), how: "exact" };
  }
  if (dtype === "I2_S") {
    const { codes, scales } = getFormat("i2_s").unpack(bytes, out, inF);
    if (!Number.isFinite(scales[0]!)) throw new ModelFileError(file, name, `the I2_S scale is ${scales[0]}`);
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
