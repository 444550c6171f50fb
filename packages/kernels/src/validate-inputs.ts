import { b1RowBytes, t2RowBytes } from "@onebit/quant";
import { KernelInputError, type PackedLinearWeight, type Quantized, type QuantizedActivations } from "./backend";

/** Quantized activations in host memory (a device backend's would have no codes here). */
export function hostQuantized(x: Quantized): QuantizedActivations {
  if ("codes" in x) return x;
  throw new KernelInputError(`activations: resident on ${x.owner}; this kernel reads host codes`);
}

export function checkWeight(w: PackedLinearWeight): void {
  const { kind, outFeatures: out, inFeatures: inF } = w;
  if (kind !== "ternary" && kind !== "binary") throw new KernelInputError(`weight.kind: expected "ternary" or "binary", got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(out) || out <= 0 || !Number.isInteger(inF) || inF <= 0)
    throw new KernelInputError(`weight: outFeatures/inFeatures must be positive integers, got ${out}×${inF}`);
  const expected = out * (kind === "ternary" ? t2RowBytes(inF) : b1RowBytes(inF));
  if (w.data.length !== expected)
    throw new KernelInputError(`weight.data: has ${w.data.length} bytes, expected ${expected} for a ${out}×${inF} ${kind === "ternary" ? "onebit-t2" : "onebit-b1"} weight`);
  const g = w.scales.length;
  if (w.scaleAxis === "tensor" ? g !== 1 : !(g >= 1)) throw new KernelInputError(`weight.scales: has ${g} scales, expected 1 for scaleAxis "tensor"`);
  if (w.scaleAxis === "out" && out % g !== 0) throw new KernelInputError(`weight.scales: ${g} groups do not divide outFeatures ${out}`);
  if (w.scaleAxis === "in" && inF % g !== 0) throw new KernelInputError(`weight.scales: ${g} groups do not divide inFeatures ${inF}`);
  if (!["tensor", "out", "in"].includes(w.scaleAxis)) throw new KernelInputError(`weight.scaleAxis: expected "tensor", "out" or "in", got ${JSON.stringify(w.scaleAxis)}`);
}

export function checkActivations(w: { inFeatures: number }, x: QuantizedActivations): void {
  if (x.features !== w.inFeatures) throw new KernelInputError(`activations.features: ${x.features} does not match the weight's inFeatures ${w.inFeatures}`);
  if (!Number.isInteger(x.tokens) || x.tokens <= 0) throw new KernelInputError(`activations.tokens: expected a positive integer, got ${x.tokens}`);
  if (x.codes.length !== x.tokens * x.features)
    throw new KernelInputError(`activations.codes: has ${x.codes.length} elements, expected tokens·features = ${x.tokens * x.features}`);
  if (!Number.isInteger(x.groups) || x.groups <= 0 || x.features % x.groups !== 0)
    throw new KernelInputError(`activations.groups: ${x.groups} must be a positive divisor of features ${x.features}`);
  if (x.scales.length !== x.tokens * x.groups)
    throw new KernelInputError(`activations.scales: has ${x.scales.length} elements, expected tokens·groups = ${x.tokens * x.groups}`);
}

export function checkMask(rowMask: Uint8Array | undefined, out: number): void {
  if (rowMask && rowMask.length !== out) throw new KernelInputError(`rowMask: has ${rowMask.length} entries, expected outFeatures ${out}`);
}

export function outputBuffer(out: Float32Array | undefined, length: number, name = "out"): Float32Array {
  if (!out) return new Float32Array(length);
  if (out.length !== length) throw new KernelInputError(`${name}: has ${out.length} elements, expected ${length}`);
  return out;
}

export function checkMatmulF32(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number): void {
  if (x.length !== tokens * inFeatures) throw new KernelInputError(`matmulF32 x: has ${x.length} elements, expected tokens·in = ${tokens * inFeatures}`);
  if (w.length !== outFeatures * inFeatures) throw new KernelInputError(`matmulF32 w: has ${w.length} elements, expected out·in = ${outFeatures * inFeatures}`);
}
