/**
 * Element-wise kernels of a decoder block on WebGPU: the residual add, the gated FFN's product and activation
 * (ReLU² exact; SiLU x/(1 + e^−x) with WGSL's exp, within 1e-6·(1 + |y|) of the reference's float64), and the
 * KV-cache row write and row slices (copyInto: a buffer-to-buffer copy in the command stream). One thread per element.
 * ReLU²'s active-rows scan is a host feature: on the device `activeRows` is filled with 1 (every row computed) and
 * the count is −1 ("not counted").
 */
import { KernelInputError } from "../backend";
import type { Activations } from "../contract/tensors";
import { checkCopyInto, type GateActivation } from "../js/elementwise";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { WebgpuContext } from "./webgpu-context";

const OPS = { add: 0, multiply: 1, relu2: 2, silu: 3 } as const;

const ELEMENTWISE: ShaderSource = {
  key: "elementwise",
  code: /* wgsl */ `
struct Params { zero: u32, n: u32, op: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * P.gridX) * 256u + lid;
  if (i >= P.n) { return; }
  let x = X[i];
  if (P.op == 0u) { X[i] = x + Y[i]; }
  else if (P.op == 1u) { X[i] = x * Y[i]; }
  else if (P.op == 2u) { let r = max(x, 0.0); X[i] = r * r; }
  else { X[i] = x / (1.0 + exp(-x)); }
}
`,
};

function run(ctx: WebgpuContext, op: keyof typeof OPS, x: Activations, y: Activations | null, what: string): void {
  const xt = ctx.inPlace(x, `${what} x`);
  let ybuf = ctx.dummy;
  let after = () => {};
  if (y !== null && y === x) {
    // one buffer cannot be bound writable and read-only in one pass: read y from a copy
    const copy = ctx.runtime.buffer(xt.length * 4, `${what} y copy`);
    ctx.runtime.copy(xt.buffer, 0, copy, 0, xt.length * 4);
    ybuf = copy;
    after = () => ctx.runtime.release(copy);
  } else if (y !== null) {
    const yin = ctx.input(y, `${what} y`);
    ybuf = yin.tensor.buffer;
    after = yin.done;
  }
  const g = grid(Math.ceil(xt.length / 256));
  ctx.runtime.dispatch(ELEMENTWISE, [0, xt.length, OPS[op], g.x], [xt.buffer, ybuf], g);
  after();
}

export function binaryWebgpu(ctx: WebgpuContext, op: "add" | "multiply", a: { x: Activations; y: Activations }): void {
  ctx.runtime.alive(op);
  if (a.x.length !== a.y.length) throw new KernelInputError(`${op}: x has ${a.x.length} values, y has ${a.y.length}`);
  run(ctx, op, a.x, a.y, op);
}

export function gateActivationWebgpu(ctx: WebgpuContext, a: { x: Activations; tokens: number; features: number; activation: GateActivation; activeRows?: Uint8Array }): number {
  ctx.runtime.alive("gateActivation");
  const { tokens, features, activation, activeRows } = a;
  if (a.x.length !== tokens * features) throw new KernelInputError(`gateActivation x: has ${a.x.length} values, expected tokens·features = ${tokens * features}`);
  if (activeRows && activeRows.length !== features) throw new KernelInputError(`gateActivation activeRows: has ${activeRows.length} entries, expected ${features}`);
  if (activation !== "relu2" && activation !== "silu") throw new KernelInputError(`gateActivation activation: expected "relu2" or "silu", got ${JSON.stringify(activation)}`);
  run(ctx, activation, a.x, null, "gateActivation");
  activeRows?.fill(1);
  return -1;
}

export function copyIntoWebgpu(ctx: WebgpuContext, a: { src: Activations; dst: Activations; dstOffset: number; srcOffset?: number; length?: number }): void {
  ctx.runtime.alive("copyInto");
  const dst = ctx.inPlace(a.dst, "copyInto dst");
  const { dstOffset } = a;
  const srcOffset = a.srcOffset ?? 0;
  const length = a.length ?? a.src.length - srcOffset;
  checkCopyInto(a.src.length, dst.length, dstOffset, srcOffset, length);
  // a host source: only the slice travels
  const src = ctx.input(a.src instanceof Float32Array ? a.src.subarray(srcOffset, srcOffset + length) : a.src, "copyInto src");
  const from = a.src instanceof Float32Array ? 0 : srcOffset;
  if (src.tensor === dst) throw new KernelInputError("copyInto: src and dst are the same tensor");
  ctx.runtime.copy(src.tensor.buffer, from * 4, dst.buffer, dstOffset * 4, length * 4);
  src.done();
}
