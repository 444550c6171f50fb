/**
 * Piece 1 (and the one-budget comparison of piece 5): perplexity against width for fp, BitNet b1.58, BitNet and
 * a4.8 at one token budget, under two learning-rate rules — the papers' (one rate for every size, higher for
 * 1-bit than fp: b1.58 arXiv 2402.17764 §2 / 2B4T arXiv 2504.12285 Table 2 use 1.5e-3 → 1e-3 at 700M and lower rates for
 * larger models) and μP's (hidden matrices ∝ 1/width, arXiv 2203.03466). Base rates are the acceptance run's,
 * tuned at width 128 (BENCHMARKS.md "Training": fp 3e-3, 1-bit 5e-3), so at width 128 both rules are one run.
 */
import type { Variant } from "@onebit/layers";
import type { LrRule, RunConfig } from "../train/train-run";

export const SCALING_BUDGET = { steps: 200, batchSize: 8, seqLen: 64, evalEvery: 50, evalBatches: 8 } as const;
export const BASE_WIDTH = 128;
export const SCALING_WIDTHS = [32, 64, 128] as const;
export const HEAVY_WIDTHS = [256] as const;

export function baseLr(variant: Variant): number {
  return variant === "fp" ? 3e-3 : 5e-3;
}

export function scalingRunId(rule: LrRule, variant: Variant, width: number, seed: number): string {
  // at the base width the μP multiplier is 1: the same run serves both rules
  return `${width === BASE_WIDTH ? "constant" : rule}-${variant}-w${width}-s${seed}`;
}

function config(rule: LrRule, variant: Variant, width: number, seed: number): RunConfig {
  return { id: scalingRunId(rule, variant, width, seed), variant, width, ...SCALING_BUDGET, lr: baseLr(variant), rule, baseWidth: BASE_WIDTH, seed };
}

/**
 * Learning-rate probes beside the two rules: the width-128 b1.58 model at half its rate — the data of the two
 * rules suggested the 1-bit model's best rate falls faster with width than fp's (section 1's findings).
 */
export function lrProbeConfigs(): RunConfig[] {
  return [{ ...config("constant", "b1.58", 128, 1), id: "probe-b1.58-w128-lr2.5e-3-s1", lr: 2.5e-3 }];
}

/** Runs whose trained model piece 4 analyses on the inference engine (a48-inference.ts). */
export const ANALYSED_RUNS = [scalingRunId("constant", "b1.58", 64, 1), scalingRunId("constant", "a4.8", 64, 1)];

/**
 * The default runs — what the committed results hold: seed 1 of fp and b1.58 at every width under both rules,
 * a4.8 at width 64 (analysed in section 4), BitNet at width 32. The machine the report was made on was shared and slow (≈ 100 tok/s per training
 * process instead of ≈ 1300 idle), so everything else is opt-in: `--heavy` adds seeds 2 and 3, BitNet and a4.8
 * at every width, and width 256.
 */
export function scalingConfigs(heavy = false): RunConfig[] {
  const out: RunConfig[] = [];
  const add = (c: RunConfig) => {
    if (out.some((o) => o.id === c.id)) return;
    out.push(ANALYSED_RUNS.includes(c.id) ? { ...c, inferenceAnalysis: true } : c);
  };
  for (const w of [128, 64, 32]) for (const v of ["fp", "b1.58"] as Variant[]) for (const rule of ["constant", "mup"] as LrRule[]) add(config(rule, v, w, 1));
  add(config("constant", "a4.8", 64, 1));
  add(config("constant", "bitnet", 32, 1));
  for (const c of lrProbeConfigs()) add(c);
  if (heavy) {
    for (const w of [32, 64, 128]) for (const seed of [2, 3]) for (const rule of ["constant", "mup"] as LrRule[]) for (const v of ["fp", "b1.58"] as Variant[]) add(config(rule, v, w, seed));
    for (const w of SCALING_WIDTHS) for (const v of ["bitnet", "a4.8"] as Variant[]) add(config("constant", v, w, 1));
    for (const w of HEAVY_WIDTHS) for (const rule of ["constant", "mup"] as LrRule[]) for (const v of ["fp", "b1.58"] as Variant[]) add(config(rule, v, w, 1));
    for (const seed of [2, 3]) for (const w of SCALING_WIDTHS) for (const v of ["bitnet", "a4.8"] as Variant[]) add(config("constant", v, w, seed));
  }
  return out;
}
