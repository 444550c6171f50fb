/**
 * Piece 4's training ablations (a4.8, arXiv 2411.04965), at width 32 and the scaling runs' budget, seed 1 (the
 * analysed b1.58 and two-stage a4.8 models are the scaling piece's width-64 runs, ANALYSED_RUNS):
 * - ablations trained in one scheme from the first step (as the paper's Fig. 4 / Fig. 5 runs, which use the
 *   first-stage schedule only): the hybrid, full INT4 (Fig. 4) and the hybrid with SwiGLU instead of ReLU²GLU
 *   (Fig. 5); `--heavy` adds full FP4 (Fig. 4), and Top-K 25 % and none on o_proj's input (Table 4 compares 50 %
 *   with none, in the two-stage recipe; section 4 also swaps Top-K fractions in at inference). The W1.58A8 reference is the scaling run constant-b1.58-w32-s1 (the same config).
 */
import type { RunConfig } from "../train/train-run";
import { SCALING_BUDGET } from "./scaling-runs";

export const A48_WIDTH = 32;

export function a48Configs(heavy = false): RunConfig[] {
  const common = { width: A48_WIDTH, ...SCALING_BUDGET, lr: 5e-3, rule: "constant" as const, seed: 1 };
  const runs: RunConfig[] = [
    { id: "scratch-hybrid", variant: "a4.8", ...common, ablation: "hybrid", stage2Fraction: 1 },
    { id: "scratch-full-int4", variant: "a4.8", ...common, ablation: "full-int4", stage2Fraction: 1 },
    { id: "scratch-hybrid-swiglu", variant: "a4.8", ...common, ablation: "hybrid", stage2Fraction: 1, hiddenAct: "silu" },
  ];
  // opt-in (--heavy): the machine the report was made on was too busy for them in the time given
  if (heavy)
    runs.push(
      { id: "scratch-topk-1", variant: "a4.8", ...common, ablation: "topk-1", stage2Fraction: 1 },
      { id: "scratch-full-fp4", variant: "a4.8", ...common, ablation: "full-fp4", stage2Fraction: 1 },
      { id: "scratch-topk-0.25", variant: "a4.8", ...common, ablation: "topk-0.25", stage2Fraction: 1 },
    );
  return runs;
}
