/**
 * BitLinear on WebGPU: packed ternary (onebit-t2) weights × int8/int4 activation codes, integer dot products in
 * i32, the reference's float64 epilogue in software doubles (wgsl-soft-double.ts) — so results equal the js
 * reference bit for bit (js/bit-linear.ts: out[t, o] = Σ_segments dot · wScale · xScale, in JS numbers).
 *
 * Layout: a t2 row is ⌈in/64⌉ blocks of 16 bytes = 4 u32 words; byte j of a block holds weights
 * i = 64·blk + 16·k + j (k = 0..3) in bits 2k..2k+1 as w + 1. Activation codes are int8 packed four to a word,
 * rows padded to whole blocks (webgpu-tensor.ts). So word j of a block, shifted by 2k and masked with 0x03030303,
 * holds the four codes (w + 1) of features 64·blk + 16·k + 4j + (0..3), which are exactly activation word
 * (64·blk + 16·k)/4 + j: one dot4I8Packed per 4 weights after turning each byte w + 1 into w (lane-wise, no
 * borrow). Binary (onebit-b1) weights are re-expressed as t2 codes {0, 2} at prepare time (2 bits per weight on
 * the device).
 *
 * Two passes. Dots: per output row and tile of ≤ 4 tokens (a GEMV is one tile; a GEMM reuses each decoded
 * weight word for 4 tokens), one i32 per column segment (the stretch where neither the weight's "in" group nor the
 * activation group changes; a segment's ends mask whole bytes of a word); on a GPU several threads share a row,
 * on a CPU adapter one thread takes it (lanesLog2). Epilogue: one thread per output sums the segments' terms in
 * the reference's order, in software float64 — a separate, small shader, so the big soft-double code is compiled
 * once (SwiftShader's compile time grows fast with inlined copies).
 */
import { packTernaryT2, t2RowBytes, unpackBinaryB1 } from "@onebit/quant";
import { KernelInputError, type PackedLinearWeight, type PreparedWeight, type Quantized, type QuantizedActivations } from "../backend";
import { columnSegments } from "../column-segments";
import type { Activations } from "../contract/tensors";
import { checkActivations, checkMask, checkWeight } from "../validate-inputs";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { WebgpuContext } from "./webgpu-context";
import type { GpuBuffer } from "./webgpu-api";
import { codeWordsPerRow, OWNER, WebgpuQuantized } from "./webgpu-tensor";
import { EXACT_FLOAT_WGSL } from "./wgsl-exact-float";
import { SOFT_DOUBLE_WGSL } from "./wgsl-soft-double";

const TOKENS_PER_GROUP = 4;
const WORKGROUP = 64;
const MAX_TILES = 65535;

export interface WebgpuPreparedWeight extends PreparedWeight {
  readonly words: GpuBuffer;
  /** Weight scales (float32). */
  readonly scales: GpuBuffer;
  readonly scaleAxis: PackedLinearWeight["scaleAxis"];
  readonly scaleCount: number;
  readonly wordsPerRow: number;
  readonly context: WebgpuContext;
  /** Column segments per activation group count, uploaded once each. */
  readonly segments: Map<number, { buffer: GpuBuffer; count: number }>;
}

/** dot4I8Packed where WGSL has it, else the same sum from sign-extended bytes. */
export function dot4Wgsl(native: boolean): string {
  return native
    ? "fn dot4(a: u32, b: u32) -> i32 { return dot4I8Packed(a, b); }"
    : `fn dot4(a: u32, b: u32) -> i32 {
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(b);
  var s = 0;
  for (var k = 0u; k < 32u; k += 8u) { s += extractBits(x, k, 8u) * extractBits(y, k, 8u); }
  return s;
}`;
}

/**
 * Dots: DOTS[t, o, s] = Σ_{i ∈ segment s} w[o, i]·x[t, i] in i32. Rows are split over 2^LANES_LOG2 threads side
 * by side (their partial sums gathered in workgroup memory; integers, so any order is exact), or one thread per
 * row with no barrier at all (LANES_LOG2 = 0).
 */
function dotsShader(dot4: boolean, lanesLog2: number): ShaderSource {
  const gather =
    lanesLog2 === 0
      ? /* wgsl */ `
    if (live) {
      let d = ((t0 * P.out) + o) * P.segments + s;
      let step = P.out * P.segments;
      DOTS[d] = a0;
      if (nt > 1u) { DOTS[d + step] = a1; }
      if (nt > 2u) { DOTS[d + 2u * step] = a2; }
      if (nt > 3u) { DOTS[d + 3u * step] = a3; }
    }`
      : /* wgsl */ `
    let r = slot * TT * lanes + lane;
    red[r] = a0;
    red[r + lanes] = a1;
    red[r + 2u * lanes] = a2;
    red[r + 3u * lanes] = a3;
    workgroupBarrier();
    if (live && lane < nt) {
      // thread t of the row sums token t's partial dots
      var dot = 0;
      let base = (slot * TT + lane) * lanes;
      for (var l = 0u; l < lanes; l++) { dot += red[base + l]; }
      DOTS[((t0 + lane) * P.out + o) * P.segments + s] = dot;
    }
    workgroupBarrier();`;
  return {
    key: `bitLinear dots:${dot4 ? "dot4" : "bytes"}:${lanesLog2}`,
    code: /* wgsl */ `
struct Params { zero: u32, out: u32, tokens: u32, blocksPerRow: u32, xVec4PerRow: u32, segments: u32, hasMask: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> X: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> SEG: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> MASK: array<u32>;
@group(0) @binding(5) var<storage, read_write> DOTS: array<i32>;

const WG = ${WORKGROUP}u;
const TT = ${TOKENS_PER_GROUP}u;
const LANES_LOG2 = ${lanesLog2}u;
// partial dots: [row slot][token][lane]
var<workgroup> red: array<i32, ${WORKGROUP * TOKENS_PER_GROUP}>;

${dot4Wgsl(dot4)}

// bytes of the word holding features f .. f+3 that lie in [lo, hi)
fn word_mask(lo: u32, hi: u32, f: u32) -> u32 {
  let a = u32(clamp(i32(lo) - i32(f), 0, 4));
  let b = u32(clamp(i32(hi) - i32(f), 0, 4));
  if (b <= a) { return 0u; }
  let top = select((1u << (8u * b)) - 1u, 0xffffffffu, b >= 4u);
  return top & ~((1u << (8u * a)) - 1u);
}

// sixteen weights w in {-1, 0, 1} (a byte each) · sixteen int8 activations
fn dot16(w: vec4<u32>, x: vec4<u32>) -> i32 {
  return dot4(w.x, x.x) + dot4(w.y, x.y) + dot4(w.z, x.z) + dot4(w.w, x.w);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lanes = 1u << LANES_LOG2;
  let lane = lid & (lanes - 1u);
  let slot = lid >> LANES_LOG2;
  let o = (wid.x + wid.y * P.gridX) * (WG >> LANES_LOG2) + slot;
  let t0 = wid.z * TT;
  let nt = min(TT, P.tokens - t0);
  let live = o < P.out && !(P.hasMask != 0u && MASK[min(o, P.out - 1u)] == 0u);
  for (var s = 0u; s < P.segments; s++) {
    let seg = SEG[s];
    var a0 = 0;
    var a1 = 0;
    var a2 = 0;
    var a3 = 0;
    if (live) {
      let bEnd = (seg.y + 63u) / 64u;
      for (var b = seg.x / 64u + lane; b < bEnd; b += lanes) {
        let words = W[o * P.blocksPerRow + b];
        let whole = b * 64u >= seg.x && b * 64u + 64u <= seg.y;
        for (var k = 0u; k < 4u; k++) {
          // bytes w + 1 in {0, 1, 2} -> w in {-1, 0, 1}, lane by lane without borrows
          var w = (words >> vec4<u32>(2u * k)) & vec4<u32>(0x03030303u);
          w = ((w | vec4<u32>(0x80808080u)) - vec4<u32>(0x01010101u)) ^ vec4<u32>(0x80808080u);
          let f = b * 64u + k * 16u;
          if (!whole) {
            w = w & vec4<u32>(word_mask(seg.x, seg.y, f), word_mask(seg.x, seg.y, f + 4u), word_mask(seg.x, seg.y, f + 8u), word_mask(seg.x, seg.y, f + 12u));
          }
          let xi = t0 * P.xVec4PerRow + b * 4u + k;
          a0 += dot16(w, X[xi]);
          if (nt > 1u) { a1 += dot16(w, X[xi + P.xVec4PerRow]); }
          if (nt > 2u) { a2 += dot16(w, X[xi + 2u * P.xVec4PerRow]); }
          if (nt > 3u) { a3 += dot16(w, X[xi + 3u * P.xVec4PerRow]); }
        }
      }
    }
${gather}
  }
}
`,
  };
}

/**
 * Epilogue: y[t, o] = float32(Σ_s dot[t, o, s] · wScale · xScale) with the reference's float64 arithmetic (software
 * doubles), one thread per output; masked rows 0.
 */
const EPILOGUE: ShaderSource = {
  key: "bitLinear epilogue",
  code: /* wgsl */ `
struct Params { zero: u32, out: u32, tokens: u32, segments: u32, axis: u32, rowsPerGroup: u32, xGroups: u32, hasMask: u32, gridX: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> DOTS: array<i32>;
@group(0) @binding(2) var<storage, read> WS: array<u32>;
@group(0) @binding(3) var<storage, read> XS: array<u32>;
@group(0) @binding(4) var<storage, read> SEG: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> MASK: array<u32>;
@group(0) @binding(6) var<storage, read_write> Y: array<u32>;
${EXACT_FLOAT_WGSL}
${SOFT_DOUBLE_WGSL}

// bits of the weight scale of row o in weight column group wg (axis 0 "tensor", 1 "out", 2 "in")
fn weight_scale(o: u32, wg: u32) -> u32 {
  if (P.axis == 0u) { return WS[0]; }
  if (P.axis == 2u) { return WS[wg]; }
  return WS[o / P.rowsPerGroup];
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.tokens * P.out) { return; }
  let t = idx / P.out;
  let o = idx % P.out;
  if (P.hasMask != 0u && MASK[o] == 0u) {
    Y[idx] = 0u;
    return;
  }
  // the reference: y = 0; y += dot * wScale * xScale per segment, left to right, in float64
  var y = sd_zero();
  for (var s = 0u; s < P.segments; s++) {
    let seg = SEG[s];
    let term = sd_mul(sd_mul(sd_from_i32(DOTS[idx * P.segments + s]), sd_from_f32_bits(weight_scale(o, seg.z))), sd_from_f32_bits(XS[t * P.xGroups + seg.w]));
    y = sd_add(y, term);
  }
  Y[idx] = sd_to_f32_bits(y);
}
`,
};

/**
 * log2 of the threads per output row. A GPU: enough to give each thread about one 64-feature block (at most
 * the workgroup), so a GEMV's rows are read by many threads side by side. A CPU adapter (SwiftShader) pays most
 * for workgroup barriers: one thread per row and none.
 */
export function lanesLog2(inFeatures: number, cpu: boolean): number {
  if (cpu) return 0;
  const blocks = Math.ceil(inFeatures / 64);
  return Math.min(Math.ceil(Math.log2(blocks)), Math.log2(WORKGROUP));
}

export function prepareWeightWebgpu(ctx: WebgpuContext, w: PackedLinearWeight): WebgpuPreparedWeight {
  ctx.runtime.alive("prepareWeight");
  checkWeight(w);
  const bytes = w.kind === "ternary" ? w.data : packTernaryT2(unpackBinaryB1(w.data, w.outFeatures, w.inFeatures), w.outFeatures, w.inFeatures);
  const words = ctx.runtime.upload(bytes, `bitLinear weight ${w.outFeatures}×${w.inFeatures}`);
  return {
    backend: OWNER,
    kind: w.kind,
    outFeatures: w.outFeatures,
    inFeatures: w.inFeatures,
    bytes: bytes.length + w.scales.length * 4,
    words,
    scales: ctx.runtime.upload(Float32Array.from(w.scales), "bitLinear weight scales"),
    scaleAxis: w.scaleAxis,
    scaleCount: w.scales.length,
    wordsPerRow: t2RowBytes(w.inFeatures) / 4,
    context: ctx,
    segments: new Map(),
  };
}

/** Host codes [tokens, features] → the device layout (rows padded to whole 64-feature blocks). */
export function packCodes(ctx: WebgpuContext, x: QuantizedActivations): WebgpuQuantized {
  const perRow = codeWordsPerRow(x.features) * 4;
  const bytes = new Int8Array(x.tokens * perRow);
  for (let t = 0; t < x.tokens; t++) bytes.set(x.codes.subarray(t * x.features, (t + 1) * x.features), t * perRow);
  const q = new WebgpuQuantized(x.tokens, x.features, x.groups, x.bits, ctx.runtime.upload(bytes, "bitLinear input codes"), ctx.runtime.upload(Float32Array.from(x.scales), "bitLinear input scales"), ctx.runtime);
  q.sparse = x.sparse;
  q.zeros = x.zeros;
  return q;
}

function deviceInput(ctx: WebgpuContext, w: WebgpuPreparedWeight, input: Quantized): { q: WebgpuQuantized; temporary: boolean } {
  if ("codes" in input) {
    checkActivations(w, input);
    return { q: packCodes(ctx, input), temporary: true };
  }
  if (!(input instanceof WebgpuQuantized) || input.runtime !== ctx.runtime)
    throw new KernelInputError(`bitLinear input: activations resident on ${input.owner === OWNER ? "another webgpu backend" : input.owner}; expected this webgpu backend's (or host) activations`);
  if (input.features !== w.inFeatures) throw new KernelInputError(`activations.features: ${input.features} does not match the weight's inFeatures ${w.inFeatures}`);
  return { q: input, temporary: false };
}

function segmentsFor(ctx: WebgpuContext, w: WebgpuPreparedWeight, xGroups: number): { buffer: GpuBuffer; count: number } {
  let s = w.segments.get(xGroups);
  if (!s) {
    const segs = columnSegments(w.inFeatures, w.scaleAxis === "in" ? w.scaleCount : 1, xGroups);
    const data = new Uint32Array(segs.length * 4);
    for (const [i, g] of segs.entries()) data.set([g.start, g.end, g.wGroup, g.xGroup], i * 4);
    s = { buffer: ctx.runtime.upload(data, "bitLinear segments"), count: segs.length };
    w.segments.set(xGroups, s);
  }
  return s;
}

export function bitLinearWebgpu(ctx: WebgpuContext, weight: PreparedWeight, input: Quantized, rowMask?: Uint8Array): Activations {
  ctx.runtime.alive("bitLinear");
  if (weight.backend !== OWNER) throw new KernelInputError(`bitLinear: weight was prepared by the ${weight.backend} backend, not webgpu`);
  const w = weight as WebgpuPreparedWeight;
  if (w.context !== ctx) throw new KernelInputError("bitLinear: weight was prepared by another webgpu backend instance");
  checkMask(rowMask, w.outFeatures);
  const { q, temporary } = deviceInput(ctx, w, input);
  const tokens = q.tokens;
  const tiles = Math.ceil(tokens / TOKENS_PER_GROUP);
  if (tiles > MAX_TILES) throw new KernelInputError(`bitLinear input.tokens: ${tokens} exceeds the ${MAX_TILES * TOKENS_PER_GROUP} one dispatch covers`);
  const segs = segmentsFor(ctx, w, q.groups);
  const mask = rowMask ? ctx.runtime.upload(Uint32Array.from(rowMask, (m) => (m ? 1 : 0)), "bitLinear row mask") : ctx.dummy;
  const y = ctx.output(tokens * w.outFeatures, "bitLinear output");
  const lanes = ctx.bitLinearLanesLog2 ?? lanesLog2(w.inFeatures, ctx.cpuAdapter);
  const dots = ctx.runtime.buffer(tokens * w.outFeatures * segs.count * 4, "bitLinear dots");
  const g = grid(Math.ceil(w.outFeatures / (WORKGROUP >> lanes)));
  const hasMask = rowMask ? 1 : 0;
  ctx.runtime.dispatch(
    dotsShader(ctx.dot4, lanes),
    [0, w.outFeatures, tokens, w.wordsPerRow / 4, q.wordsPerRow / 4, segs.count, hasMask, g.x],
    [w.words, q.codeBuffer, segs.buffer, mask, dots],
    { x: g.x, y: g.y, z: tiles },
  );
  const axis = w.scaleAxis === "tensor" ? 0 : w.scaleAxis === "out" ? 1 : 2;
  const ge = grid(Math.ceil((tokens * w.outFeatures) / 64));
  ctx.runtime.dispatch(
    EPILOGUE,
    [0, w.outFeatures, tokens, segs.count, axis, w.scaleAxis === "out" ? w.outFeatures / w.scaleCount : 1, q.groups, hasMask, ge.x, 0, 0, 0],
    [dots, w.scales, q.scaleBuffer, segs.buffer, mask, y.buffer],
    ge,
  );
  ctx.runtime.release(dots);
  if (rowMask) ctx.runtime.release(mask);
  if (temporary) {
    ctx.runtime.release(q.codeBuffer);
    ctx.runtime.release(q.scaleBuffer);
  }
  return y;
}
