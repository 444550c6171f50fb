/**
 * Per-token (and per feature group) activation quantization on WebGPU, bit for bit @onebit/quant:
 *
 * - int8 absmax / int4 absmean (and Top-K + int8): s = Q / guard(stat) and scale = 1/s ("clamp", the reference
 *   code's max(stat, 1e-5)) or stat/Q ("add", the papers' stat + ε), each a correctly rounded float32 quotient
 *   (div_rn), code = clamp(roundHalfEven(fround(x·s))). WGSL's round() is round-half-even.
 * - int4's mean |x|: @onebit/quant sums in float64. Here every |x| becomes an exact fixed-point integer in units of
 *   2^(e_max − 23 − K) (K = 39 − bit length of the group size, so the 64-bit sum cannot overflow), the workgroup
 *   adds them exactly, and sum/n is rounded once to float32. Equal to the reference unless that mean lies within
 *   ~2^-40 (relative) of a float32 rounding boundary, where the reference's own float64 sum rounding could
 *   decide differently; a |x| below 2^-(K+24) of the group's max loses its bits past the fixed point.
 * - absmax8 (BitNet, 2^(b−1) = 128) and fp4 (E2M1 with 2^b = 12/max): the reference's clip never changes a code
 *   once rounded, so code = clamp(round(fround(x·s))); fp4 rounds |x'| / step with step ∈ {1, 2, 4} (a
 *   multiplication by 1, 0.5 or 0.25: exact).
 * - Top-K: an element is kept when fewer than K elements of its token's group have a larger |x| (ties: the lower
 *   index ranks first, as the reference's sort does) — O(n) per element, fine for the output projection's n.
 *
 * One workgroup of 64 threads per token; groups one after another (≤ 256 per token, their multipliers in
 * workgroup memory), then every thread packs 4 codes per word. Zero codes are counted on the host when the codes
 * are read (readQuantized): the device result does not know its zero count.
 */
import { topKCount } from "@onebit/quant";
import { KernelInputError, type QuantizedActivations } from "../backend";
import type { Activations } from "../contract/tensors";
import { ACTIVATION_QUANTIZERS, type ActivationQuantizer } from "../js/quantize-activations";
import { f32Bits, grid, type ShaderSource } from "./gpu-runtime";
import type { WebgpuContext } from "./webgpu-context";
import { codeWordsPerRow, WebgpuQuantized } from "./webgpu-tensor";
import { EXACT_FLOAT_WGSL } from "./wgsl-exact-float";
import { REDUCE_WGSL, REDUCE_WORKGROUP } from "./wgsl-reduce";

const MAX_GROUPS = 256;
const KIND_CODE: Record<ActivationQuantizer, number> = { int8: 0, int4: 1, absmax8: 2, fp4: 3, "int8-topk": 4 };
const SQRT7 = Math.fround(Math.sqrt(7));

const QUANTIZE: ShaderSource = {
  key: "quantize",
  code: /* wgsl */ `
struct Params {
  zero: u32, tokens: u32, features: u32, groups: u32,
  per: u32, kind: u32, epsAdd: u32, eps: u32,
  q: u32, lo: i32, hi: i32, fixK: u32,
  topK: u32, wordsPerRow: u32, gridX: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> CODES: array<u32>;
@group(0) @binding(3) var<storage, read_write> SCALES: array<u32>;

const WG = ${REDUCE_WORKGROUP}u;
var<workgroup> mult: array<f32, ${MAX_GROUPS}>;

${EXACT_FLOAT_WGSL}
${REDUCE_WGSL}

// n · 2^k for n < 2^24, k < 64
fn shl64(n: u32, k: u32) -> vec2<u32> {
  if (k == 0u) { return vec2<u32>(n, 0u); }
  if (k < 32u) { return vec2<u32>(n << k, n >> (32u - k)); }
  return vec2<u32>(0u, n << (k - 32u));
}

// |v| as an integer in units of 2^(exMax - 150 - K) (bits below the unit dropped)
fn fixed_abs(v: f32, exMax: u32) -> vec2<u32> {
  let b = bitcast<u32>(v) & 0x7fffffffu;
  let ex = b >> 23u;
  let n = (b & 0x7fffffu) | select(0u, 0x800000u, ex != 0u);
  let shift = i32(max(ex, 1u)) - i32(exMax) + i32(P.fixK);
  if (shift >= 0) { return shl64(n, u32(shift)); }
  if (shift <= -32) { return vec2<u32>(0u); }
  return vec2<u32>(n >> u32(-shift), 0u);
}

// (s / d, s % d) for d < 2^24: quotient (lo, hi) and remainder
fn div64(s: vec2<u32>, d: u32) -> vec3<u32> {
  var rem = 0u;
  var q = vec2<u32>(0u);
  for (var i = 7; i >= 0; i--) {
    let word = select(s.x, s.y, i >= 4);
    let byte = (word >> (u32(i & 3) * 8u)) & 0xffu;
    let cur = (rem << 8u) | byte;
    q = vec2<u32>((q.x << 8u) | (cur / d), (q.y << 8u) | (q.x >> 24u));
    rem = cur % d;
  }
  return vec3<u32>(q, rem);
}

fn kept(row: u32, gbase: u32, i: u32) -> bool {
  let a = abs(X[row + i]);
  var rank = 0u;
  for (var j = 0u; j < P.per; j++) {
    let c = abs(X[row + gbase + j]);
    if (c > a || (c == a && gbase + j < i)) { rank++; }
  }
  return rank < P.topK;
}

fn code_of(row: u32, i: u32) -> i32 {
  let g = i / P.per;
  let s = mult[g];
  let v = X[row + i] * s;
  if (P.kind == 3u) {
    // fp4: doubled E2M1 grid, steps 1 / 2 / 4 below 4 / 8 / 12
    let a = abs(v);
    let inv = select(select(0.25, 0.5, a < 8.0), 1.0, a < 4.0);
    let step = select(select(4.0, 2.0, a < 8.0), 1.0, a < 4.0);
    let m = min(round(a * inv) * step, 12.0);
    return i32(select(m, -m, v < 0.0));
  }
  if (P.kind == 4u && !kept(row, g * P.per, i)) { return 0; }
  return clamp(i32(round(v)), P.lo, P.hi);
}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x + wid.y * P.gridX;
  if (t >= P.tokens) { return; }
  let row = t * P.features;
  let q = bitcast<f32>(P.q);
  for (var g = 0u; g < P.groups; g++) {
    let base = row + g * P.per;
    var m = 0.0;
    for (var i = lid; i < P.per; i += WG) { m = max(m, abs(X[base + i])); }
    let gmax = wg_max(m, lid);
    var stat = gmax;
    if (P.kind == 1u) {
      let exMax = max((bitcast<u32>(gmax) >> 23u) & 0xffu, 1u);
      var acc = vec2<u32>(0u);
      for (var i = lid; i < P.per; i += WG) { acc = add_u64(acc, fixed_abs(X[base + i], exMax)); }
      let qr = div64(wg_sum_u64(acc, lid), P.per);
      stat = bitcast<f32>(round_u64_to_f32_bits(0u, qr.xy, i32(exMax) - 150 - i32(P.fixK), qr.z != 0u));
    }
    if (lid == 0u) {
      // s = Q / guard(stat) and the scale, two correctly rounded quotients:
      //   int8 / int4 / Top-K: guard = max(stat, eps) ("clamp"; scale 1/s) or stat + eps ("add"; scale stat/Q)
      //   absmax8 / fp4: guard = max|x| (an all-zero region: s = 0, scale 0)
      let eps = bitcast<f32>(P.eps);
      let symmetric = P.kind <= 1u || P.kind == 4u;
      let guard = select(gmax, select(max(stat, eps), stat + eps, P.epsAdd == 1u), symmetric);
      var s = 0.0;
      if (guard > 0.0) { s = div_rn(q, guard); }
      let inverse = symmetric && P.epsAdd == 0u;
      var scale = 0.0;
      if (inverse || guard > 0.0) { scale = div_rn(select(select(gmax, stat, symmetric), 1.0, inverse), select(q, s, inverse)); }
      mult[g] = s;
      SCALES[t * P.groups + g] = bitcast<u32>(scale);
    }
    workgroupBarrier();
  }
  for (var w = lid; w < P.wordsPerRow; w += WG) {
    var word = 0u;
    for (var b = 0u; b < 4u; b++) {
      let i = w * 4u + b;
      if (i < P.features) { word = word | ((u32(code_of(row, i)) & 0xffu) << (8u * b)); }
    }
    CODES[t * P.wordsPerRow + w] = word;
  }
}
`,
};

export interface QuantizeArgs {
  x: Activations;
  tokens: number;
  features: number;
  kind: ActivationQuantizer;
  groups?: number;
  epsMode?: "clamp" | "add";
  topKFraction?: number;
}

export function quantizeWebgpu(ctx: WebgpuContext, a: QuantizeArgs): WebgpuQuantized {
  ctx.runtime.alive("quantize");
  const { tokens, features, kind } = a;
  if (!ACTIVATION_QUANTIZERS.includes(kind)) throw new KernelInputError(`quantize kind: expected one of ${ACTIVATION_QUANTIZERS.join(", ")}, got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(tokens) || tokens <= 0 || !Number.isInteger(features) || features <= 0)
    throw new KernelInputError(`quantize: tokens/features must be positive integers, got ${tokens}×${features}`);
  if (a.x.length !== tokens * features) throw new KernelInputError(`quantize x: has ${a.x.length} elements, expected tokens·features = ${tokens * features}`);
  const groups = a.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || features % groups !== 0) throw new KernelInputError(`quantize groups: expected a positive divisor of features ${features}, got ${groups}`);
  if (groups > MAX_GROUPS) throw new KernelInputError(`quantize groups: the webgpu kernel takes at most ${MAX_GROUPS} groups per token, got ${groups}`);
  const epsMode = a.epsMode ?? "clamp";
  if (epsMode !== "clamp" && epsMode !== "add") throw new KernelInputError(`quantize epsMode: expected "clamp" or "add", got ${JSON.stringify(a.epsMode)}`);
  const per = features / groups;
  if (kind === "int4" && per >= 2 ** 18) throw new KernelInputError(`quantize int4: groups of ${per} features; the webgpu absmean sum takes fewer than ${2 ** 18}`);
  if (a.x instanceof Float32Array)
    for (let i = 0; i < a.x.length; i++) if (!Number.isFinite(a.x[i]!)) throw new KernelInputError(`quantize x: element ${i} is ${a.x[i]}; expected a finite number`);
  const topK = kind === "int8-topk" ? topKCount(per, a.topKFraction ?? 0.5) : 0;
  const bits = kind === "int4" || kind === "fp4" ? 4 : 8;
  const q = kind === "int4" ? SQRT7 : kind === "absmax8" ? 128 : kind === "fp4" ? 12 : 127;
  const [lo, hi] = kind === "int4" ? [-8, 7] : [-128, 127];
  const fixK = 39 - (32 - Math.clz32(per));
  const wordsPerRow = codeWordsPerRow(features);
  const x = ctx.input(a.x, "quantize x");
  const codes = ctx.runtime.buffer(tokens * wordsPerRow * 4, "quantize codes");
  const scales = ctx.runtime.buffer(tokens * groups * 4, "quantize scales");
  const g = grid(tokens);
  ctx.runtime.dispatch(
    QUANTIZE,
    [0, tokens, features, groups, per, KIND_CODE[kind], epsMode === "add" ? 1 : 0, f32Bits(1e-5), f32Bits(q), lo, hi, fixK, topK, wordsPerRow, g.x, 0],
    [x.tensor.buffer, codes, scales],
    g,
  );
  x.done();
  const out = ctx.tensors.quantized(new WebgpuQuantized(tokens, features, groups, bits, codes, scales, ctx.runtime));
  if (kind === "int8-topk") out.sparse = true;
  return out;
}

/** Codes and scales back on the host, zeros counted (tests, diagnostics). */
export async function readQuantizedWebgpu(ctx: WebgpuContext, q: WebgpuQuantized): Promise<QuantizedActivations> {
  if (!(q instanceof WebgpuQuantized) || q.runtime !== ctx.runtime) throw new KernelInputError("readQuantized: expected quantized activations of this webgpu backend");
  const perRow = q.wordsPerRow * 4;
  const [raw, scaleBytes] = await Promise.all([ctx.runtime.read(q.codeBuffer, 0, q.tokens * perRow), ctx.runtime.read(q.scaleBuffer, 0, q.tokens * q.groups * 4)]);
  const padded = new Int8Array(raw);
  const codes = new Int8Array(q.tokens * q.features);
  for (let t = 0; t < q.tokens; t++) codes.set(padded.subarray(t * perRow, t * perRow + q.features), t * q.features);
  let zeros = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] === 0) zeros++;
  q.zeros = zeros;
  return { tokens: q.tokens, features: q.features, codes, scales: new Float32Array(scaleBytes), groups: q.groups, bits: q.bits, zeros, sparse: q.sparse ?? zeros * 2 > codes.length };
}
