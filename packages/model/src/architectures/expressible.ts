/** Shared checks: what a foreign architecture can express of a ModelSpec (a sentence naming the mismatch, or null). */
import type { ModelSpec } from "../model-spec";

export interface Requirements {
  variant?: ModelSpec["onebit"]["variant"];
  hiddenAct?: ModelSpec["hidden_act"];
  subNorm?: boolean;
  /** The runtime's graph always uses the token embedding as the LM head (llama.cpp build_bitnet, bitnet.cpp build_bitnet_158). */
  tied?: boolean;
  /** The runtime quantizes activations with this ε convention (transformers' BitNet: the reference code's clamp). */
  eps?: ModelSpec["onebit"]["eps_mode"];
}

export function mismatch(spec: ModelSpec, need: Requirements): string | null {
  const o = spec.onebit;
  if (need.variant && o.variant !== need.variant) return `variant ${o.variant} (needs ${need.variant})`;
  if (need.hiddenAct && spec.hidden_act !== need.hiddenAct) return `hidden_act ${spec.hidden_act} (needs ${need.hiddenAct})`;
  if (need.subNorm !== undefined && o.sub_norm !== need.subNorm) return `sub_norm ${o.sub_norm} (needs ${need.subNorm})`;
  if (need.tied && !spec.tie_word_embeddings) return "an untied LM head (its graph always uses the token embedding as the output)";
  if (o.groups !== 1) return `${o.groups} quantization groups (needs one scale per tensor)`;
  if (o.norm !== "rms") return `${o.norm}norm (needs RMSNorm)`;
  if (need.eps && o.eps_mode !== need.eps) return `eps_mode ${o.eps_mode} (needs "${need.eps}")`;
  if (o.rope_style !== "half") return `rope_style ${o.rope_style} (needs "half", rotate_half)`;
  return null;
}
