/**
 * The quantization a BitLinear applies, by paper variant and projection (BitNet arXiv 2310.11453 §2, b1.58 arXiv 2402.17764 §2, a4.8 arXiv 2411.04965 §2).
 * Plain data: the model spec names a variant; this table says what each projection does with it.
 * Both executors (inference here, tfjs training in @onebit/train) read the same table.
 */

import { LayerSpecError } from "./layer-spec-error";

/** How a projection's weight is quantized. */
export type WeightQuant =
  | "none" // full precision (FP baseline, embeddings, LM head)
  | "binary" // BitNet: Sign(W − α), scale β = mean|W|
  | "ternary"; // b1.58: RoundClip(W/(γ+ε), −1, 1), γ = mean|W|

/** How a projection's input activation is quantized (per token in inference). */
export type ActivationQuant =
  | "none"
  | "absmax8" // BitNet absmax b-bit, b = 8
  | "int8" // b1.58 / a4.8 INT8 absmax (reference-code form by default)
  | "int4" // a4.8 INT4 absmean
  | "fp4" // a4.8 FP4 E2M1 MinMax
  | "int8-topk"; // a4.8 Top-K sparsify, then INT8

export type Variant = "fp" | "bitnet" | "b1.58" | "a4.8" | "a4.8-fp4";
export const VARIANTS: readonly Variant[] = ["fp", "bitnet", "b1.58", "a4.8", "a4.8-fp4"];

/** The seven linear projections of a LLaMA-alike block. */
export type Projection = "q" | "k" | "v" | "o" | "gate" | "up" | "down";
export const PROJECTIONS: readonly Projection[] = ["q", "k", "v", "o", "gate", "up", "down"];

export interface LinearQuant {
  weight: WeightQuant;
  activation: ActivationQuant;
  /** Fraction of activations kept per token by Top-K (only for "int8-topk"); a4.8 uses 0.5. */
  topKFraction?: number;
}

/**
 * a4.8 trains in two stages: stage 1 is W1.58A8 (every input INT8) with ReLU²GLU; stage 2 switches on the
 * hybrid INT4 + Top-K scheme. Inference of a finished a4.8 model uses stage 2.
 */
export type A48Stage = 1 | 2;

export function linearQuantFor(variant: Variant, projection: Projection, stage: A48Stage = 2): LinearQuant {
  switch (variant) {
    case "fp":
      return { weight: "none", activation: "none" };
    case "bitnet":
      return { weight: "binary", activation: "absmax8" };
    case "b1.58":
      return { weight: "ternary", activation: "int8" };
    case "a4.8":
      if (stage === 1) return { weight: "ternary", activation: "int8" };
      if (projection === "o") return { weight: "ternary", activation: "int8-topk", topKFraction: 0.5 };
      if (projection === "down") return { weight: "ternary", activation: "int8" };
      return { weight: "ternary", activation: "int4" };
    case "a4.8-fp4":
      if (stage === 1) return { weight: "ternary", activation: "int8" };
      if (projection === "down") return { weight: "ternary", activation: "int8" };
      return { weight: "ternary", activation: "fp4" };
    default:
      throw new LayerSpecError(`unknown variant "${String(variant)}"; expected one of ${VARIANTS.join(", ")}`);
  }
}
