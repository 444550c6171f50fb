/**
 * Dense weights on WebGPU (the LM head, tied embeddings, FP projections), in the two formats of js/dense.ts:
 *
 * - "f32": the weight uploaded once; y = matmulF32 on the device (reference order, see matmul-f32.ts).
 * - "int8" (W8A16): quantized once on the host by the reference's own quantizeDenseInt8 (codes packed four to a
 *   u32, rows padded to whole words; scales [out, blocks]). At run time the activations are quantized per token to
 *   int16 absmax on the device (s = 32767/γ and scale = γ/32767 correctly rounded, codes round-half-even), then
 *   one thread per output computes each block's exact i32 dot and the reference's float32 epilogue
 *   acc = fround(acc + fround(fround(dot)·wScale)), y = fround(acc·xScale) — bit for bit the reference.
 */
import { KernelInputError, type DenseFormat, type PreparedDense } from "../backend";
import type { Activations } from "../contract/tensors";
import { checkDense, quantizeDenseInt8 } from "../js/dense";
import { grid, type ShaderSource } from "./gpu-runtime";
import { matmulF32Device } from "./matmul-f32";
import type { GpuBuffer } from "./webgpu-api";
import type { WebgpuContext } from "./webgpu-context";
import { OWNER, type WebgpuTensor } from "./webgpu-tensor";
import { EXACT_FLOAT_WGSL, KEEP_WGSL } from "./wgsl-exact-float";
import { REDUCE_WGSL, REDUCE_WORKGROUP } from "./wgsl-reduce";

export interface WebgpuPreparedDense extends PreparedDense {
  readonly context: WebgpuContext;
  /** f32: the weight [out, in]; int8: codes [out, ⌈in/4⌉ words]. */
  readonly weight: GpuBuffer;
  /** int8: float32 scales [out, blocks]. */
  readonly scales?: GpuBuffer;
  readonly blockLen: number;
  readonly blocks: number;
}

const QUANTIZE_INT16: ShaderSource = {
  key: "dense:int16",
  code: /* wgsl */ `
struct Params { zero: u32, tokens: u32, features: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> XQ: array<i32>;
@group(0) @binding(3) var<storage, read_write> XS: array<f32>;
const WG = ${REDUCE_WORKGROUP}u;
${EXACT_FLOAT_WGSL}
${REDUCE_WGSL}
@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x + wid.y * P.gridX;
  if (t >= P.tokens) { return; }
  let base = t * P.features;
  var m = 0.0;
  for (var i = lid; i < P.features; i += WG) { m = max(m, abs(X[base + i])); }
  let g = wg_max(m, lid);
  // an all-zero token: codes 0, scale 0 (every thread computes the same multiplier)
  let s = select(0.0, div_rn(32767.0, g), g > 0.0);
  if (lid == 0u) { XS[t] = select(0.0, div_rn(g, 32767.0), g > 0.0); }
  for (var i = lid; i < P.features; i += WG) { XQ[base + i] = clamp(i32(round(X[base + i] * s)), -32767, 32767); }
}
`,
};

const DENSE_INT8: ShaderSource = {
  key: "dense:int8",
  code: /* wgsl */ `
struct Params { zero: u32, tokens: u32, out: u32, inF: u32, blockLen: u32, blocks: u32, rowWords: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> WQ: array<u32>;
@group(0) @binding(2) var<storage, read> WSC: array<f32>;
@group(0) @binding(3) var<storage, read> XQ: array<i32>;
@group(0) @binding(4) var<storage, read> XS: array<f32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;
${KEEP_WGSL}
${EXACT_FLOAT_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.tokens * P.out) { return; }
  let t = idx / P.out;
  let o = idx % P.out;
  let wrow = o * P.rowWords;
  let xb = t * P.inF;
  var acc = 0.0;
  for (var b = 0u; b < P.blocks; b++) {
    var dot = 0;
    let i0 = b * P.blockLen;
    for (var i = i0; i < i0 + P.blockLen; i++) {
      dot += extractBits(bitcast<i32>(WQ[wrow + i / 4u]), (i % 4u) * 8u, 8u) * XQ[xb + i];
    }
    acc = acc + keep(bitcast<f32>(f32_bits_from_i32(dot)) * WSC[o * P.blocks + b]);
  }
  Y[idx] = keep(acc) * XS[t];
}
`,
};

export function prepareDenseWebgpu(ctx: WebgpuContext, w: Float32Array, outFeatures: number, inFeatures: number, format: DenseFormat): WebgpuPreparedDense {
  ctx.runtime.alive("prepareDense");
  checkDense(w, outFeatures, inFeatures, format);
  if (format === "f32")
    return { backend: OWNER, format, outFeatures, inFeatures, bytes: w.byteLength, context: ctx, weight: ctx.runtime.upload(w, "dense f32 weight"), blockLen: inFeatures, blocks: 1 };
  const q = quantizeDenseInt8(w, outFeatures, inFeatures);
  const rowBytes = Math.ceil(inFeatures / 4) * 4;
  const codes = new Int8Array(outFeatures * rowBytes);
  for (let o = 0; o < outFeatures; o++) codes.set(q.codes.subarray(o * inFeatures, (o + 1) * inFeatures), o * rowBytes);
  return {
    backend: OWNER,
    format,
    outFeatures,
    inFeatures,
    bytes: codes.byteLength + q.scales.byteLength,
    context: ctx,
    weight: ctx.runtime.upload(codes, "dense int8 codes"),
    scales: ctx.runtime.upload(q.scales, "dense int8 scales"),
    blockLen: q.blockLen,
    blocks: q.blocks,
  };
}

export function denseWebgpu(ctx: WebgpuContext, weight: PreparedDense, xIn: Activations, tokens: number): WebgpuTensor {
  ctx.runtime.alive("dense");
  if (weight.backend !== OWNER) throw new KernelInputError(`dense: weight was prepared by the ${weight.backend} backend, not webgpu`);
  const w = weight as WebgpuPreparedDense;
  if (w.context !== ctx) throw new KernelInputError("dense: weight was prepared by another webgpu backend instance");
  if (!Number.isInteger(tokens) || tokens <= 0) throw new KernelInputError(`dense tokens: expected a positive integer, got ${tokens}`);
  if (xIn.length !== tokens * w.inFeatures) throw new KernelInputError(`dense x: has ${xIn.length} elements, expected tokens·in = ${tokens * w.inFeatures}`);
  if (xIn instanceof Float32Array)
    for (let i = 0; i < xIn.length; i++) if (!Number.isFinite(xIn[i]!)) throw new KernelInputError(`dense x: element ${i} is ${xIn[i]}; expected a finite number`);
  const x = ctx.input(xIn, "dense x");
  let y: WebgpuTensor;
  if (w.format === "f32") y = matmulF32Device(ctx, x.tensor, tokens, w.weight, w.outFeatures, w.inFeatures, "dense f32");
  else {
    const xq = ctx.runtime.buffer(tokens * w.inFeatures * 4, "dense int16 codes");
    const xs = ctx.runtime.buffer(tokens * 4, "dense int16 scales");
    const gq = grid(tokens);
    ctx.runtime.dispatch(QUANTIZE_INT16, [0, tokens, w.inFeatures, gq.x], [x.tensor.buffer, xq, xs], gq);
    y = ctx.output(tokens * w.outFeatures, "dense int8 output");
    const g = grid(Math.ceil((tokens * w.outFeatures) / 64));
    ctx.runtime.dispatch(DENSE_INT8, [0, tokens, w.outFeatures, w.inFeatures, w.blockLen, w.blocks, Math.ceil(w.inFeatures / 4), g.x], [w.weight, w.scales!, xq, xs, y.buffer], g);
    ctx.runtime.release(xq);
    ctx.runtime.release(xs);
  }
  x.done();
  return y;
}
