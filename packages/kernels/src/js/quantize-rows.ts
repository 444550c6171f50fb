/**
 * Per-token symmetric activation quantization — @onebit/quant's quantizeInt8 (absmax) / quantizeInt4 (absmean) with
 * granularity "row", bit for bit — plus the number of zero codes (the a4.8 sparsity measure, and the hint that
 * lets a kernel skip zeros). The reference simply calls @onebit/quant; the wasm backend runs the same arithmetic
 * in SIMD (f32x4.nearest is round-half-to-even; saturating narrows are the int8 clip).
 */
import { type EpsMode, quantizeInt4, quantizeInt8 } from "@onebit/quant";
import { KernelInputError, type QuantizedActivations } from "../backend";

export type RowQuantKind = "int8" | "int4";
export const ROW_QUANT_KINDS: readonly RowQuantKind[] = ["int8", "int4"];

export function checkQuantizeRows(x: Float32Array, tokens: number, features: number, kind: RowQuantKind): void {
  if (!ROW_QUANT_KINDS.includes(kind)) throw new KernelInputError(`quantizeRows kind: expected one of ${ROW_QUANT_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(tokens) || tokens <= 0 || !Number.isInteger(features) || features <= 0)
    throw new KernelInputError(`quantizeRows: tokens/features must be positive integers, got ${tokens}×${features}`);
  if (x.length !== tokens * features) throw new KernelInputError(`quantizeRows x: has ${x.length} elements, expected tokens·features = ${tokens * features}`);
}

export function quantizeRowsImpl(x: Float32Array, tokens: number, features: number, kind: RowQuantKind, epsMode?: EpsMode): QuantizedActivations {
  checkQuantizeRows(x, tokens, features, kind);
  const q = (kind === "int8" ? quantizeInt8 : quantizeInt4)(x, [tokens, features], { granularity: "row", epsMode });
  let zeros = 0;
  for (let i = 0; i < q.codes.length; i++) if (q.codes[i] === 0) zeros++;
  return { tokens, features, codes: q.codes, scales: q.scales, groups: 1, bits: kind === "int4" ? 4 : 8, zeros };
}
