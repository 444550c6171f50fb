/**
 * Arithmetic energy of matrix multiplications (BitNet, arXiv 2310.11453, §4 energy table after Horowitz 2014), pJ per operation at 45 nm / 7 nm.
 * A W1.58/W1 × A8 BitLinear needs only INT8 additions (the ternary "multiplications" are sign flips / skips);
 * an FP16 model needs an FP16 multiply and add per weight and token. Other ops (attention scores, norms) are the
 * same for both and are left out, as in the paper.
 */
import type { ModelSpec } from "./model-spec";
import { projectionShape } from "./tensor-names";

export const ENERGY_PJ = {
  "45nm": { fp32: { add: 0.9, mul: 3.7 }, fp16: { add: 0.4, mul: 1.1 }, int8: { add: 0.03, mul: 0.2 } },
  "7nm": { fp32: { add: 0.38, mul: 1.31 }, fp16: { add: 0.16, mul: 0.34 }, int8: { add: 0.007, mul: 0.07 } },
} as const;

export type ProcessNode = keyof typeof ENERGY_PJ;

export interface EnergyEstimate {
  node: ProcessNode;
  tokens: number;
  /** multiply–accumulates in the block projections per token */
  macsPerToken: number;
  onebitPicojoules: number;
  fp16Picojoules: number;
  /** fp16 / onebit */
  saving: number;
}

export function estimateEnergy(spec: ModelSpec, tokens = 1, node: ProcessNode = "7nm"): EnergyEstimate {
  let macs = 0;
  for (const p of ["q", "k", "v", "o", "gate", "up", "down"] as const) {
    const [out, inF] = projectionShape(spec, p);
    macs += out * inF;
  }
  macs *= spec.num_hidden_layers;
  const e = ENERGY_PJ[node];
  const fp16 = macs * tokens * (e.fp16.add + e.fp16.mul);
  // 1-bit variants: INT8 additions only; the FP baseline itself pays fp16 costs
  const onebit = spec.onebit.variant === "fp" ? fp16 : macs * tokens * e.int8.add;
  return { node, tokens, macsPerToken: macs, onebitPicojoules: onebit, fp16Picojoules: fp16, saving: fp16 / onebit };
}
