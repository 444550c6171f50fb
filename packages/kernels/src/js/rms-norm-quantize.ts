/**
 * Reference fused RMSNorm → per-token activation quantization (SubLN right before BitLinear's quantizer).
 * RMSNorm as Hugging Face LlamaRMSNorm computes it in float32: y = x · rsqrt(mean(x²) + ε) · gain.
 */
import { quantizeAbsmaxBitnet, quantizeInt4, quantizeInt8 } from "@onebit/quant";
import { type ActivationQuantKind, KernelInputError, type QuantizedActivations } from "../backend";

export function rmsNormImpl(x: Float32Array, tokens: number, features: number, gain: Float32Array | null, eps: number, out?: Float32Array): Float32Array {
  if (x.length !== tokens * features) throw new KernelInputError(`rmsNorm x: has ${x.length} elements, expected tokens·features = ${tokens * features}`);
  if (gain && gain.length !== features) throw new KernelInputError(`rmsNorm gain: has ${gain.length} elements, expected ${features}`);
  const y = out ?? new Float32Array(x.length);
  for (let t = 0; t < tokens; t++) {
    let ss = 0;
    for (let i = 0; i < features; i++) ss += x[t * features + i]! * x[t * features + i]!;
    const rs = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(ss / features) + eps)));
    for (let i = 0; i < features; i++) {
      const v = Math.fround(x[t * features + i]! * rs);
      y[t * features + i] = gain ? Math.fround(v * gain[i]!) : v;
    }
  }
  return y;
}

export function quantizeActivations(y: Float32Array, tokens: number, features: number, kind: ActivationQuantKind, groups = 1): QuantizedActivations {
  const granularity = groups === 1 ? ("row" as const) : { groups, axis: "row-cols" as const };
  let q: { codes: Int8Array; scales: Float32Array };
  if (kind === "int8") q = quantizeInt8(y, [tokens, features], { granularity });
  else if (kind === "int4") q = quantizeInt4(y, [tokens, features], { granularity });
  else if (kind === "absmax8") q = quantizeAbsmaxBitnet(y, [tokens, features], { bits: 8, granularity });
  else throw new KernelInputError(`quant.kind: expected "int8", "int4" or "absmax8", got ${JSON.stringify(kind)}`);
  return { tokens, features, codes: q.codes, scales: q.scales, groups, bits: kind === "int4" ? 4 : 8 };
}

export function rmsNormQuantizeImpl(
  x: Float32Array,
  tokens: number,
  features: number,
  gain: Float32Array | null,
  eps: number,
  quant: { kind: ActivationQuantKind; groups?: number },
): QuantizedActivations {
  return quantizeActivations(rmsNormImpl(x, tokens, features, gain, eps), tokens, features, quant.kind, quant.groups ?? 1);
}
