/**
 * Reference element-wise kernels of a decoder block: the residual add, the gated FFN's activation and product
 * (ReLU²GLU, a4.8 arXiv 2411.04965 §2; SwiGLU, LLaMA), and a row copy (a KV cache write).
 */
import { KernelInputError } from "../backend";
import { siluf } from "./expf";

export type GateActivation = "relu2" | "silu";

/** x ← x + y (in place). */
export function addImpl(x: Float32Array, y: Float32Array): void {
  if (x.length !== y.length) throw new KernelInputError(`add: x has ${x.length} values, y has ${y.length}`);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
}

/**
 * The index of x's first NaN or ±∞, or −1 when every value is finite: the check a model makes on its residual stream
 * after each sublayer. x − x is 0 for a finite x and NaN otherwise; four sums keep the adds independent, and only a
 * non-zero total pays for the scan that finds the index.
 */
export function firstNonFiniteImpl(x: Float32Array): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const n4 = x.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    a0 += x[i]! - x[i]!;
    a1 += x[i + 1]! - x[i + 1]!;
    a2 += x[i + 2]! - x[i + 2]!;
    a3 += x[i + 3]! - x[i + 3]!;
  }
  for (let i = n4; i < x.length; i++) a0 += x[i]! - x[i]!;
  if (a0 + a1 + a2 + a3 === 0) return -1;
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

/** x ← x ⊙ y (in place). */
export function multiplyImpl(x: Float32Array, y: Float32Array): void {
  if (x.length !== y.length) throw new KernelInputError(`multiply: x has ${x.length} values, y has ${y.length}`);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * y[i]!;
}

/** gateActivation's argument checks, shared by every host implementation. */
export function checkGateActivation(x: Float32Array, tokens: number, features: number, activation: GateActivation, activeRows?: Uint8Array): void {
  if (x.length !== tokens * features) throw new KernelInputError(`gateActivation x: has ${x.length} values, expected tokens·features = ${tokens * features}`);
  if (activeRows && activeRows.length !== features) throw new KernelInputError(`gateActivation activeRows: has ${activeRows.length} entries, expected ${features}`);
  if (activation !== "relu2" && activation !== "silu") throw new KernelInputError(`gateActivation activation: expected "relu2" or "silu", got ${JSON.stringify(activation)}`);
}

/**
 * x [tokens, features] ← act(x) in place: ReLU²(x) = max(x, 0)² or SiLU(x) = x / (1 + e^−x), in float32 with e^x from
 * expf (js/expf.ts), so SIMD kernels can give the same bits. With `activeRows` (length features), ReLU² also marks
 * the features that are non-zero in some token — the up projection's rows worth computing (a4.8 measures ≈ 67.5 %
 * zero gate outputs at 7B); their count is returned (−1 without it).
 */
export function gateActivationImpl(x: Float32Array, tokens: number, features: number, activation: GateActivation, activeRows?: Uint8Array): number {
  checkGateActivation(x, tokens, features, activation, activeRows);
  if (activation === "relu2") {
    activeRows?.fill(0);
    for (let i = 0; i < x.length; i++) {
      const r = Math.max(x[i]!, 0);
      x[i] = r * r;
      if (activeRows && r > 0) activeRows[i % features] = 1;
    }
  } else {
    for (let i = 0; i < x.length; i++) x[i] = siluf(x[i]!);
    activeRows?.fill(1);
  }
  if (!activeRows) return -1;
  let on = 0;
  for (let i = 0; i < features; i++) on += activeRows[i]!;
  return on;
}

/** dst[dstOffset .. dstOffset + length) ← src[srcOffset .. srcOffset + length). */
export function copyIntoImpl(src: Float32Array, dst: Float32Array, dstOffset: number, srcOffset = 0, length = src.length - srcOffset): void {
  checkCopyInto(src.length, dst.length, dstOffset, srcOffset, length);
  dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
}

/** copyInto's ranges: [srcOffset, srcOffset + length) inside the source, [dstOffset, dstOffset + length) inside the destination. */
export function checkCopyInto(srcLength: number, dstLength: number, dstOffset: number, srcOffset: number, length: number): void {
  if (!Number.isInteger(srcOffset) || srcOffset < 0 || !Number.isInteger(length) || length < 0 || srcOffset + length > srcLength)
    throw new KernelInputError(`copyInto: ${length} values from offset ${srcOffset} are not inside a source of ${srcLength}`);
  if (!Number.isInteger(dstOffset) || dstOffset < 0 || dstOffset + length > dstLength)
    throw new KernelInputError(`copyInto: ${length} values at offset ${dstOffset} do not fit a destination of ${dstLength}`);
}
