/**
 * Row-wise softmax in place on x [rows, cols] on WebGPU: one workgroup of 64 threads per row — the row max, then
 * e = exp(x − max) and its sum, then e·(1/sum) — in float32 with WGSL's exp (the reference uses float64 exp and
 * sums). A row of −Infinity gives zeros, as in the reference. Held to |Δ| ≤ 1e-6·(the row's largest probability)
 * + 4 ulp (webgpu-cases.ts); measured on SwiftShader: 1.8e-7 of the row's largest probability.
 */
import { KernelInputError } from "../backend";
import type { Activations } from "../contract/tensors";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { WebgpuContext } from "./webgpu-context";
import { REDUCE_WGSL, REDUCE_WORKGROUP } from "./wgsl-reduce";

const SOFTMAX: ShaderSource = {
  key: "softmax",
  code: /* wgsl */ `
struct Params { zero: u32, rows: u32, cols: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
const WG = ${REDUCE_WORKGROUP}u;
${REDUCE_WGSL}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * P.gridX;
  if (r >= P.rows) { return; }
  let base = r * P.cols;
  let ninf = bitcast<f32>(0xff800000u ^ P.zero); // −∞ (a runtime value: WGSL constants cannot be infinite)
  var m = ninf;
  for (var c = lid; c < P.cols; c += WG) { m = max(m, X[base + c]); }
  let mx = wg_max(m, lid);
  let dead = mx == ninf;
  var sum = 0.0;
  for (var c = lid; c < P.cols; c += WG) {
    let e = select(exp(X[base + c] - mx), 0.0, dead);
    X[base + c] = e;
    sum += e;
  }
  let total = wg_sum(sum, lid);
  let inv = select(0.0, 1.0 / total, total > 0.0);
  for (var c = lid; c < P.cols; c += WG) { X[base + c] = X[base + c] * inv; }
}
`,
};

export function softmaxWebgpu(ctx: WebgpuContext, a: { x: Activations; rows: number; cols: number }): void {
  ctx.runtime.alive("softmax");
  if (a.x.length !== a.rows * a.cols) throw new KernelInputError(`softmax x: has ${a.x.length} elements, expected rows·cols = ${a.rows * a.cols}`);
  const x = ctx.inPlace(a.x, "softmax x");
  const g = grid(a.rows);
  ctx.runtime.dispatch(SOFTMAX, [0, a.rows, a.cols, g.x], [x.buffer], g);
}
