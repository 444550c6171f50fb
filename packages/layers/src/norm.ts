/**
 * RMSNorm and LayerNorm without bias (SubLN: the normalisation right before a BitLinear's activation
 * quantizer keeps Var(y) ≈ 1). Both are computed in float32, as Hugging Face's LlamaRMSNorm / BitNetRMSNorm.
 */
import { rmsNormImpl } from "@onebit/kernels";

export type NormKind = "rms" | "layer";

export interface NormSpec {
  kind: NormKind;
  features: number;
  eps: number;
  /**
   * Normalise G equal groups of features independently (BitNet group quantization: with model parallelism each
   * device normalises its own shard, so no statistics cross devices). Default 1.
   */
  groups?: number;
}

export function validateNormSpec(spec: NormSpec, name = "norm"): void {
  if (spec.kind !== "rms" && spec.kind !== "layer") throw new RangeError(`${name}.kind: expected "rms" or "layer", got ${JSON.stringify(spec.kind)}`);
  if (!Number.isInteger(spec.features) || spec.features <= 0) throw new RangeError(`${name}.features: expected a positive integer, got ${spec.features}`);
  if (!(spec.eps > 0)) throw new RangeError(`${name}.eps: expected a positive number, got ${spec.eps}`);
  const g = spec.groups ?? 1;
  if (!Number.isInteger(g) || g < 1 || spec.features % g !== 0) throw new RangeError(`${name}.groups: expected a positive integer dividing features ${spec.features}, got ${g}`);
}

export class Norm {
  constructor(
    readonly spec: NormSpec,
    readonly gain: Float32Array,
  ) {
    validateNormSpec(spec);
    if (gain.length !== spec.features) throw new RangeError(`norm gain: has ${gain.length} values, expected ${spec.features}`);
  }

  forward(x: Float32Array, tokens: number): Float32Array {
    const features = this.spec.features;
    const groups = this.spec.groups ?? 1;
    if (this.spec.kind === "rms" && groups === 1) return rmsNormImpl(x, tokens, features, this.gain, this.spec.eps);
    const d = features / groups;
    const y = new Float32Array(x.length);
    for (let t = 0; t < tokens; t++)
      for (let g = 0; g < groups; g++) {
        const off = t * features + g * d;
        let mean = 0;
        if (this.spec.kind === "layer") {
          for (let i = 0; i < d; i++) mean += x[off + i]!;
          mean /= d;
        }
        let v = 0;
        for (let i = 0; i < d; i++) v += (x[off + i]! - mean) ** 2;
        const rs = 1 / Math.sqrt(v / d + this.spec.eps);
        for (let i = 0; i < d; i++) y[off + i] = (x[off + i]! - mean) * rs * this.gain[g * d + i]!;
      }
    return y;
  }
}
