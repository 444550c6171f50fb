/**
 * Reference activation quantizers of every BitLinear variant, per token (and per feature group for row-parallel
 * projections): b1.58 / a4.8 INT8 absmax, a4.8 INT4 absmean, FP4 E2M1, Top-K + INT8, and BitNet's absmax
 * (arXiv 2310.11453 Eq. 4) — bit for bit @onebit/quant, with the zero codes counted (a4.8's sparsity measure and
 * the hint that lets a kernel skip zeros).
 *   x [tokens, features] → codes [tokens, features] int8, scales [tokens, groups]
 */
import { type EpsMode, type Granularity, quantizeAbsmaxBitnet, quantizeFp4, quantizeInt4, quantizeInt8, quantizeTopKInt8 } from "@onebit/quant";
import { KernelInputError, type QuantizedActivations } from "../backend";

export type ActivationQuantizer = "int8" | "int4" | "absmax8" | "fp4" | "int8-topk";
export const ACTIVATION_QUANTIZERS: readonly ActivationQuantizer[] = ["int8", "int4", "absmax8", "fp4", "int8-topk"];

export interface QuantizeOptions {
  /** Feature groups with their own scale (G of a row-parallel weight). Default 1. */
  groups?: number;
  epsMode?: EpsMode;
  /** Fraction of each token's features Top-K keeps ("int8-topk"; a4.8 uses 0.5). */
  topKFraction?: number;
  /** Where the codes go [tokens, features] (the result's `codes` is then this array). */
  out?: Int8Array;
}

export function quantizeActivationsImpl(x: Float32Array, tokens: number, features: number, kind: ActivationQuantizer, options: QuantizeOptions = {}): QuantizedActivations {
  if (!ACTIVATION_QUANTIZERS.includes(kind)) throw new KernelInputError(`quantize kind: expected one of ${ACTIVATION_QUANTIZERS.join(", ")}, got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(tokens) || tokens <= 0 || !Number.isInteger(features) || features <= 0)
    throw new KernelInputError(`quantize: tokens/features must be positive integers, got ${tokens}×${features}`);
  if (x.length !== tokens * features) throw new KernelInputError(`quantize x: has ${x.length} elements, expected tokens·features = ${tokens * features}`);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || features % groups !== 0) throw new KernelInputError(`quantize groups: expected a positive divisor of features ${features}, got ${groups}`);
  const granularity: Granularity = groups === 1 ? "row" : { groups, axis: "row-cols" };
  const shape = [tokens, features] as const;
  const { epsMode } = options;
  const q =
    kind === "int8"
      ? quantizeInt8(x, shape, { granularity, epsMode })
      : kind === "int4"
        ? quantizeInt4(x, shape, { granularity, epsMode })
        : kind === "absmax8"
          ? quantizeAbsmaxBitnet(x, shape, { bits: 8, granularity })
          : kind === "fp4"
            ? quantizeFp4(x, shape, { granularity })
            : quantizeTopKInt8(x, shape, { granularity, epsMode, fraction: options.topKFraction ?? 0.5 });
  let zeros = 0;
  for (let i = 0; i < q.codes.length; i++) if (q.codes[i] === 0) zeros++;
  const bits = kind === "int4" || kind === "fp4" ? 4 : 8;
  const codes = quantizeOutput(options.out, q.codes);
  return { tokens, features, codes, scales: q.scales, groups, bits, zeros, sparse: kind === "int8-topk" || zeros * 2 > q.codes.length };
}

/** The codes in the caller's `out` when it gave one (checked: an Int8Array of exactly their length), else as they are. */
function quantizeOutput(out: Int8Array | undefined, codes: Int8Array): Int8Array {
  if (out === undefined) return codes;
  checkQuantizeOut(out, codes.length);
  out.set(codes);
  return out;
}

/** Throws unless `out` is an Int8Array of `length` codes. */
export function checkQuantizeOut(out: Int8Array, length: number): void {
  if (!(out instanceof Int8Array)) throw new KernelInputError(`quantize out: expected an Int8Array, got ${Object.prototype.toString.call(out)}`);
  if (out.length !== length) throw new KernelInputError(`quantize out: has ${out.length} elements, expected tokens·features = ${length}`);
}
