/**
 * f16 KV caches on WebGPU: float32 → IEEE half (encodeHalf) and back (decodeHalf), halves packed two per u32 word
 * of a device tensor (half k in bits 16·(k & 1) of word k >> 1, contract/kv-codes.ts). `shader-f16` is not there
 * on every adapter (SwiftShader has none) and pack2x16float's rounding is not pinned down by WGSL, so both
 * directions are integer bit manipulation: the encoder is @onebit/quant's floatToHalf line for line (round to
 * nearest even, subnormal halves, overflow to ±∞, NaN keeps a quiet bit), the decoder exact. Bit for bit the js
 * reference. The encoder runs one thread per destination word (a word with only one half in range keeps the other
 * half as it was), so no two threads share a word.
 */
import { KernelInputError } from "../backend";
import type { KernelArgs } from "../contract/kernel-table";
import { isDeviceTensor, ResidencyError } from "../contract/tensors";
import { checkDecodeHalf, checkEncodeHalf } from "../js/half-codes";
import { grid, type ShaderSource } from "./gpu-runtime";
import type { GpuBuffer } from "./webgpu-api";
import type { WebgpuContext } from "./webgpu-context";
import { ownTensor } from "./webgpu-tensor";

const ENCODE: ShaderSource = {
  key: "encodeHalf",
  code: /* wgsl */ `
struct Params { zero: u32, n: u32, dstOffset: u32, words: u32, gridX: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> D: array<u32>;

// @onebit/quant floatToHalf on the float32's bits
fn to_half(x: u32) -> u32 {
  let sign = (x >> 16u) & 0x8000u;
  let ex = (x >> 23u) & 0xffu;
  var mant = x & 0x7fffffu;
  if (ex == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u); }
  let e = i32(ex) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var h = mant >> shift;
    if (rest > half || (rest == half && (h & 1u) == 1u)) { h = h + 1u; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return sign | h;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (t >= P.words) { return; }
  let w = (P.dstOffset >> 1u) + t;
  var word = D[w];
  for (var b = 0u; b < 2u; b++) {
    let k = 2u * w + b;
    if (k >= P.dstOffset && k < P.dstOffset + P.n) {
      let sh = 16u * b;
      word = (word & ~(0xffffu << sh)) | (to_half(X[k - P.dstOffset]) << sh);
    }
  }
  D[w] = word;
}
`,
};

const DECODE: ShaderSource = {
  key: "decodeHalf",
  code: /* wgsl */ `
struct Params { zero: u32, n: u32, srcOffset: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> S: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;

// a half's value as float32 bits (exact; a NaN becomes the canonical quiet NaN, as the host table stores it)
fn from_half(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let ex = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (ex == 0x1fu) { return select(sign | 0x7f800000u, 0x7fc00000u, m != 0u); }
  if (ex != 0u) { return sign | ((ex + 112u) << 23u) | (m << 13u); }
  if (m == 0u) { return sign; }
  // a subnormal half m·2^-24 is a normal float32: 1.f·2^(p − 24), p the top bit of m
  let p = firstLeadingBit(m);
  return sign | ((p + 103u) << 23u) | ((m << (23u - p)) & 0x7fffffu);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (i >= P.n) { return; }
  let k = P.srcOffset + i;
  Y[i] = from_half((S[k >> 1u] >> (16u * (k & 1u))) & 0xffffu);
}
`,
};

/** Halves held by a device tensor (two per word), or a host Uint16Array uploaded for a read. */
function halfBuffer(ctx: WebgpuContext, codes: KernelArgs["decodeHalf"]["src"], what: string, writes: boolean): { buffer: GpuBuffer; halves: number; done(): void } {
  if (isDeviceTensor(codes)) {
    const t = ownTensor(ctx.runtime, codes, what);
    return { buffer: t.buffer, halves: t.length * 2, done: () => {} };
  }
  if (!(codes instanceof Uint16Array)) throw new KernelInputError(`${what}: expected a Uint16Array or a webgpu tensor of halves`);
  if (writes) throw new ResidencyError(`${what}: got a host Uint16Array, but this kernel writes the halves in place on the webgpu device (the array would not change); keep the store in a tensor from allocF32`);
  const buffer = ctx.runtime.upload(codes, what);
  return { buffer, halves: codes.length, done: () => ctx.runtime.release(buffer) };
}

export function encodeHalfWebgpu(ctx: WebgpuContext, a: KernelArgs["encodeHalf"]): void {
  ctx.runtime.alive("encodeHalf");
  const dst = halfBuffer(ctx, a.dst, "encodeHalf dst", true);
  const n = a.x.length;
  checkEncodeHalf(n, dst.halves, a.dstOffset);
  if (n === 0) return;
  const x = ctx.input(a.x, "encodeHalf x");
  const words = ((a.dstOffset + n - 1) >> 1) - (a.dstOffset >> 1) + 1;
  const g = grid(Math.ceil(words / 64));
  ctx.runtime.dispatch(ENCODE, [0, n, a.dstOffset, words, g.x, 0, 0, 0], [x.tensor.buffer, dst.buffer], g);
  x.done();
}

export function decodeHalfWebgpu(ctx: WebgpuContext, a: KernelArgs["decodeHalf"]): void {
  ctx.runtime.alive("decodeHalf");
  const out = ctx.inPlace(a.out, "decodeHalf out");
  const src = halfBuffer(ctx, a.src, "decodeHalf src", false);
  const srcOffset = a.srcOffset ?? 0;
  checkDecodeHalf(src.halves, srcOffset, a.length, out.length);
  if (src.buffer === out.buffer) throw new KernelInputError("decodeHalf: src and out are the same tensor");
  if (a.length > 0) {
    const g = grid(Math.ceil(a.length / 64));
    ctx.runtime.dispatch(DECODE, [0, a.length, srcOffset, g.x], [src.buffer, out.buffer], g);
  }
  src.done();
}
