/**
 * The 1-bit gap of one (rule, variant, width) point over seeds: each seed's perplexity ratio against the fp run of
 * the same seed — same initialisation seed and the same batch order (trainLoop's seed), so pairing takes the data
 * order's share of the noise out of the gap — then mean, sample std and range over the pairs.
 */
import type { Variant } from "@onebit/layers";
import { scalingRunId } from "../pieces/scaling-runs";
import { type SeedStats, seedStats } from "../stats";
import type { LrRule } from "../train/train-run";
import type { TrainingResults } from "../train/training-piece";

export const MAX_SEED = 5;

export function pairedGap(r: TrainingResults, rule: LrRule, variant: Variant, width: number): SeedStats {
  return pairedRatio(r, (seed) => scalingRunId(rule, variant, width, seed), (seed) => scalingRunId(rule, "fp", width, seed));
}

/** The same over any two families of runs named by seed: perplexity of `of` ÷ that of `against`, minus 1. */
export function pairedRatio(r: TrainingResults, of: (seed: number) => string, against: (seed: number) => string): SeedStats {
  const gaps: number[] = [];
  for (let seed = 1; seed <= MAX_SEED; seed++) {
    const a = r.runs[of(seed)];
    const b = r.runs[against(seed)];
    if (a && b && a.divergedAtStep === undefined && b.divergedAtStep === undefined) gaps.push(a.validationPerplexity / b.validationPerplexity - 1);
  }
  return seedStats(gaps);
}
