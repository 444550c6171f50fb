/**
 * Dense weights on WebGPU (the LM head, tied embeddings, FP projections), in the three formats of js/dense.ts:
 *
 * - "f32": the weight uploaded once; y = matmulF32 on the device (reference order, see matmul-f32.ts).
 * - "int8" (W8A16): quantized once on the host by the reference's own quantizeDenseInt8Rows (codes packed four to
 *   a u32, rows padded to whole words; scales [out, blocks]). At run time the activations are quantized per token to
 *   int16 absmax on the device (s = 32767/γ and scale = γ/32767 correctly rounded, codes round-half-even), then
 *   one thread per output computes each block's exact i32 dot and the reference's float32 epilogue
 *   acc = fround(acc + fround(fround(dot)·wScale)), y = fround(acc·xScale) — bit for bit the reference.
 * - "int4" (W4A8, js/dense-int4.ts): Q4_0 blocks quantized on the host by quantizeInt4Rows (16 code bytes per block =
 *   four u32 words; d [out, blocks]); the activations quantized per (token, 32-block) to int8 on the device (a
 *   thread per block, correctly rounded s = 127/γ and scale = γ/127), then a thread per output: exact i32 block dots
 *   (|dot| < 2²⁴, so f32(dot) is exact) and the reference's four float32 lane accumulators (bit-exact).
 *
 * A weight given as a row source is quantized (or, f32, copied) a chunk of rows at a time and written into its
 * device buffer chunk by chunk (queue.writeBuffer copies at the call): the host holds one chunk, never the table.
 * denseRows dequantizes rows on the device into a new tensor (f32: a buffer copy).
 */
import { KernelInputError, type DenseFormat, type DenseWeight, type PreparedDense } from "../backend";
import type { Activations } from "../contract/tensors";
import { checkDense, denseBlockLen, forEachDenseChunk, INT4_BLOCK, quantizeDenseInt8Rows } from "../js/dense";
import { int4Plain, quantizeInt4Rows } from "../js/dense-int4";
import { checkDenseRows } from "../js/dense-rows";
import { grid, type ShaderSource } from "./gpu-runtime";
import { matmulF32Device } from "./matmul-f32";
import type { GpuBuffer } from "./webgpu-api";
import type { WebgpuContext } from "./webgpu-context";
import { OWNER, type WebgpuTensor } from "./webgpu-tensor";
import { EXACT_FLOAT_WGSL, KEEP_WGSL } from "./wgsl-exact-float";
import { REDUCE_WGSL, REDUCE_WORKGROUP } from "./wgsl-reduce";

export interface WebgpuPreparedDense extends PreparedDense {
  readonly context: WebgpuContext;
  /** f32: the weight [out, in]; int8: codes [out, ⌈in/4⌉ words]; int4: codes [out, blocks, 4 words]. */
  readonly weight: GpuBuffer;
  /** int8 / int4: float32 scales [out, blocks]. */
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

const QUANTIZE_INT8_BLOCKS: ShaderSource = {
  key: "dense:int8-blocks",
  code: /* wgsl */ `
struct Params { zero: u32, blocks: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> XQ: array<i32>;
@group(0) @binding(3) var<storage, read_write> XS: array<f32>;
${EXACT_FLOAT_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (b >= P.blocks) { return; }
  let base = b * ${INT4_BLOCK}u;
  var m = 0.0;
  for (var i = 0u; i < ${INT4_BLOCK}u; i++) { m = max(m, abs(X[base + i])); }
  // an all-zero block: codes 0, scale 0
  let s = select(0.0, div_rn(127.0, m), m > 0.0);
  XS[b] = select(0.0, div_rn(m, 127.0), m > 0.0);
  for (var i = 0u; i < ${INT4_BLOCK}u; i++) { XQ[base + i] = clamp(i32(round(X[base + i] * s)), -127, 127); }
}
`,
};

const DENSE_INT4: ShaderSource = {
  key: "dense:int4",
  code: /* wgsl */ `
struct Params { zero: u32, tokens: u32, out: u32, inF: u32, blocks: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> WQ: array<u32>;
@group(0) @binding(2) var<storage, read> WSC: array<f32>;
@group(0) @binding(3) var<storage, read> XQ: array<i32>;
@group(0) @binding(4) var<storage, read> XS: array<f32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;
${KEEP_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.tokens * P.out) { return; }
  let t = idx / P.out;
  let o = idx % P.out;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var b = 0u; b < P.blocks; b++) {
    let wb = (o * P.blocks + b) * 4u;
    let xb = t * P.inF + b * ${INT4_BLOCK}u;
    var dot = 0;
    for (var j = 0u; j < 16u; j++) {
      let byte = extractBits(WQ[wb + j / 4u], (j % 4u) * 8u, 8u);
      dot += (i32(byte & 15u) - 8) * XQ[xb + j] + (i32(byte >> 4u) - 8) * XQ[xb + 16u + j];
    }
    // |dot| <= 32*8*127 < 2^24: f32(dot) is exact
    acc[b % 4u] = acc[b % 4u] + keep(keep(f32(dot) * WSC[o * P.blocks + b]) * XS[t * P.blocks + b]);
  }
  Y[idx] = keep(acc[0] + acc[1]) + keep(acc[2] + acc[3]);
}
`,
};

/** Rows of a quantized weight, dequantized: y[r, i] = f32(q)·scale (int8: q = the byte; int4: the nibble − 8). */
const DENSE_ROWS: ShaderSource = {
  key: "dense:rows",
  code: /* wgsl */ `
struct Params { zero: u32, start: u32, n: u32, inF: u32, rowWords: u32, blockLen: u32, blocks: u32, int4: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> WQ: array<u32>;
@group(0) @binding(2) var<storage, read> WSC: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * P.gridX) * 64u + lid;
  if (idx >= P.n * P.inF) { return; }
  let o = P.start + idx / P.inF;
  let i = idx % P.inF;
  let b = i / P.blockLen;
  var q: i32;
  if (P.int4 == 1u) {
    let j = i % ${INT4_BLOCK}u;
    let byte = extractBits(WQ[(o * P.blocks + b) * 4u + (j % 16u) / 4u], (j % 4u) * 8u, 8u);
    q = i32(select(byte & 15u, byte >> 4u, j >= 16u)) - 8;
  } else {
    q = extractBits(bitcast<i32>(WQ[o * P.rowWords + i / 4u]), (i % 4u) * 8u, 8u);
  }
  Y[idx] = f32(q) * WSC[o * P.blocks + b];
}
`,
};

/** A fresh storage buffer filled chunk by chunk: write(offset in bytes, data) for each chunk, in order. */
function chunkedBuffer(ctx: WebgpuContext, bytes: number, label: string): { buffer: GpuBuffer; write(offset: number, data: ArrayBufferView): void } {
  const buffer = ctx.runtime.buffer(bytes, label);
  return {
    buffer,
    // the buffer is fresh (nothing encoded refers to it), so writing now is safe; writeBuffer copies data at the call
    write: (offset, data) => ctx.runtime.device.queue.writeBuffer(buffer, offset, data),
  };
}

export function prepareDenseWebgpu(ctx: WebgpuContext, w: DenseWeight, outFeatures: number, inFeatures: number, format: DenseFormat): WebgpuPreparedDense {
  ctx.runtime.alive("prepareDense");
  checkDense(w, outFeatures, inFeatures, format);
  const dims = { backend: OWNER, format, outFeatures, inFeatures, context: ctx };
  if (format === "f32") {
    if (w instanceof Float32Array) return { ...dims, bytes: w.byteLength, weight: ctx.runtime.upload(w, "dense f32 weight"), blockLen: inFeatures, blocks: 1 };
    const f32 = chunkedBuffer(ctx, outFeatures * inFeatures * 4, "dense f32 weight");
    forEachDenseChunk(w, outFeatures, inFeatures, (r, _n, rows) => f32.write(r * inFeatures * 4, rows));
    return { ...dims, bytes: outFeatures * inFeatures * 4, weight: f32.buffer, blockLen: inFeatures, blocks: 1 };
  }
  if (format === "int4") {
    const blocks = inFeatures / INT4_BLOCK;
    const codes = chunkedBuffer(ctx, outFeatures * blocks * 16, "dense int4 codes");
    const scales = chunkedBuffer(ctx, outFeatures * blocks * 4, "dense int4 scales");
    forEachDenseChunk(w, outFeatures, inFeatures, (r, n, rows) => {
      const c = new Uint8Array(n * blocks * 16);
      const d = new Float32Array(n * blocks);
      quantizeInt4Rows(rows, n, inFeatures, int4Plain(c, d, blocks), r);
      codes.write(r * blocks * 16, c);
      scales.write(r * blocks * 4, d);
    });
    return { ...dims, bytes: outFeatures * blocks * 20, weight: codes.buffer, scales: scales.buffer, blockLen: INT4_BLOCK, blocks };
  }
  const blockLen = denseBlockLen(inFeatures);
  const blocks = inFeatures / blockLen;
  const rowBytes = Math.ceil(inFeatures / 4) * 4;
  const codes = chunkedBuffer(ctx, outFeatures * rowBytes, "dense int8 codes");
  const scales = chunkedBuffer(ctx, outFeatures * blocks * 4, "dense int8 scales");
  forEachDenseChunk(w, outFeatures, inFeatures, (r, n, rows) => {
    const q = new Int8Array(n * inFeatures);
    const d = new Float32Array(n * blocks);
    quantizeDenseInt8Rows(rows, n, inFeatures, q, d);
    let padded = q;
    if (rowBytes !== inFeatures) {
      padded = new Int8Array(n * rowBytes);
      for (let o = 0; o < n; o++) padded.set(q.subarray(o * inFeatures, (o + 1) * inFeatures), o * rowBytes);
    }
    codes.write(r * rowBytes, padded);
    scales.write(r * blocks * 4, d);
  });
  return { ...dims, bytes: outFeatures * (rowBytes + blocks * 4), weight: codes.buffer, scales: scales.buffer, blockLen, blocks };
}

function webgpuDense(ctx: WebgpuContext, weight: PreparedDense, kernel: string): WebgpuPreparedDense {
  if (weight.backend !== OWNER) throw new KernelInputError(`${kernel}: weight was prepared by the ${weight.backend} backend, not webgpu`);
  const w = weight as WebgpuPreparedDense;
  if (w.context !== ctx) throw new KernelInputError(`${kernel}: weight was prepared by another webgpu backend instance`);
  return w;
}

export function denseWebgpu(ctx: WebgpuContext, weight: PreparedDense, xIn: Activations, tokens: number): WebgpuTensor {
  ctx.runtime.alive("dense");
  const w = webgpuDense(ctx, weight, "dense");
  if (!Number.isInteger(tokens) || tokens <= 0) throw new KernelInputError(`dense tokens: expected a positive integer, got ${tokens}`);
  if (xIn.length !== tokens * w.inFeatures) throw new KernelInputError(`dense x: has ${xIn.length} elements, expected tokens·in = ${tokens * w.inFeatures}`);
  if (xIn instanceof Float32Array)
    for (let i = 0; i < xIn.length; i++) if (!Number.isFinite(xIn[i]!)) throw new KernelInputError(`dense x: element ${i} is ${xIn[i]}; expected a finite number`);
  const x = ctx.input(xIn, "dense x");
  let y: WebgpuTensor;
  if (w.format === "f32") y = matmulF32Device(ctx, x.tensor, tokens, w.weight, w.outFeatures, w.inFeatures, "dense f32");
  else if (w.format === "int4") {
    const blocks = tokens * w.blocks;
    const xq = ctx.runtime.buffer(tokens * w.inFeatures * 4, "dense int8 block codes");
    const xs = ctx.runtime.buffer(blocks * 4, "dense int8 block scales");
    const gq = grid(Math.ceil(blocks / 64));
    ctx.runtime.dispatch(QUANTIZE_INT8_BLOCKS, [0, blocks, gq.x], [x.tensor.buffer, xq, xs], gq);
    y = ctx.output(tokens * w.outFeatures, "dense int4 output");
    const g = grid(Math.ceil((tokens * w.outFeatures) / 64));
    ctx.runtime.dispatch(DENSE_INT4, [0, tokens, w.outFeatures, w.inFeatures, w.blocks, g.x], [w.weight, w.scales!, xq, xs, y.buffer], g);
    ctx.runtime.release(xq);
    ctx.runtime.release(xs);
  } else {
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

/** Rows [start, start + count) of a prepared weight as a new device tensor [count, in] (js/dense-rows.ts's values). */
export function denseRowsWebgpu(ctx: WebgpuContext, weight: PreparedDense, start: number, count: number, out: Float32Array | undefined): WebgpuTensor {
  ctx.runtime.alive("denseRows");
  const w = webgpuDense(ctx, weight, "denseRows");
  if (out !== undefined) throw new KernelInputError("denseRows out: the webgpu backend returns a device tensor (read it with backend.read); a host array cannot be filled in place");
  checkDenseRows(w, start, count);
  const n = count * w.inFeatures;
  const y = ctx.output(n, "denseRows output");
  if (w.format === "f32") ctx.runtime.copy(w.weight, start * w.inFeatures * 4, y.buffer, 0, n * 4);
  else if (n > 0) {
    const g = grid(Math.ceil(n / 64));
    const params = [0, start, count, w.inFeatures, Math.ceil(w.inFeatures / 4), w.blockLen, w.blocks, w.format === "int4" ? 1 : 0, g.x];
    ctx.runtime.dispatch(DENSE_ROWS, params, [w.weight, w.scales!, y.buffer], g);
  }
  return y;
}
