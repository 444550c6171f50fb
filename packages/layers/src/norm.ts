/**
 * RMSNorm and LayerNorm without bias (SubLN: the normalisation right before a BitLinear's activation
 * quantizer keeps Var(y) ≈ 1, BitNet arXiv 2310.11453 §2.2), as the backend's `norm` kernel computes them — in
 * float32 as Hugging Face's LlamaRMSNorm / BitNetRMSNorm for one group.
 */
import type { Activations, Backend } from "@onebit/kernels";
import { LayerSpecError } from "./layer-spec-error";

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
  if (spec.kind !== "rms" && spec.kind !== "layer") throw new LayerSpecError(`${name}.kind: expected "rms" or "layer", got ${JSON.stringify(spec.kind)}`);
  if (!Number.isInteger(spec.features) || spec.features <= 0) throw new LayerSpecError(`${name}.features: expected a positive integer, got ${spec.features}`);
  if (!(spec.eps > 0)) throw new LayerSpecError(`${name}.eps: expected a positive number, got ${spec.eps}`);
  const g = spec.groups ?? 1;
  if (!Number.isInteger(g) || g < 1 || spec.features % g !== 0) throw new LayerSpecError(`${name}.groups: expected a positive integer dividing features ${spec.features}, got ${g}`);
}

export class Norm {
  /**
   * The gain [features]. On a host backend it is copied once into the backend's own memory (`allocF32`), which the
   * wasm kernels read in place: a gain from anywhere else is copied into wasm memory at every call (a 2B4T decode
   * step runs 121 norms of 2560 or 6912 values).
   */
  readonly gain: Float32Array;

  constructor(
    readonly spec: NormSpec,
    gain: Float32Array,
    private readonly backend: Backend,
  ) {
    validateNormSpec(spec);
    if (gain.length !== spec.features) throw new LayerSpecError(`norm gain: has ${gain.length} values, expected ${spec.features}`);
    this.gain = gain;
    if (backend.residency === "host") {
      const placed = backend.allocF32(gain.length);
      if (!(placed instanceof Float32Array)) throw new LayerSpecError(`norm gain: the host backend ${backend.name} allocated a ${Object.prototype.toString.call(placed)}, not a Float32Array`);
      placed.set(gain);
      this.gain = placed;
    }
  }

  /** x [tokens, features] → a new normalised tensor, or `out` [tokens, features] (host backends) filled. */
  forward(x: Activations, tokens: number, out?: Float32Array): Activations {
    const { kind, features, eps, groups = 1 } = this.spec;
    return this.backend.norm({ x, tokens, features, gain: this.gain, eps, kind, groups, out: this.backend.residency === "host" ? out : undefined });
  }
}
