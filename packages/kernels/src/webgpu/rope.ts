/**
 * Rotary position embedding in place on x [tokens, heads, headDim] on WebGPU, "half" (pairs i, i + d/2) or
 * "interleaved" (pairs 2i, 2i + 1). The angles pos·θ^(−2i/d) and their cos/sin are computed on the host in
 * float64 exactly as js/rope.ts does (tokens·d/2 pairs per call, uploaded as float32), so the device only
 * rotates: x1·c − x2·s, x2·c + x1·s in float32. The reference rotates in float64 with float64 c, s: the results
 * differ by the float32 rounding of c and s and of the two products, within 2^-22·(|x1| + |x2|).
 */
import { KernelInputError } from "../backend";
import type { Activations } from "../contract/tensors";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { WebgpuContext } from "./webgpu-context";
import { KEEP_WGSL } from "./wgsl-exact-float";

const ROPE: ShaderSource = {
  key: "rope",
  code: /* wgsl */ `
struct Params { zero: u32, tokens: u32, heads: u32, headDim: u32, half: u32, interleaved: u32, gridX: u32, pad: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read> CS: array<vec2<f32>>;
${KEEP_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.tokens * P.heads * P.half) { return; }
  let i = idx % P.half;
  let th = idx / P.half;
  let t = th / P.heads;
  let base = th * P.headDim;
  let a = select(base + i, base + 2u * i, P.interleaved == 1u);
  let b = select(base + i + P.half, base + 2u * i + 1u, P.interleaved == 1u);
  let cs = CS[t * P.half + i];
  let x1 = X[a];
  let x2 = X[b];
  X[a] = keep(x1 * cs.x) - keep(x2 * cs.y);
  X[b] = keep(x2 * cs.x) + keep(x1 * cs.y);
}
`,
};

export function ropeWebgpu(
  ctx: WebgpuContext,
  a: { x: Activations; tokens: number; heads: number; headDim: number; positions: Int32Array; theta: number; style: "half" | "interleaved" },
): void {
  ctx.runtime.alive("rope");
  const { tokens, heads, headDim, positions, theta, style } = a;
  if (headDim % 2 !== 0) throw new KernelInputError(`rope headDim: must be even, got ${headDim}`);
  if (a.x.length !== tokens * heads * headDim) throw new KernelInputError(`rope x: has ${a.x.length} elements, expected tokens·heads·headDim = ${tokens * heads * headDim}`);
  if (positions.length !== tokens) throw new KernelInputError(`rope positions: has ${positions.length} entries, expected ${tokens}`);
  if (style !== "half" && style !== "interleaved") throw new KernelInputError(`rope style: expected "half" or "interleaved", got ${JSON.stringify(style)}`);
  const x = ctx.inPlace(a.x, "rope x");
  const half = headDim / 2;
  const cs = new Float32Array(tokens * half * 2);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < half; i++) {
      const angle = positions[t]! * theta ** ((-2 * i) / headDim);
      cs[(t * half + i) * 2] = Math.cos(angle);
      cs[(t * half + i) * 2 + 1] = Math.sin(angle);
    }
  const table = ctx.runtime.upload(cs, "rope cos/sin");
  const g = grid(Math.ceil((tokens * heads * half) / 64));
  ctx.runtime.dispatch(ROPE, [0, tokens, heads, headDim, half, style === "interleaved" ? 1 : 0, g.x, 0], [x.buffer, table], g);
  ctx.runtime.release(table);
}
