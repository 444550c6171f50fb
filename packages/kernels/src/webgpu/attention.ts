/**
 * Grouped-query attention over an f32 KV store [≥positions, kvHeads, headDim] on WebGPU (a KV cache layer from
 * allocF32, written by copyInto), split in two kernels like the reference (the softmax runs between them):
 *   scores[h, j] = (q[h] · keys[j, ⌊h·kvHeads/heads⌋])·scale   one thread per (h, j)
 *   out[h, i]    = Σ_j p[h, j]·values[j, kvh, i]                 one thread per (h, i)
 * In js/attention.ts's float32 order — sixteen partial sums over i mod 16, combined (a0 + a4) + (a8 + a12) per
 * lane, then (l0 + l1) + (l2 + l3), then the tail; values summed over j in order — with every product kept out of
 * FMAs (keep()), so the results equal the reference bit for bit.
 */
import { KernelInputError } from "../backend";
import type { Activations } from "../contract/tensors";
import { checkAttention, checkCausalAttention } from "../js/attention";
import { copyIntoWebgpu } from "./elementwise";
import { softmaxWebgpu } from "./softmax";
import { f32Bits, grid, type ShaderSource } from "./gpu-runtime";
import { lengthOnly, type WebgpuContext } from "./webgpu-context";
import { ownTensor, type WebgpuTensor } from "./webgpu-tensor";
import { KEEP_WGSL } from "./wgsl-exact-float";

const SCORES: ShaderSource = {
  key: "attentionScores",
  code: /* wgsl */ `
struct Params { zero: u32, heads: u32, kvHeads: u32, headDim: u32, positions: u32, scale: u32, gridX: u32, pad: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${KEEP_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.heads * P.positions) { return; }
  let h = idx / P.positions;
  let j = idx % P.positions;
  let kvh = h / (P.heads / P.kvHeads);
  let qb = h * P.headDim;
  let kb = (j * P.kvHeads + kvh) * P.headDim;
  let d16 = P.headDim & ~15u;
  var acc = array<f32, 16>();
  for (var i = 0u; i < d16; i += 16u) {
    for (var l = 0u; l < 16u; l++) { acc[l] = acc[l] + keep(Q[qb + i + l] * K[kb + i + l]); }
  }
  var lane = array<f32, 4>();
  for (var l = 0u; l < 4u; l++) { lane[l] = (acc[l] + acc[4u + l]) + (acc[8u + l] + acc[12u + l]); }
  var s = (lane[0] + lane[1]) + (lane[2] + lane[3]);
  for (var i = d16; i < P.headDim; i++) { s = s + keep(Q[qb + i] * K[kb + i]); }
  Y[idx] = keep(s) * bitcast<f32>(P.scale);
}
`,
};

const VALUES: ShaderSource = {
  key: "attentionValues",
  code: /* wgsl */ `
struct Params { zero: u32, heads: u32, kvHeads: u32, headDim: u32, positions: u32, gridX: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> PR: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
${KEEP_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.heads * P.headDim) { return; }
  let h = idx / P.headDim;
  let i = idx % P.headDim;
  let kvh = h / (P.heads / P.kvHeads);
  var s = 0.0;
  for (var j = 0u; j < P.positions; j++) { s = s + keep(PR[h * P.positions + j] * V[(j * P.kvHeads + kvh) * P.headDim + i]); }
  Y[idx] = s;
}
`,
};

export function attentionScoresWebgpu(
  ctx: WebgpuContext,
  a: { q: Activations; heads: number; keys: Activations; kvHeads: number; headDim: number; positions: number; scale: number },
): WebgpuTensor {
  ctx.runtime.alive("attentionScores");
  checkAttention("attentionScores", lengthOnly(a.q.length), a.heads, lengthOnly(a.keys.length), a.kvHeads, a.headDim, a.positions);
  const q = ctx.input(a.q, "attentionScores q");
  const keys = ctx.input(a.keys, "attentionScores keys");
  const y = ctx.output(a.heads * a.positions, "attentionScores output");
  const g = grid(Math.ceil((a.heads * a.positions) / 64));
  ctx.runtime.dispatch(SCORES, [0, a.heads, a.kvHeads, a.headDim, a.positions, f32Bits(a.scale), g.x, 0], [q.tensor.buffer, keys.tensor.buffer, y.buffer], g);
  q.done();
  keys.done();
  return y;
}

export function attentionValuesWebgpu(
  ctx: WebgpuContext,
  a: { p: Activations; heads: number; values: Activations; kvHeads: number; headDim: number; positions: number; out?: Activations },
): WebgpuTensor {
  ctx.runtime.alive("attentionValues");
  checkAttention("attentionValues", lengthOnly(a.p.length), a.heads, lengthOnly(a.values.length), a.kvHeads, a.headDim, a.positions);
  const p = ctx.input(a.p, "attentionValues p");
  const values = ctx.input(a.values, "attentionValues values");
  // a device `out` of the right length is written in place; a host one is ignored (the result is returned)
  const out = a.out !== undefined && !(a.out instanceof Float32Array) ? ownTensor(ctx.runtime, a.out, "attentionValues out") : undefined;
  if (out && out.length !== a.heads * a.headDim) throw new KernelInputError(`attentionValues out: has ${out.length} elements, expected heads·headDim = ${a.heads * a.headDim}`);
  const y = out ?? ctx.output(a.heads * a.headDim, "attentionValues output");
  const g = grid(Math.ceil((a.heads * a.headDim) / 64));
  ctx.runtime.dispatch(VALUES, [0, a.heads, a.kvHeads, a.headDim, a.positions, g.x, 0, 0], [p.tensor.buffer, values.tensor.buffer, y.buffer], g);
  p.done();
  values.done();
  return y;
}

/**
 * Causal attention of many query tokens on the device: per token, its query row copied out, scores, softmax and
 * values by the kernels above (one dispatch each, all in the command stream), its output row copied in. The same
 * composition as the reference (js/attention.ts causalAttentionImpl), each step within its own tolerance.
 */
export function causalAttentionWebgpu(
  ctx: WebgpuContext,
  a: { q: Activations; tokens: number; heads: number; keys: Activations; values: Activations; kvHeads: number; headDim: number; start: number; scale: number },
): WebgpuTensor {
  ctx.runtime.alive("causalAttention");
  checkCausalAttention(lengthOnly(a.q.length), a.tokens, a.heads, lengthOnly(a.keys.length), lengthOnly(a.values.length), a.kvHeads, a.headDim, a.start);
  const { tokens, heads, keys, values, kvHeads, headDim, start, scale } = a;
  const width = heads * headDim;
  const step = (q: Activations, positions: number): WebgpuTensor => {
    const scores = attentionScoresWebgpu(ctx, { q, heads, keys, kvHeads, headDim, positions, scale });
    softmaxWebgpu(ctx, { x: scores, rows: heads, cols: positions });
    const out = attentionValuesWebgpu(ctx, { p: scores, heads, values, kvHeads, headDim, positions });
    ctx.tensors.free(scores);
    return out;
  };
  if (tokens === 1) return step(a.q, start + 1);
  const out = ctx.output(tokens * width, "causalAttention output");
  const qt = ctx.output(width, "causalAttention query row");
  for (let t = 0; t < tokens; t++) {
    copyIntoWebgpu(ctx, { src: a.q, srcOffset: t * width, length: width, dst: qt, dstOffset: 0 });
    const row = step(qt, start + t + 1); // causal: positions 0 .. start + t
    copyIntoWebgpu(ctx, { src: row, dst: out, dstOffset: t * width });
    ctx.tensors.free(row);
  }
  ctx.tensors.free(qt);
  return out;
}
