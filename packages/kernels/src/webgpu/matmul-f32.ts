/**
 * f32 matmul on WebGPU: out[t, o] = Σ_i x[t, i]·w[o, i], one thread per output, in the reference's float32 order
 * (js/matmul-f32.ts: four partial sums over i mod 4, (s0 + s1) + (s2 + s3), then the tail). Every product goes
 * through keep() so no compiler fuses it into an FMA: the result equals the reference bit for bit on a GPU that
 * keeps float32 subnormals (the conformance suite allows float32 rounding, as for any GPU).
 * Host weights are uploaded once per Float32Array (WebgpuContext.hostParameter).
 */
import type { Activations } from "../contract/tensors";
import { checkMatmulF32 } from "../validate-inputs";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { GpuBuffer } from "./webgpu-api";
import { lengthOnly, type WebgpuContext } from "./webgpu-context";
import type { WebgpuTensor } from "./webgpu-tensor";
import { KEEP_WGSL } from "./wgsl-exact-float";

const MATMUL_F32: ShaderSource = {
  key: "matmulF32",
  code: /* wgsl */ `
struct Params { zero: u32, tokens: u32, out: u32, inF: u32, gridX: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${KEEP_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.tokens * P.out) { return; }
  let t = idx / P.out;
  let o = idx % P.out;
  let xb = t * P.inF;
  let wb = o * P.inF;
  let in4 = P.inF & ~3u;
  var s0 = 0.0;
  var s1 = 0.0;
  var s2 = 0.0;
  var s3 = 0.0;
  for (var i = 0u; i < in4; i += 4u) {
    s0 = s0 + keep(W[wb + i] * X[xb + i]);
    s1 = s1 + keep(W[wb + i + 1u] * X[xb + i + 1u]);
    s2 = s2 + keep(W[wb + i + 2u] * X[xb + i + 2u]);
    s3 = s3 + keep(W[wb + i + 3u] * X[xb + i + 3u]);
  }
  var s = (s0 + s1) + (s2 + s3);
  for (var i = in4; i < P.inF; i++) { s = s + keep(W[wb + i] * X[xb + i]); }
  Y[idx] = s;
}
`,
};

/** y [tokens, out] = x · wᵀ with w [out, in] already on the device. */
export function matmulF32Device(ctx: WebgpuContext, x: WebgpuTensor, tokens: number, w: GpuBuffer, outFeatures: number, inFeatures: number, label: string): WebgpuTensor {
  const y = ctx.output(tokens * outFeatures, `${label} output`);
  const g = grid(Math.ceil((tokens * outFeatures) / 64));
  ctx.runtime.dispatch(MATMUL_F32, [0, tokens, outFeatures, inFeatures, g.x, 0, 0, 0], [x.buffer, w, y.buffer], g);
  return y;
}

export function matmulF32Webgpu(ctx: WebgpuContext, a: { x: Activations; tokens: number; weight: Float32Array; outFeatures: number; inFeatures: number }): WebgpuTensor {
  ctx.runtime.alive("matmulF32");
  checkMatmulF32(lengthOnly(a.x.length), a.tokens, a.weight, a.outFeatures, a.inFeatures);
  const x = ctx.input(a.x, "matmulF32 x");
  const y = matmulF32Device(ctx, x.tensor, a.tokens, ctx.hostParameter(a.weight, "matmulF32 weight"), a.outFeatures, a.inFeatures, "matmulF32");
  x.done();
  return y;
}
