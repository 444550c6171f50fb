/**
 * Piece 1 (and the one-budget comparison of piece 5): perplexity against width for fp, BitNet b1.58, BitNet and
 * a4.8 at one token budget, under three learning-rate rules — the papers' (one rate for every size, higher for
 * 1-bit than fp: b1.58 arXiv 2402.17764 §2 / 2B4T arXiv 2504.12285 Table 2 use 1.5e-3 → 1e-3 at 700M and lower rates for
 * larger models), μP's (hidden matrices ∝ 1/width, arXiv 2203.03466) from the same base rates, and μP with the
 * 1-bit base rate lowered to fp's ("mup-low", below). Base rates are the acceptance run's, tuned at width 128
 * (BENCHMARKS.md "Training": fp 3e-3, 1-bit 5e-3), so at width 128 the first two rules are one run.
 */
import type { Variant } from "@onebit/layers";
import type { RunLevel } from "../report-options";
import type { LrRule, RunConfig } from "../train/train-run";

export const SCALING_BUDGET = { steps: 200, batchSize: 8, seqLen: 64, evalEvery: 50, evalBatches: 8 } as const;
export const BASE_WIDTH = 128;
export const SCALING_WIDTHS = [32, 64, 128] as const;
export const HEAVY_WIDTHS = [256] as const;
export const RULES: readonly LrRule[] = ["constant", "mup", "mup-low"];
/** Seeds 2 and 3 (`--seeds`): with seed 1, three per point, the minimum for an unmarked result. */
export const EXTRA_SEEDS = [2, 3] as const;

/**
 * The base (width-128) peak rate of each variant under each rule. "mup-low" gives the 1-bit model fp's 3e-3:
 * under the first two rules the data pointed there — b1.58's best rate falls with width faster than fp's (5e-3 beats
 * μP's 1e-2 at width 64 and 2e-2 at width 32), and at width 128 the probe at 2.5e-3 beat 5e-3 by 16 % and landed
 * level with fp at 3e-3. Equal base rates (rather than the probe's 2.5e-3) make this rule "one μP recipe for both
 * models": its fp runs are the "mup" fp runs, so the gap under it differs from μP's in the 1-bit rate alone.
 */
export function baseLr(variant: Variant, rule: LrRule = "constant"): number {
  if (rule === "mup-low") return 3e-3;
  return variant === "fp" ? 3e-3 : 5e-3;
}

/** The rule whose run a (rule, variant, width) shares: runs that would train identically share one id. */
export function canonicalRule(rule: LrRule, variant: Variant, width: number): LrRule {
  let r = rule;
  if (r === "mup-low" && baseLr(variant, "mup-low") === baseLr(variant, "mup")) r = "mup"; // fp: the same base rate
  if (r === "mup" && width === BASE_WIDTH) r = "constant"; // at the base width the μP multiplier is 1
  return r;
}

export function scalingRunId(rule: LrRule, variant: Variant, width: number, seed: number): string {
  return `${canonicalRule(rule, variant, width)}-${variant}-w${width}-s${seed}`;
}

function config(rule: LrRule, variant: Variant, width: number, seed: number): RunConfig {
  const r = canonicalRule(rule, variant, width);
  return { id: scalingRunId(rule, variant, width, seed), variant, width, ...SCALING_BUDGET, lr: baseLr(variant, r), rule: r, baseWidth: BASE_WIDTH, seed };
}

/**
 * Learning-rate probes beside the rules: the width-128 b1.58 model at half its rate — the data of the first two
 * rules suggested the 1-bit model's best rate falls faster with width than fp's (section 1's findings).
 */
export function lrProbeConfigs(): RunConfig[] {
  return [{ ...config("constant", "b1.58", 128, 1), id: "probe-b1.58-w128-lr2.5e-3-s1", lr: 2.5e-3 }];
}

/**
 * The control that splits the 1-bit gap in two: fp weights in the 1-bit model's block. The project's b1.58 block is
 * 2B4T's (arXiv 2504.12285 §2: ReLU²GLU and SubLN before o_proj and down_proj), its fp block LLaMA's (SwiGLU, no
 * SubLN), so "b1.58 vs fp" changes the block and the weights together. This fp model with the b1.58 block trains
 * under μP at 3e-3 — the "mup-low" b1.58 runs' rates exactly — so b1.58 ("mup-low") against it is the quantization
 * alone, and it against fp ("mup") the block alone.
 */
export function blockControlId(width: number, seed: number): string {
  return `mup-fp-b158block-w${width}-s${seed}`;
}

export function blockControlConfig(width: number, seed: number): RunConfig {
  return { ...config("mup", "fp", width, seed), id: blockControlId(width, seed), hiddenAct: "relu2", subNorm: true };
}

/** Runs whose trained model piece 4 analyses on the inference engine (a48-inference.ts). */
export const ANALYSED_RUNS = [scalingRunId("constant", "b1.58", 64, 1), scalingRunId("constant", "a4.8", 64, 1)];

/**
 * The runs of each level. The machine the report was made on was shared and slow (≈ 100–400 tok/s per training
 * process instead of ≈ 1300 idle), so the default is small:
 * - default: seed 1 of fp and b1.58 at every width under every rule, BitNet and a4.8 at every width under the
 *   papers' rule (a4.8 at width 64 is analysed in section 4), the rate probe, the block control;
 * - `--seeds`: seeds 2 and 3 of that fp / b1.58 grid (every rule) and of the block control, so each point of
 *   figure 1 has three seeds;
 * - `--heavy`: also seeds 2 and 3 of BitNet and a4.8, and width 256.
 */
export function scalingConfigs(level: RunLevel = "default"): RunConfig[] {
  const out: RunConfig[] = [];
  const add = (c: RunConfig) => {
    if (out.some((o) => o.id === c.id)) return;
    out.push(ANALYSED_RUNS.includes(c.id) ? { ...c, inferenceAnalysis: true } : c);
  };
  const grid = (seeds: readonly number[], widths: readonly number[]) => {
    for (const seed of seeds) for (const w of widths) for (const rule of RULES) for (const v of ["fp", "b1.58"] as Variant[]) add(config(rule, v, w, seed));
  };
  grid([1], [128, 64, 32]);
  // BitNet and a4.8 at every width too (seed 1, the papers' rule): figure 1 needs ≥ 3 widths of each variant
  for (const w of SCALING_WIDTHS) for (const v of ["bitnet", "a4.8"] as Variant[]) add(config("constant", v, w, 1));
  for (const c of lrProbeConfigs()) add(c);
  for (const w of SCALING_WIDTHS) add(blockControlConfig(w, 1));
  if (level === "seeds" || level === "heavy") {
    grid(EXTRA_SEEDS, [32, 64, 128]);
    for (const seed of EXTRA_SEEDS) for (const w of SCALING_WIDTHS) add(blockControlConfig(w, seed));
  }
  if (level === "heavy") {
    grid([1], HEAVY_WIDTHS);
    for (const seed of EXTRA_SEEDS) for (const w of SCALING_WIDTHS) for (const v of ["bitnet", "a4.8"] as Variant[]) add(config("constant", v, w, seed));
  }
  return out;
}
