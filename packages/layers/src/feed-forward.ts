/**
 * Gated feed-forward: ReLU²GLU (b1.58 2B4T, a4.8) or SwiGLU (LLaMA), with the optional SubLN before down_proj.
 *   ReLU²GLU(X) = (X·W_upᵀ) ⊙ ReLU²(X·W_gateᵀ)
 * The gate is computed first; the up projection only for channels whose gate output is non-zero in some token of
 * the batch (a row mask for the kernel, where it skips at least a sixteenth of the rows) — a4.8 measures ≈ 67.5 %
 * zero gate outputs at 7B. The fraction of up rows whose gate was zero in every token is reported in `skipped`.
 */
import type { Activations, Backend, PackedLinearWeight } from "@onebit/kernels";
import { BitLinear, type BitLinearSpec, forwardShared, projectionsOfOneInput, quantizeShared } from "./bit-linear";
import { LayerSpecError } from "./layer-spec-error";
import { Norm, type NormSpec } from "./norm";
import type { Workspace } from "./workspace";

export type FfnActivation = "relu2" | "silu";

export interface FeedForwardSpec {
  hidden: number;
  intermediate: number;
  activation: FfnActivation;
  gate: BitLinearSpec;
  up: BitLinearSpec;
  down: BitLinearSpec;
  /** ffn_sub_norm before down_proj, or null. */
  subNorm: NormSpec | null;
}

export interface FeedForwardWeights {
  gate: Float32Array | PackedLinearWeight;
  up: Float32Array | PackedLinearWeight;
  down: Float32Array | PackedLinearWeight;
  subNorm?: Float32Array;
}

export class FeedForward {
  readonly gate: BitLinear;
  readonly up: BitLinear;
  readonly down: BitLinear;
  readonly subNorm: Norm | null;
  /** Up-projection rows whose gate was zero in every token (their output is zero): {rows, rows total}. */
  readonly skipped = { rows: 0, total: 0 };

  constructor(
    readonly spec: FeedForwardSpec,
    weights: FeedForwardWeights,
    private readonly backend: Backend,
  ) {
    if (spec.activation !== "relu2" && spec.activation !== "silu")
      throw new LayerSpecError(`feedForward.activation: expected "relu2" or "silu", got ${JSON.stringify(spec.activation)}`);
    // SwiGLU computes every up row, so gate and up can be placed as one weight (projectionsOfOneInput: on wasm one
    // job of 2·intermediate rows a token); ReLU²GLU on a host backend computes the gate first, to skip the up rows
    // whose gate is zero
    [this.gate, this.up] =
      spec.activation === "silu"
      ? (projectionsOfOneInput([spec.gate, spec.up], [weights.gate, weights.up], backend) as [BitLinear, BitLinear])
      : [new BitLinear(spec.gate, weights.gate, backend), new BitLinear(spec.up, weights.up, backend)];
    // relu(gate)² is zero wherever the gate is not positive, and so is down_proj's input (the sub-norm keeps zeros)
    this.down = new BitLinear(spec.down, weights.down, backend, undefined, { sparseInputs: spec.activation === "relu2" });
    if (spec.subNorm && !weights.subNorm) throw new LayerSpecError("ffn_sub_norm: the spec has a sub-norm but no weight was given");
    this.subNorm = spec.subNorm ? new Norm(spec.subNorm, weights.subNorm!, backend) : null;
  }

  /** x [tokens, hidden] → [tokens, hidden]. */
  forward(x: Activations, tokens: number): Activations {
    const u = this.gated(x, tokens);
    const h = this.subNorm ? this.subNorm.forward(u, tokens) : u;
    return this.down.forward(h, tokens); // [tokens, hidden]
  }

  /**
   * The gated unit alone: x [tokens, hidden] → act(gate(x)) ⊙ up(x) [tokens, intermediate]. With a workspace (host
   * backends) the gate and up outputs go to its "ffn.gate" and "ffn.up" slots (one token's, of joined projections, to
   * "ffn.joined"): the result is in one of them, valid until the workspace's next gated call.
   */
  gated(x: Activations, tokens: number, workspace?: Workspace): Activations {
    const m = this.spec.intermediate;
    const codes = workspace && this.backend.residency === "host" ? (length: number) => workspace.i8("codes", length) : undefined;
    if (tokens === 1 && this.gate.joined && this.gate.joined === this.up.joined) {
      // placed as one weight (SwiGLU): one bitLinear, one job on wasm, for both; the token's gate and up are views
      // of the joined output ("ffn.joined"). A prompt runs them apart, on the parts of the same weight: the joined
      // output and the lookup GEMM's sums over 2·intermediate rows would take ≈ 20 MB more for a 2B4T prompt of 128
      // tokens, and it measured no faster.
      const ws = workspace && this.backend.residency === "host" ? workspace : undefined;
      const [g, u] = forwardShared([this.gate, this.up], x, tokens, undefined, codes, ws ? (length) => ws.f32("ffn.joined", length) : undefined) as [Activations, Activations];
      this.backend.gateActivation({ x: g, tokens, features: m, activation: this.spec.activation });
      this.backend.multiply({ x: u, y: g }); // u ← u ⊙ act(g)   [tokens, intermediate]
      return u;
    }
    const xq = quantizeShared([this.gate, this.up], x, tokens, codes); // gate and up read the same input
    const ws = workspace && this.backend.residency === "host" && xq ? workspace : undefined;
    const g = xq ? this.gate.forwardQuantized(xq, undefined, ws?.f32("ffn.gate", tokens * m)) : this.gate.forward(x, tokens); // [tokens, intermediate]
    // ReLU² zeros whole channels: on a host backend the gate tells which up rows are worth computing (a device
    // backend keeps the gate on the device, so it computes every row)
    const mask = this.spec.activation === "relu2" && this.backend.residency === "host" ? new Uint8Array(m) : undefined;
    const on = this.backend.gateActivation({ x: g, tokens, features: m, activation: this.spec.activation, activeRows: mask }); // g ← act(g) in place
    if (mask) {
      this.skipped.rows += m - on;
      this.skipped.total += m;
    }
    // The mask only where it skips at least a sixteenth of the rows: a masked GEMM reads it per row, and a prompt's
    // gate is rarely zero over all of its tokens (random 2B4T weights, 128 tokens: 99.6–100 % of the rows active,
    // and the up projection 4 % slower on wasm with the mask than without). The result is the same either way.
    const upMask = mask && (m - on) * 16 >= m ? mask : undefined;
    const u = xq ? this.up.forwardQuantized(xq, upMask, ws?.f32("ffn.up", tokens * m)) : this.up.forward(x, tokens, upMask); // rows with mask 0 are not computed
    this.backend.multiply({ x: u, y: g }); // u ← u ⊙ act(g)   [tokens, intermediate]
    return u;
  }
}
