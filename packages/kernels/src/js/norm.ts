/**
 * Reference RMSNorm / LayerNorm (no bias) with a gain, over `groups` equal groups of each row's features
 * (BitNet arXiv 2310.11453 §2.3: with model parallelism each device normalises its own shard, so no statistics
 * cross devices). RMSNorm with one group is rmsNormImpl, float32 as Hugging Face's LlamaRMSNorm; the grouped and
 * LayerNorm forms accumulate in float64 like the tfjs training graph's mean.
 *   x [tokens, features] → y [tokens, features]
 */
import { KernelInputError } from "../backend";
import { outputBuffer } from "../validate-inputs";
import { rmsNormImpl } from "./rms-norm-quantize";

export type NormKind = "rms" | "layer";

/** norm's argument checks, shared by every host implementation. */
export function checkNorm(x: Float32Array, tokens: number, features: number, gain: Float32Array, kind: NormKind, groups: number): void {
  if (kind !== "rms" && kind !== "layer") throw new KernelInputError(`norm kind: expected "rms" or "layer", got ${JSON.stringify(kind)}`);
  if (!Number.isInteger(groups) || groups < 1 || features % groups !== 0) throw new KernelInputError(`norm groups: expected a positive divisor of features ${features}, got ${groups}`);
  if (gain.length !== features) throw new KernelInputError(`norm gain: has ${gain.length} values, expected ${features}`);
  if (x.length !== tokens * features) throw new KernelInputError(`norm x: has ${x.length} values, expected tokens·features = ${tokens * features}`);
}

export function normImpl(x: Float32Array, tokens: number, features: number, gain: Float32Array, eps: number, kind: NormKind, groups = 1, out?: Float32Array): Float32Array {
  checkNorm(x, tokens, features, gain, kind, groups);
  const y = outputBuffer(out, x.length, "norm out");
  if (kind === "rms" && groups === 1) return rmsNormImpl(x, tokens, features, gain, eps, y);
  const d = features / groups;
  for (let t = 0; t < tokens; t++)
    for (let g = 0; g < groups; g++) {
      const off = t * features + g * d;
      let mean = 0;
      if (kind === "layer") {
        for (let i = 0; i < d; i++) mean += x[off + i]!;
        mean /= d;
      }
      let v = 0;
      for (let i = 0; i < d; i++) v += (x[off + i]! - mean) ** 2;
      const rs = 1 / Math.sqrt(v / d + eps);
      for (let i = 0; i < d; i++) y[off + i] = (x[off + i]! - mean) * rs * gain[g * d + i]!;
    }
  return y;
}
