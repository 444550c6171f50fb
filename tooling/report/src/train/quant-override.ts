/**
 * Training-time ablations of a4.8's activation scheme (arXiv 2411.04965 §3.2: Fig. 4 full INT4 / full FP4 vs the
 * hybrid, Table 4 Top-K on the attention output's input, Fig. 5 the down projection). The spec's variants fix one
 * quantizer per projection (@onebit/layers `linearQuantFor`); an ablation needs others — INT4 on every input, a
 * different Top-K fraction — so this swaps the per-projection table of one TrainableModel instance and otherwise
 * runs the same fake-quantized forward (the exported STE quantizers and matMul of @onebit/train).
 *
 * TrainableModel's `quantOverride` hook carries the table; `checkQuantTable` (run after every ablation) checks the
 * swap took effect from the measured sparsity, instead of silently training the default scheme.
 */
import type { A48Stage, LinearQuant, Projection } from "@onebit/layers";
import type { TrainableModel } from "@onebit/train";

export type QuantTable = (projection: Projection, stage: A48Stage) => LinearQuant;

export const ABLATIONS = ["hybrid", "full-int4", "full-fp4", "a8", "topk-0.25", "topk-0.5", "topk-0.75", "topk-1"] as const;
export type Ablation = (typeof ABLATIONS)[number];

/**
 * The schemes compared. Stage 1 is always W1.58A8 (the two-stage recipe, §2.2); stage 2:
 * - hybrid: INT4 absmean on attention/FFN inputs, Top-K 50 % + INT8 on o_proj's input, INT8 on down_proj's (§2.1);
 * - full-int4: INT4 absmean on every input (Fig. 4; the paper uses β = 2·mean|X| on down_proj, here the same
 *   absmean β as elsewhere — @onebit/quant's INT4 quantizer has no β knob);
 * - full-fp4: FP4 E2M1 MinMax on every input (Fig. 4);
 * - a8: INT8 everywhere (b1.58's scheme; the no-change reference);
 * - topk-f: the hybrid with Top-K fraction f on o_proj's input (topk-1: INT8 absmax without sparsification —
 *   Table 4's baseline).
 */
export function quantTable(ablation: Ablation): QuantTable {
  return (p, stage) => {
    const w = "ternary" as const;
    if (stage === 1 || ablation === "a8") return { weight: w, activation: "int8" };
    if (ablation === "full-int4") return { weight: w, activation: "int4" };
    if (ablation === "full-fp4") return { weight: w, activation: "fp4" };
    const topK = ablation === "hybrid" ? 0.5 : Number(ablation.slice("topk-".length));
    if (p === "o") return topK >= 1 ? { weight: w, activation: "int8" } : { weight: w, activation: "int8-topk", topKFraction: topK };
    if (p === "down") return { weight: w, activation: "int8" };
    return { weight: w, activation: "int4" };
  };
}

export function withQuantTable(model: TrainableModel, table: QuantTable): void {
  model.quantOverride = table;
}

/** After a stage-2 evaluation: o_proj's input sparsity must be at least 1 − K when Top-K K < 1 was asked for. */
export function checkQuantTable(ablation: Ablation, sparsity: Record<string, number>): void {
  const topK = ablation === "hybrid" ? 0.5 : ablation.startsWith("topk-") ? Number(ablation.slice(5)) : 1;
  if (topK < 1 && !((sparsity.o ?? 0) >= 1 - topK - 0.02)) throw new Error(`quant-override: ${ablation} asked for Top-K ${topK} on o_proj but its input sparsity is ${sparsity.o}; the override did not take effect`);
}
