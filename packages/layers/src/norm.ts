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
}

export function validateNormSpec(spec: NormSpec, name = "norm"): void {
  if (spec.kind !== "rms" && spec.kind !== "layer") throw new RangeError(`${name}.kind: expected "rms" or "layer", got ${JSON.stringify(spec.kind)}`);
  if (!Number.isInteger(spec.features) || spec.features <= 0) throw new RangeError(`${name}.features: expected a positive integer, got ${spec.features}`);
  if (!(spec.eps > 0)) throw new RangeError(`${name}.eps: expected a positive number, got ${spec.eps}`);
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
    const d = this.spec.features;
    if (this.spec.kind === "rms") return rmsNormImpl(x, tokens, d, this.gain, this.spec.eps);
    const y = new Float32Array(x.length);
    for (let t = 0; t < tokens; t++) {
      let mean = 0;
      for (let i = 0; i < d; i++) mean += x[t * d + i]!;
      mean /= d;
      let v = 0;
      for (let i = 0; i < d; i++) v += (x[t * d + i]! - mean) ** 2;
      const rs = 1 / Math.sqrt(v / d + this.spec.eps);
      for (let i = 0; i < d; i++) y[t * d + i] = (x[t * d + i]! - mean) * rs * this.gain[i]!;
    }
    return y;
  }
}
