/**
 * The element-wise ops of a decoder block on the wasm backend (elementwise.wat.ts): SiLU / ReLU², the gated product,
 * the residual add and RMSNorm. Each is one stream over at most tokens·features floats, so it runs on this thread:
 * the operands are copied into scratch (padded to a multiple of 4 floats for the f32x4 loops), the kernel runs, and
 * the result is copied back. The bits are the reference's (js/elementwise.ts, js/expf.ts, js/rms-norm-quantize.ts),
 * which the conformance suite checks.
 */
import { KernelInputError } from "../backend";
import { checkGateActivation, type GateActivation } from "../js/elementwise";
import { checkRope, rotations } from "../js/rope";
import { outputBuffer } from "../validate-inputs";
import type { WasmContext } from "./context";

const pad4 = (n: number): number => (n + 3) & ~3;

/** x ← act(x) in place; ReLU² marks activeRows (features a multiple of 4: the caller borrows the reference otherwise). */
export function gateActivation(ctx: WasmContext, x: Float32Array, tokens: number, features: number, activation: GateActivation, activeRows?: Uint8Array): number {
  ctx.alive();
  checkGateActivation(x, tokens, features, activation, activeRows);
  const { heap, exports: ex } = ctx;
  const n = x.length;
  const n4 = pad4(n);
  const marking = activation === "relu2" && activeRows !== undefined;
  if (marking && features % 4 !== 0) throw new KernelInputError(`gateActivation: the wasm kernel marks active rows four features at a time; features ${features} is not a multiple of 4`);
  // scratch: [x: f32 n4][active rows: features bytes, zero-padded to 16 for sum_i8]
  const maskBytes = (features + 15) & ~15;
  const base = heap.scratch(n4 * 4 + (marking ? maskBytes : 0));
  const maskPtr = base + n4 * 4;
  const buf = heap.buffer;
  new Float32Array(buf, base, n).set(x);
  if (activation === "silu") ex.ew_silu(base, n4);
  else {
    if (marking) new Uint8Array(buf, maskPtr, maskBytes).fill(0);
    ex.ew_relu2(base, n4, features, marking ? maskPtr : 0);
  }
  x.set(new Float32Array(buf, base, n));
  if (!activeRows) return -1;
  if (activation === "silu") {
    activeRows.fill(1);
    return features;
  }
  activeRows.set(new Uint8Array(buf, maskPtr, features));
  // the marks are 0 or 1: their count is their sum
  return ex.sum_i8(maskPtr, maskBytes);
}

/** x ← x ⊙ y or x ← x + y in place. */
export function binary(ctx: WasmContext, op: "add" | "multiply", x: Float32Array, y: Float32Array): void {
  ctx.alive();
  if (x.length !== y.length) throw new KernelInputError(`${op}: x has ${x.length} values, y has ${y.length}`);
  const { heap, exports: ex } = ctx;
  const n = x.length;
  const n4 = pad4(n);
  const base = heap.scratch(n4 * 8);
  const buf = heap.buffer;
  new Float32Array(buf, base, n).set(x);
  new Float32Array(buf, base + n4 * 4, n).set(y);
  if (op === "add") ex.ew_add(base, base + n4 * 4, n4);
  else ex.ew_mul(base, base + n4 * 4, n4);
  x.set(new Float32Array(buf, base, n));
}

/** RMSNorm over one group: x [tokens, features] → a new y; the caller has checked the arguments. */
export function rmsNorm(ctx: WasmContext, x: Float32Array, tokens: number, features: number, gain: Float32Array, eps: number, out?: Float32Array): Float32Array {
  ctx.alive();
  const { heap, exports: ex } = ctx;
  const n = x.length;
  const n4 = pad4(n);
  // scratch: [x: f32 n4][y: f32 n4][gain: f32 features]
  const base = heap.scratch(n4 * 8 + features * 4);
  const buf = heap.buffer;
  new Float32Array(buf, base, n).set(x);
  new Float32Array(buf, base + n4 * 8, features).set(gain);
  ex.ew_rms_norm(base, base + n4 * 4, base + n4 * 8, tokens, features, eps);
  const y = new Float32Array(buf, base + n4 * 4, n);
  if (!out) return y.slice();
  outputBuffer(out, n, "norm out").set(y);
  return out;
}

/** RoPE in place on x [tokens, heads, headDim] in wasm, from the reference's cos/sin table (js/rope.ts): its bits. */
export function rope(ctx: WasmContext, x: Float32Array, tokens: number, heads: number, headDim: number, positions: Int32Array, theta: number, style: "half" | "interleaved"): void {
  ctx.alive();
  checkRope(x, tokens, heads, headDim, positions, style);
  const { heap, exports: ex } = ctx;
  const { cos, sin } = rotations(positions, theta, headDim);
  const inPlace = heap.owns(x);
  // scratch: [cos: f64 tokens·half][sin][x: f32, when not in place]
  const tableBytes = cos.length * 8;
  const base = heap.scratch(2 * tableBytes + (inPlace ? 0 : x.length * 4));
  const buf = heap.buffer;
  new Float64Array(buf, base, cos.length).set(cos);
  new Float64Array(buf, base + tableBytes, sin.length).set(sin);
  const xPtr = inPlace ? x.byteOffset : base + 2 * tableBytes;
  if (!inPlace) new Float32Array(buf, xPtr, x.length).set(x);
  const half = headDim / 2;
  ex.ew_rope(xPtr, tokens, heads, headDim, base, base + tableBytes, style === "half" ? 1 : 2, style === "half" ? half : 1);
  if (!inPlace) x.set(new Float32Array(buf, xPtr, x.length));
}
