/**
 * BitLinear: y = W̃ · Quant(x) · (β·γ/Q) — weights quantized and packed ONCE at construction (they stay packed:
 * docs/design.md invariant 2), activations quantized per token on every call, integer matmul on the backend, float epilogue.
 * The input is expected already normalised (the block's SubLN / attn_norm / ffn_norm sits right before).
 * The FP variant (weight "none") keeps float weights and runs an f32 matmul.
 *
 * Group quantization (BitNet, model parallelism): `groups` G splits the weight along the axis a tensor-parallel
 * shard would own — "out" for column-parallel projections (q, k, v, gate, up), "in" for row-parallel ones
 * (o, down, whose activations are then quantized per token AND per group).
 */
import { type Activations, type Backend, hostArray, type PackedLinearWeight, type PreparedWeight, type Quantized, ResidencyError } from "@onebit/kernels";
import { type EpsMode, type Granularity, packBinaryB1, packTernaryT2, quantizeBinary, quantizeTernary } from "@onebit/quant";
import type { LinearQuant } from "./bitlinear-variant";
import { LayerSpecError } from "./layer-spec-error";

export interface BitLinearSpec {
  inFeatures: number;
  outFeatures: number;
  quant: LinearQuant;
  /** G for group quantization; 1 = per tensor. */
  groups: number;
  /** Which axis the groups split: "out" (column-parallel) or "in" (row-parallel). */
  groupAxis: "out" | "in";
  epsMode: EpsMode;
}

export function validateBitLinearSpec(s: BitLinearSpec, name = "bitLinear"): void {
  for (const f of ["inFeatures", "outFeatures", "groups"] as const)
    if (!Number.isInteger(s[f]) || s[f] <= 0) throw new LayerSpecError(`${name}.${f}: expected a positive integer, got ${s[f]}`);
  const split = s.groupAxis === "out" ? s.outFeatures : s.inFeatures;
  if (s.groupAxis !== "out" && s.groupAxis !== "in") throw new LayerSpecError(`${name}.groupAxis: expected "out" or "in", got ${JSON.stringify(s.groupAxis)}`);
  if (split % s.groups !== 0) throw new LayerSpecError(`${name}.groups: ${s.groups} does not divide ${s.groupAxis}Features ${split}`);
  const weightKinds = ["none", "binary", "ternary"];
  if (!weightKinds.includes(s.quant.weight)) throw new LayerSpecError(`${name}.quant.weight: expected one of ${weightKinds.join(", ")}, got ${JSON.stringify(s.quant.weight)}`);
  const actKinds = ["none", "absmax8", "int8", "int4", "fp4", "int8-topk"];
  if (!actKinds.includes(s.quant.activation)) throw new LayerSpecError(`${name}.quant.activation: expected one of ${actKinds.join(", ")}, got ${JSON.stringify(s.quant.activation)}`);
  if ((s.quant.weight === "none") !== (s.quant.activation === "none"))
    throw new LayerSpecError(`${name}.quant: weight "${s.quant.weight}" with activation "${s.quant.activation}" — both or neither must be quantized`);
}

/** Fraction of zero activation codes seen (a4.8 Table 2's sparsity measure), accumulated over calls. */
export interface SparsityCounter {
  inputs: number;
  zeros: number;
  /** Inputs whose zeros a device backend did not report (they stay on the device). */
  unmeasured: number;
}

/**
 * Quantize and pack a latent weight as the spec prescribes: ternary → onebit-t2, binary → onebit-b1 (scales per
 * tensor or per group); an FP spec returns the float weight itself.
 */
export function quantizeBitLinearWeight(spec: BitLinearSpec, latent: Float32Array): PackedLinearWeight | Float32Array {
  validateBitLinearSpec(spec);
  const { inFeatures: inF, outFeatures: out } = spec;
  if (latent.length !== out * inF) throw new LayerSpecError(`bitLinear weight: has ${latent.length} values, expected out·in = ${out}·${inF}`);
  if (spec.quant.weight === "none") return latent;
  const granularity: Granularity = spec.groups === 1 ? "tensor" : { groups: spec.groups, axis: spec.groupAxis === "out" ? "rows" : "cols" };
  const scaleAxis = spec.groups === 1 ? "tensor" : spec.groupAxis;
  if (spec.quant.weight === "ternary") {
    const q = quantizeTernary(latent, [out, inF], { granularity, epsMode: spec.epsMode });
    return { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(q.codes, out, inF), scales: q.scales, scaleAxis };
  }
  const q = quantizeBinary(latent, [out, inF], { granularity });
  return { kind: "binary", outFeatures: out, inFeatures: inF, data: packBinaryB1(q.codes, out, inF), scales: q.scales, scaleAxis };
}

export class BitLinear {
  readonly weightBytes: number;
  /** Zero codes seen in the quantized inputs; inputs a device backend kept to itself are counted in `unmeasured`. */
  readonly sparsity: SparsityCounter = { inputs: 0, zeros: 0, unmeasured: 0 };
  /**
   * Called with every float input [tokens, in] before quantization (for activation histograms); unset by default.
   * It reads host memory: a device backend refuses it rather than skip it. x may be a buffer the model reuses for
   * the next layer's input (a workspace slot): copy what you keep.
   */
  inputTap?: (x: Float32Array, tokens: number) => void;
  private readonly prepared?: PreparedWeight;
  /** Set by `projectionsOfOneInput` when the backend placed this projection with others as one weight. */
  joined?: JoinedProjections;
  private readonly floatWeight?: Float32Array;

  /**
   * `weight` is either the latent float weight [out, in] (quantized and packed here) or an already packed
   * weight (a loaded checkpoint) — see `quantizeBitLinearWeight`. `prepared`: that packed weight as the backend
   * already placed it (`projectionsOfOneInput`), instead of placing it here. `placement.sparseInputs`: most inputs
   * will be zero (ReLU²GLU's down projection), which the backend may place the weight to skip (prepareWeight); a
   * Top-K input quantizer keeping at most 60 % says so by itself.
   */
  constructor(
    readonly spec: BitLinearSpec,
    weight: Float32Array | PackedLinearWeight,
    private readonly backend: Backend,
    prepared?: PreparedWeight,
    placement: { sparseInputs?: boolean } = {},
  ) {
    validateBitLinearSpec(spec);
    const packed = weight instanceof Float32Array ? quantizeBitLinearWeight(spec, weight) : weight;
    if (packed instanceof Float32Array) {
      this.floatWeight = packed;
      this.weightBytes = packed.byteLength;
    } else {
      checkPackedWeight(spec, packed);
      // a4.8's Top-K keeps a fraction of each token's inputs and zeroes the rest: placed to skip them too where at most
      // 60 % remain (the wasm column panels pay off below ≈ 70 % non-zero inputs: `bench:panels`)
      const topK = spec.quant.activation === "int8-topk" && (spec.quant.topKFraction ?? 0.5) <= 0.6;
      this.prepared = prepared ?? this.backend.prepareWeight({ weight: packed, sparseInputs: placement.sparseInputs === true || topK });
      this.weightBytes = this.prepared.bytes;
    }
  }

  /**
   * Quantize x [tokens, in] as this projection's variant prescribes (the backend's quantize kernel, zeros counted).
   * `codesOut` [tokens, in] (host backends) receives the codes: a buffer in the backend's memory (a workspace slot)
   * lets its bitLinear read them in place.
   */
  quantizeInput(x: Activations, tokens: number, codesOut?: Int8Array): Quantized {
    const { inFeatures, groups, groupAxis, epsMode, quant } = this.spec;
    if (quant.activation === "none") throw new LayerSpecError("bitLinear.quantizeInput: this projection is full precision");
    const out = this.backend.residency === "host" ? codesOut : undefined;
    return this.backend.quantize({ x, tokens, features: inFeatures, kind: quant.activation, groups: groupAxis === "in" ? groups : 1, epsMode, topKFraction: quant.topKFraction ?? 0.5, out });
  }

  /** x [tokens, in] → [tokens, out]; rows with rowMask 0 are not computed and are 0. */
  forward(x: Activations, tokens: number, rowMask?: Uint8Array): Activations {
    const { inFeatures: inF, outFeatures: out } = this.spec;
    if (x.length !== tokens * inF) throw new LayerSpecError(`bitLinear input: has ${x.length} values, expected tokens·in = ${tokens}·${inF}`);
    this.tap(x, tokens);
    if (this.floatWeight) {
      if (x instanceof Float32Array) {
        let zeros = 0;
        for (let i = 0; i < x.length; i++) if (x[i] === 0) zeros++;
        this.sparsity.inputs += x.length;
        this.sparsity.zeros += zeros;
      } else this.sparsity.unmeasured += x.length;
      const y = this.backend.matmulF32({ x, tokens, weight: this.floatWeight, outFeatures: out, inFeatures: inF });
      if (rowMask) {
        if (!(y instanceof Float32Array)) throw new ResidencyError("bitLinear: a row mask is computed on the host; a device backend runs without one");
        for (let t = 0; t < tokens; t++) for (let o = 0; o < out; o++) if (!rowMask[o]) y[t * out + o] = 0;
      }
      return y;
    }
    return this.forwardQuantized(this.quantizeInput(x, tokens), rowMask);
  }

  /**
   * The integer matmul on activations already quantized as this projection prescribes — projections that read the
   * same input with the same quantizer (q/k/v, gate/up) quantize it once (see `sharesInputQuant`). `out` [tokens, out]
   * (host backends) receives the result instead of a new array.
   */
  forwardQuantized(q: Quantized, rowMask?: Uint8Array, out?: Float32Array): Activations {
    if (!this.prepared) throw new LayerSpecError("bitLinear.forwardQuantized: this projection is full precision; call forward()");
    this.countInput(q);
    return this.backend.bitLinear({ weight: this.prepared, input: q, rowMask, out: this.backend.residency === "host" ? out : undefined });
  }

  /** Count q's zero codes into `sparsity` (and mark a mostly-zero input sparse for the kernel). */
  countInput(q: Quantized): void {
    if (q.features !== this.spec.inFeatures) throw new LayerSpecError(`bitLinear input: has ${q.features} features, expected ${this.spec.inFeatures}`);
    const n = q.tokens * q.features;
    if (q.zeros === undefined && "codes" in q) {
      let zeros = 0;
      for (let i = 0; i < q.codes.length; i++) if (q.codes[i] === 0) zeros++;
      q.zeros = zeros;
    }
    if (q.zeros === undefined) this.sparsity.unmeasured += n;
    else {
      this.sparsity.inputs += n;
      this.sparsity.zeros += q.zeros;
      if (!q.sparse && q.zeros * 2 > n) q.sparse = true; // ReLU² outputs: let the kernel skip zeros
    }
  }

  /** Whether `other` quantizes its input exactly as this projection does (then one quantized input serves both). */
  sharesInputQuant(other: BitLinear): boolean {
    return !!this.prepared && !!other.prepared && specsShareInputQuant(this.spec, other.spec);
  }

  /** Hand x to inputTap (host memory only: a device backend refuses rather than skip the tap). */
  tap(x: Activations, tokens: number): void {
    if (!this.inputTap) return;
    if (!(x instanceof Float32Array)) throw new ResidencyError("bitLinear.inputTap reads activations on the host; run the model on a host backend (js, wasm, webgl) to tap them");
    this.inputTap(x, tokens);
  }
}

/** A packed weight that fits the spec: its kind and shape. */
function checkPackedWeight(spec: BitLinearSpec, packed: PackedLinearWeight): void {
  const wantKind = spec.quant.weight;
  if (packed.kind !== wantKind || packed.outFeatures !== spec.outFeatures || packed.inFeatures !== spec.inFeatures)
    throw new LayerSpecError(`bitLinear weight: got a packed ${packed.kind} ${packed.outFeatures}×${packed.inFeatures} weight, expected ${wantKind} ${spec.outFeatures}×${spec.inFeatures}`);
}

/** Whether two quantized projections quantize their input alike (the same codes serve both). */
function specsShareInputQuant(a: BitLinearSpec, b: BitLinearSpec): boolean {
  if (a.quant.weight === "none" || b.quant.weight === "none" || a.inFeatures !== b.inFeatures || a.epsMode !== b.epsMode) return false;
  if (a.quant.activation !== b.quant.activation || (a.quant.topKFraction ?? 0.5) !== (b.quant.topKFraction ?? 0.5)) return false;
  const groups = (s: BitLinearSpec) => (s.groupAxis === "in" ? s.groups : 1);
  return groups(a) === groups(b);
}

/**
 * Projections that the backend placed as one weight over all their rows (prepareWeights): one bitLinear gives
 * their outputs side by side, [tokens, Σ out], which `forward` splits into each one's [tokens, out].
 */
export class JoinedProjections {
  constructor(
    readonly linears: readonly BitLinear[],
    readonly weight: PreparedWeight,
    private readonly backend: Backend,
  ) {}

  /**
   * q (quantized as every projection here prescribes) through all of them at once; `outs[i]` (host backends)
   * receives projection i's [tokens, out], `joinedOut(length)` the joined output (a workspace slot) — one token's
   * outputs are views of it, a prompt's are copied out row by row.
   */
  forward(q: Quantized, outs?: readonly (Float32Array | undefined)[], joinedOut?: (length: number) => Float32Array): Activations[] {
    for (const l of this.linears) l.countInput(q);
    const rows = this.weight.outFeatures;
    const host = this.backend.residency === "host";
    const y = hostArray(this.backend.bitLinear({ weight: this.weight, input: q, out: host ? joinedOut?.(q.tokens * rows) : undefined }), "joined projections");
    const tokens = q.tokens;
    // one token: views of y, the same ones each step while y is the same workspace slot
    if (tokens === 1 && this.lastJoined?.y === y) return this.lastJoined.parts.slice();
    let col = 0;
    const parts = this.linears.map((l, i) => {
      const width = l.spec.outFeatures;
      const from = col;
      col += width;
      if (tokens === 1) return y.subarray(from, from + width);
      const out = outs?.[i] ?? new Float32Array(tokens * width);
      for (let t = 0; t < tokens; t++) out.set(y.subarray(t * rows + from, t * rows + from + width), t * width);
      return out;
    });
    if (tokens === 1) this.lastJoined = { y, parts };
    return parts.slice();
  }

  /** A token's joined output and the views of it handed out last. */
  private lastJoined: { y: Float32Array; parts: Activations[] } | undefined;
}

/**
 * Projections of one input (an attention block's q, k and v) built together: where they quantize the input alike,
 * the backend places their weights at once (prepareWeights), and where it gives one weight over all their rows
 * (wasm), `forwardShared` runs them as one bitLinear — for a prompt, one set of the table-lookup GEMM's tables
 * instead of three; for a token, one job.
 */
export function projectionsOfOneInput(specs: readonly BitLinearSpec[], weights: readonly (Float32Array | PackedLinearWeight)[], backend: Backend): BitLinear[] {
  for (const [i, s] of specs.entries()) validateBitLinearSpec(s, `projection ${i}`);
  const packed = specs.map((s, i) => {
    const w = weights[i]!;
    return w instanceof Float32Array ? quantizeBitLinearWeight(s, w) : w;
  });
  const together = specs.length > 1 && packed.every((p) => !(p instanceof Float32Array)) && specs.every((s) => specsShareInputQuant(specs[0]!, s));
  if (!together) return specs.map((s, i) => new BitLinear(s, packed[i]!, backend));
  const ws = packed as PackedLinearWeight[];
  for (const [i, s] of specs.entries()) checkPackedWeight(s, ws[i]!);
  const { parts, joined } = backend.prepareWeights({ weights: ws });
  const linears = specs.map((s, i) => new BitLinear(s, ws[i]!, backend, parts[i]));
  if (joined) {
    const group = new JoinedProjections(linears, joined, backend);
    for (const l of linears) l.joined = group;
  }
  return linears;
}

/**
 * The input [tokens, in] of several projections quantized once, when they all quantize it alike (q/k/v, gate/up;
 * each projection's inputTap sees it); null when they do not — then each runs `forward` on its own.
 */
export function quantizeShared(linears: readonly BitLinear[], x: Activations, tokens: number, codesOut?: (length: number) => Int8Array): Quantized | null {
  const first = linears[0]!;
  if (!linears.every((l) => first.sharesInputQuant(l))) return null;
  if (x.length !== tokens * first.spec.inFeatures) throw new LayerSpecError(`bitLinear input: has ${x.length} values, expected tokens·in = ${tokens}·${first.spec.inFeatures}`);
  for (const l of linears) l.tap(x, tokens);
  return first.quantizeInput(x, tokens, codesOut?.(x.length));
}

/**
 * Several projections of the same input [tokens, in] (q, k, v), its quantization shared where possible; `outs[i]`
 * (host backends) receives projection i's output when the quantization is shared, and `codesOut(length)`, when
 * given, the buffer for the shared codes (see quantizeInput).
 */
export function forwardShared(
  linears: readonly BitLinear[],
  x: Activations,
  tokens: number,
  outs?: readonly (Float32Array | undefined)[],
  codesOut?: (length: number) => Int8Array,
  joinedOut?: (length: number) => Float32Array,
): Activations[] {
  const q = quantizeShared(linears, x, tokens, codesOut);
  // placed as one weight (projectionsOfOneInput): one bitLinear for them all
  const group = linears[0]?.joined;
  if (q && group && group.linears.length === linears.length && group.linears.every((l, i) => l === linears[i])) return group.forward(q, outs, joinedOut);
  return linears.map((l, i) => (q ? l.forwardQuantized(q, undefined, outs?.[i]) : l.forward(x, tokens)));
}
