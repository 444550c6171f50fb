/**
 * The decoder, written once. Every architecture in registry.ts is this LLaMA-alike pre-norm decoder (BitNet b1.58,
 * arXiv 2402.17764 §2; the 2B4T layout, arXiv 2504.12285 §2); what differs between them is data — which tensors are
 * present (tensor-kinds.ts), the FFN activation, whether SubLN sits before o/down, and each projection's
 * quantization (linearQuantFor in @onebit/layers). `DECODER_BLOCK` is the block structure as data and
 * `decoderForward` walks it over an executor's operations; the inference Transformer (kernels on a backend) and
 * the tfjs training graph (@onebit/train) are both `DecoderOps` implementations, so there is no second forward
 * pass to keep equal to the first.
 *
 *   x = embed(ids)                                          [rows, hidden]
 *   for each layer, for each sublayer s of DECODER_BLOCK:
 *     h = norm_s(x) → body_s(h) → (SubLN_s) → out_s(·)      [rows, hidden]
 *     x = x + h                                             (residual)
 *   logits = lm_head(norm(x))                               [rows, vocab]
 */
import type { Projection } from "@onebit/layers";
import type { ModelSpec } from "../model-spec";
import { type TensorKindId, tensorKind, tensorName } from "./tensor-kinds";

export type FfnActivation = ModelSpec["hidden_act"];

/** What a sublayer computes between its pre-norm and its output projection. */
export type SublayerBody =
  /** q, k, v projections of the normed input → RoPE → KV cache → causal grouped-query attention. */
  | { kind: "attention"; projections: readonly ["q", "k", "v"] }
  /** act(gate(x)) ⊙ up(x): ReLU²GLU or SwiGLU as the spec's hidden_act says. */
  | { kind: "gated-ffn"; projections: readonly ["gate", "up"] };

export interface Sublayer {
  name: "attention" | "ffn";
  /** The pre-norm's gain tensor (RMSNorm or LayerNorm as spec.onebit.norm says). */
  norm: TensorKindId;
  body: SublayerBody;
  /** SubLN before the output projection when spec.onebit.sub_norm (group-wise with spec.onebit.groups groups). */
  subNorm: TensorKindId;
  /** The row-parallel output projection, added to the residual stream. */
  out: Projection;
}

/** One decoder block: attention then feed-forward, each pre-normed with a residual connection. */
export const DECODER_BLOCK: readonly Sublayer[] = [
  { name: "attention", norm: "attn_norm", body: { kind: "attention", projections: ["q", "k", "v"] }, subNorm: "attn_sub_norm", out: "o" },
  { name: "ffn", norm: "ffn_norm", body: { kind: "gated-ffn", projections: ["gate", "up"] }, subNorm: "ffn_sub_norm", out: "down" },
];

/**
 * An executor's operations on its activation type T ([rows, features] for inference, [B, T, features] for
 * training). Tensor names are the canonical (Hugging Face) names, the keys of ModelWeights.
 */
export interface DecoderOps<T> {
  /** The token embedding rows of the ids being run: [rows, hidden]. */
  embed(): T;
  /** Normalisation with gain `weight` over `groups` equal groups of features (1: the whole row). */
  norm(x: T, weight: string, groups: number): T;
  /** The projections of one input (the executor may quantize a shared input once: q/k/v). */
  project(x: T, layer: number, projections: readonly Projection[]): T[];
  /** RoPE on q and k, the layer's KV cache, causal GQA: q [rows, heads·d], k/v [rows, kvHeads·d] → [rows, heads·d]. */
  attend(q: T, k: T, v: T, layer: number): T;
  /** act(gate(x)) ⊙ up(x) → [rows, intermediate] (the executor may skip up rows whose gate is zero). */
  gatedFfn(x: T, layer: number, activation: FfnActivation): T;
  /** x + branch, the residual connection closing `sublayer` of `layer`. */
  residual(x: T, branch: T, layer: number, sublayer: Sublayer["name"]): T;
  /** The LM head on the final-normed stream: [rows, vocab]. */
  logits(x: T): T;
}

/** Block tensor names built so far, by kind and layer (a decode step asks for ≈ 120). */
const blockNames = new Map<TensorKindId, string[]>();

/** The canonical name of a block tensor. */
export function blockTensorName(id: TensorKindId, layer: number): string {
  let names = blockNames.get(id);
  if (!names) {
    names = [];
    blockNames.set(id, names);
  }
  const name = names[layer] ?? tensorName(tensorKind(id), "hf", layer);
  names[layer] = name;
  return name;
}

/** Run the decoder of `spec` on an executor's operations: embed → blocks → final norm → LM head. */
export function decoderForward<T>(spec: ModelSpec, ops: DecoderOps<T>): T {
  let x = ops.embed();
  for (let layer = 0; layer < spec.num_hidden_layers; layer++)
    for (const s of DECODER_BLOCK) {
      const h = ops.norm(x, blockTensorName(s.norm, layer), 1);
      let body: T;
      if (s.body.kind === "attention") {
        const [q, k, v] = ops.project(h, layer, s.body.projections) as [T, T, T];
        body = ops.attend(q, k, v, layer);
      } else body = ops.gatedFfn(h, layer, spec.hidden_act);
      if (spec.onebit.sub_norm) body = ops.norm(body, blockTensorName(s.subNorm, layer), spec.onebit.groups);
      const [out] = ops.project(body, layer, [s.out]) as [T];
      x = ops.residual(x, out, layer, s.name);
    }
  return ops.logits(ops.norm(x, tensorName(tensorKind("output_norm"), "hf"), 1));
}
