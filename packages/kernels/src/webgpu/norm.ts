/**
 * RMSNorm / LayerNorm (no bias) with a gain over `groups` equal groups of each token's features, on WebGPU: one
 * workgroup of 64 threads per (token, group), float32 tree sums (the reference sums in float64), then
 * y = (x − mean)·rs·gain with rs = 1/√(var + ε) in the reference's float32 expression order. Within 1e-5·(1 + |y|)
 * of the reference (the conformance suite's GPU tolerance; measured error is a few float32 ulps).
 * Gains are host arrays, uploaded once per Float32Array (WebgpuContext.hostParameter).
 */
import { KernelInputError } from "../backend";
import type { Activations } from "../contract/tensors";
import type { NormKind } from "../js/norm";
import { f32Bits, grid, type ShaderSource } from "./gpu-runtime";
import type { WebgpuContext } from "./webgpu-context";
import type { WebgpuTensor } from "./webgpu-tensor";
import { REDUCE_WGSL, REDUCE_WORKGROUP } from "./wgsl-reduce";

const NORM: ShaderSource = {
  key: "norm",
  code: /* wgsl */ `
struct Params { zero: u32, rows: u32, features: u32, groups: u32, d: u32, layer: u32, eps: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> GAIN: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
const WG = ${REDUCE_WORKGROUP}u;
${REDUCE_WGSL}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * P.gridX;
  if (r >= P.rows) { return; }
  let t = r / P.groups;
  let g = r % P.groups;
  let off = t * P.features + g * P.d;
  let n = f32(P.d);
  var mean = 0.0;
  if (P.layer == 1u) {
    var s = 0.0;
    for (var i = lid; i < P.d; i += WG) { s += X[off + i]; }
    mean = wg_sum(s, lid) / n;
  }
  var v = 0.0;
  for (var i = lid; i < P.d; i += WG) { let c = X[off + i] - mean; v += c * c; }
  let rs = 1.0 / sqrt(wg_sum(v, lid) / n + bitcast<f32>(P.eps));
  for (var i = lid; i < P.d; i += WG) { Y[off + i] = ((X[off + i] - mean) * rs) * GAIN[g * P.d + i]; }
}
`,
};

export function normWebgpu(
  ctx: WebgpuContext,
  a: { x: Activations; tokens: number; features: number; gain: Float32Array; eps: number; kind: NormKind; groups?: number },
): WebgpuTensor {
  ctx.runtime.alive("norm");
  const { tokens, features, gain, kind } = a;
  const groups = a.groups ?? 1;
  if (kind !== "rms" && kind !== "layer") throw new KernelInputError(`norm kind: expected "rms" or "layer", got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(groups) || groups < 1 || features % groups !== 0) throw new KernelInputError(`norm groups: expected a positive divisor of features ${features}, got ${groups}`);
  if (gain.length !== features) throw new KernelInputError(`norm gain: has ${gain.length} values, expected ${features}`);
  if (a.x.length !== tokens * features) throw new KernelInputError(`norm x: has ${a.x.length} values, expected tokens·features = ${tokens * features}`);
  const x = ctx.input(a.x, "norm x");
  const y = ctx.output(tokens * features, "norm output");
  const rows = tokens * groups;
  const g = grid(rows);
  ctx.runtime.dispatch(NORM, [0, rows, features, groups, features / groups, kind === "layer" ? 1 : 0, f32Bits(a.eps), g.x], [x.tensor.buffer, ctx.hostParameter(gain, "norm gain"), y.buffer], g);
  x.done();
  return y;
}
