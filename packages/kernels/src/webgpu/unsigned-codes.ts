/**
 * Low-bit KV caches on WebGPU (BitNet a4.8's unsigned min–max KV quantizer, arXiv 2411.04965 §2.3): the write
 * (quantizeUnsignedInto) and the read (dequantizeUnsigned) of @onebit/kv's code stream, kept in a device tensor
 * whose u32 words hold the stream's bytes little-endian (contract/kv-codes.ts) — so bit k of the stream is bit
 * k & 31 of word k >> 5 — with scales and offsets as float32 tensors. Both equal the js reference bit for bit:
 *
 * - write, one thread per group (a (token, head) of headDim values; a decode step has kvHeads of them): the min and
 *   the max by strict comparisons in index order, as @onebit/quant's scan (the first of ±0 wins; an index, not a
 *   min(), so no compiler substitutes fmin's sign rules), scale = float32(max − min) / (2^b − 1) and inv = 1/scale
 *   as correctly rounded quotients (div_rn: WGSL's division is 2.5 ulp), code = round(float32(float32(x − min)·inv))
 *   (WGSL's round() is round-half-even), clamped to [0, 2^b − 1]. Codes go into the stream a word at a time with
 *   atomicAnd / atomicOr: a group's first and last words may hold a neighbouring group's bits.
 * - read, one thread per value: the b bits at bitOffset + k·b (one or two words), then
 *   float32(float32(code·scale) + offset) with the product kept out of an FMA (keep()).
 * Scales, offsets and decoded values are written as bit patterns, so no stage flushes a subnormal; ranges whose
 * float32(max − min) is subnormal may still differ on a GPU that flushes subnormal arithmetic.
 */
import { KernelInputError } from "../backend";
import type { KernelArgs } from "../contract/kernel-table";
import { isDeviceTensor, ResidencyError } from "../contract/tensors";
import { checkUnsignedCodes } from "../js/dequantize-unsigned";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { GpuBuffer } from "./webgpu-api";
import type { WebgpuContext } from "./webgpu-context";
import { ownTensor } from "./webgpu-tensor";
import { EXACT_FLOAT_WGSL, KEEP_WGSL } from "./wgsl-exact-float";

const WRITE: ShaderSource = {
  key: "quantizeUnsignedInto",
  code: /* wgsl */ `
struct Params { zero: u32, groups: u32, groupSize: u32, bits: u32, bitOffset: u32, firstGroup: u32, gridX: u32, pad: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> C: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> SC: array<u32>;
@group(0) @binding(4) var<storage, read_write> OF: array<u32>;
${EXACT_FLOAT_WGSL}

// bits \`mask\` of word w become \`bits\` (other threads own the word's other bits)
fn put(w: u32, bits: u32, mask: u32) {
  if (mask == 0u) { return; }
  atomicAnd(&C[w], ~mask);
  atomicOr(&C[w], bits);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (g >= P.groups) { return; }
  let base = g * P.groupSize;
  var lo = 0u;
  var hi = 0u;
  for (var i = 1u; i < P.groupSize; i++) {
    let v = bitcast<f32>(X[base + i]);
    if (v < bitcast<f32>(X[base + lo])) { lo = i; }
    if (v > bitcast<f32>(X[base + hi])) { hi = i; }
  }
  let loBits = X[base + lo];
  let mn = bitcast<f32>(loBits);
  let levels = (1u << P.bits) - 1u;
  let scale = div_rn(bitcast<f32>(X[base + hi]) - mn, f32(levels));
  var inv = 0.0;
  if (scale > 0.0) { inv = div_rn(1.0, scale); }
  SC[P.firstGroup + g] = bitcast<u32>(scale);
  OF[P.firstGroup + g] = loBits;
  let first = P.bitOffset + base * P.bits;
  var w = first >> 5u;
  var acc = 0u;
  var mask = 0u;
  for (var i = 0u; i < P.groupSize; i++) {
    let at = first + i * P.bits;
    let wi = at >> 5u;
    let sh = at & 31u;
    if (wi != w) {
      put(w, acc, mask);
      w = wi;
      acc = 0u;
      mask = 0u;
    }
    let c = u32(clamp(round((bitcast<f32>(X[base + i]) - mn) * inv), 0.0, f32(levels)));
    acc = acc | (c << sh);
    mask = mask | (levels << sh);
    if (sh + P.bits > 32u) {
      // the code's high bits open the next word
      put(w, acc, mask);
      w = wi + 1u;
      acc = c >> (32u - sh);
      mask = levels >> (32u - sh);
    }
  }
  put(w, acc, mask);
}
`,
};

const READ: ShaderSource = {
  key: "dequantizeUnsigned",
  code: /* wgsl */ `
struct Params { zero: u32, n: u32, groupSize: u32, bits: u32, bitOffset: u32, firstGroup: u32, gridX: u32, pad: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> C: array<u32>;
@group(0) @binding(2) var<storage, read> SC: array<f32>;
@group(0) @binding(3) var<storage, read> OF: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<u32>;
${KEEP_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (k >= P.n) { return; }
  let at = P.bitOffset + k * P.bits;
  let w = at >> 5u;
  let sh = at & 31u;
  var c = C[w] >> sh;
  if (sh + P.bits > 32u) { c = c | (C[w + 1u] << (32u - sh)); }
  c = c & ((1u << P.bits) - 1u);
  let g = P.firstGroup + k / P.groupSize;
  Y[P.firstGroup * P.groupSize + k] = bitcast<u32>(keep(f32(c) * SC[g]) + OF[g]);
}
`,
};

/** The code stream's buffer: this backend's tensor (written in place), or host bytes uploaded for a read. */
function codeBuffer(ctx: WebgpuContext, codes: KernelArgs["dequantizeUnsigned"]["codes"], what: string, writes: boolean): { buffer: GpuBuffer; bytes: number; done(): void } {
  if (isDeviceTensor(codes)) {
    const t = ownTensor(ctx.runtime, codes, what);
    return { buffer: t.buffer, bytes: t.length * 4, done: () => {} };
  }
  if (!(codes instanceof Uint8Array)) throw new KernelInputError(`${what}: expected a Uint8Array or a webgpu tensor of codes`);
  if (writes)
    throw new ResidencyError(`${what}: got host bytes, but this kernel writes the codes in place on the webgpu device (the array would not change); keep the store in a tensor from allocF32`);
  const buffer = ctx.runtime.upload(codes, what);
  return { buffer, bytes: codes.length, done: () => ctx.runtime.release(buffer) };
}

export function quantizeUnsignedIntoWebgpu(ctx: WebgpuContext, a: KernelArgs["quantizeUnsignedInto"]): void {
  ctx.runtime.alive("quantizeUnsignedInto");
  const { groups, groupSize, bits, bitOffset } = a;
  const firstGroup = a.firstGroup ?? 0;
  const codes = codeBuffer(ctx, a.codes, "quantizeUnsignedInto codes", true);
  checkUnsignedCodes("quantizeUnsignedInto", codes.bytes, bitOffset, bits, groups, groupSize, a.scales.length, a.offsets.length, firstGroup);
  if (a.x.length !== groups * groupSize) throw new KernelInputError(`quantizeUnsignedInto x: has ${a.x.length} values, expected groups·groupSize = ${groups * groupSize}`);
  if (a.x instanceof Float32Array)
    for (let i = 0; i < a.x.length; i++) if (!Number.isFinite(a.x[i]!)) throw new KernelInputError(`quantizeUnsignedInto x: element ${i} is ${a.x[i]}; expected a finite number`);
  const scales = ctx.inPlace(a.scales, "quantizeUnsignedInto scales");
  const offsets = ctx.inPlace(a.offsets, "quantizeUnsignedInto offsets");
  if (scales === offsets) throw new KernelInputError("quantizeUnsignedInto: scales and offsets are the same tensor");
  if (groups === 0 || groupSize === 0) return;
  const x = ctx.input(a.x, "quantizeUnsignedInto x");
  const g = grid(Math.ceil(groups / 64));
  ctx.runtime.dispatch(WRITE, [0, groups, groupSize, bits, bitOffset, firstGroup, g.x, 0], [x.tensor.buffer, codes.buffer, scales.buffer, offsets.buffer], g);
  x.done();
}

export function dequantizeUnsignedWebgpu(ctx: WebgpuContext, a: KernelArgs["dequantizeUnsigned"]): void {
  ctx.runtime.alive("dequantizeUnsigned");
  const { groups, groupSize, bits, bitOffset } = a;
  const firstGroup = a.firstGroup ?? 0;
  const out = ctx.inPlace(a.out, "dequantizeUnsigned out");
  const codes = codeBuffer(ctx, a.codes, "dequantizeUnsigned codes", false);
  checkUnsignedCodes("dequantizeUnsigned", codes.bytes, bitOffset, bits, groups, groupSize, a.scales.length, a.offsets.length, firstGroup, { name: "out", length: out.length });
  if (codes.buffer === out.buffer) throw new KernelInputError("dequantizeUnsigned: codes and out are the same tensor");
  const n = groups * groupSize;
  if (n === 0) {
    codes.done();
    return;
  }
  const scales = ctx.input(a.scales, "dequantizeUnsigned scales");
  const offsets = ctx.input(a.offsets, "dequantizeUnsigned offsets");
  const g = grid(Math.ceil(n / 64));
  ctx.runtime.dispatch(READ, [0, n, groupSize, bits, bitOffset, firstGroup, g.x, 0], [codes.buffer, scales.tensor.buffer, offsets.tensor.buffer, out.buffer], g);
  codes.done();
  scales.done();
  offsets.done();
}
