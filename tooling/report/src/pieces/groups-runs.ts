/**
 * Piece 5's group-quantization runs: BitNet's model-parallel trick (arXiv 2310.11453 §2.3) computes every
 * quantization statistic (weight mean/scale, activation absmax, sub-norm) per group of G along the axis a
 * tensor-parallel shard would own, so no statistic crosses devices. The cost is accuracy: each group's scale fits
 * fewer values. b1.58 at width 64 and the scaling budget with G = 2 and 4 (G = 1 is the scaling run
 * constant-b1.58-w64-s1, the same config otherwise), seed 1.
 */
import type { RunConfig } from "../train/train-run";
import { SCALING_BUDGET } from "./scaling-runs";

export const GROUPS_WIDTH = 64;

export function groupsConfigs(): RunConfig[] {
  return [2, 4].map((groups) => ({ id: `b1.58-w${GROUPS_WIDTH}-g${groups}-s1`, variant: "b1.58", width: GROUPS_WIDTH, ...SCALING_BUDGET, lr: 5e-3, rule: "constant", seed: 1, groups }));
}
