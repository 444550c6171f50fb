/** Shared checks: what a foreign architecture can express of a ModelSpec (a sentence naming the mismatch, or null). */
import type { ModelSpec } from "../model-spec";

export interface Requirements {
  variant?: ModelSpec["onebit"]["variant"];
  hiddenAct?: ModelSpec["hidden_act"];
  subNorm?: boolean;
}

export function mismatch(spec: ModelSpec, need: Requirements): string | null {
  const o = spec.onebit;
  if (need.variant && o.variant !== need.variant) return `variant ${o.variant} (needs ${need.variant})`;
  if (need.hiddenAct && spec.hidden_act !== need.hiddenAct) return `hidden_act ${spec.hidden_act} (needs ${need.hiddenAct})`;
  if (need.subNorm !== undefined && o.sub_norm !== need.subNorm) return `sub_norm ${o.sub_norm} (needs ${need.subNorm})`;
  if (o.groups !== 1) return `${o.groups} quantization groups (needs one scale per tensor)`;
  if (o.norm !== "rms") return `${o.norm}norm (needs RMSNorm)`;
  if (o.rope_style !== "half") return `rope_style ${o.rope_style} (needs "half", rotate_half)`;
  return null;
}
