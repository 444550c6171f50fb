/**
 * decoderForward is the one definition of the decoder that both executors run (the inference Transformer, the tfjs
 * training graph). A recording executor pins the exact sequence of operations it asks for, and which values flow
 * into each: every op logs `result = op(arguments)` and returns the name of its result.
 */
import type { Projection } from "@onebit/layers";
import { describe, expect, it } from "vitest";
import { preset } from "../presets";
import { type DecoderOps, decoderForward } from "./decoder-graph";

function recorder(): { ops: DecoderOps<string>; log: string[] } {
  const log: string[] = [];
  let next = 0;
  const record = (call: string, results = 1): string[] => {
    const names = Array.from({ length: results }, () => `t${next++}`);
    log.push(`${names.join(" ")} = ${call}`);
    return names;
  };
  const one = (call: string) => record(call)[0]!;
  const ops: DecoderOps<string> = {
    embed: () => one("embed()"),
    norm: (x, weight, groups) => one(`norm(${x}, ${weight}, ${groups})`),
    project: (x, layer, projections: readonly Projection[]) => record(`project(${x}, ${layer}, ${projections.join(" ")})`, projections.length),
    attend: (q, k, v, layer) => one(`attend(${q}, ${k}, ${v}, ${layer})`),
    gatedFfn: (x, layer, activation) => one(`gatedFfn(${x}, ${layer}, ${activation})`),
    residual: (x, branch, layer, sublayer) => one(`residual(${x}, ${branch}, ${layer}, ${sublayer})`),
    logits: (x) => one(`logits(${x})`),
  };
  return { ops, log };
}

const spec = (subNorm: boolean, act: "relu2" | "silu") => preset("b1.58", "tiny", { num_hidden_layers: 2, hidden_act: act, onebit: { groups: 2, sub_norm: subNorm } });

// 2 layers with SubLN (group-wise over the 2 groups) before o and down, ReLU²GLU
const WITH_SUB_NORM_RELU2 = [
  "t0 = embed()",
  "t1 = norm(t0, model.layers.0.input_layernorm.weight, 1)",
  "t2 t3 t4 = project(t1, 0, q k v)",
  "t5 = attend(t2, t3, t4, 0)",
  "t6 = norm(t5, model.layers.0.self_attn.attn_sub_norm.weight, 2)",
  "t7 = project(t6, 0, o)",
  "t8 = residual(t0, t7, 0, attention)",
  "t9 = norm(t8, model.layers.0.post_attention_layernorm.weight, 1)",
  "t10 = gatedFfn(t9, 0, relu2)",
  "t11 = norm(t10, model.layers.0.mlp.ffn_sub_norm.weight, 2)",
  "t12 = project(t11, 0, down)",
  "t13 = residual(t8, t12, 0, ffn)",
  "t14 = norm(t13, model.layers.1.input_layernorm.weight, 1)",
  "t15 t16 t17 = project(t14, 1, q k v)",
  "t18 = attend(t15, t16, t17, 1)",
  "t19 = norm(t18, model.layers.1.self_attn.attn_sub_norm.weight, 2)",
  "t20 = project(t19, 1, o)",
  "t21 = residual(t13, t20, 1, attention)",
  "t22 = norm(t21, model.layers.1.post_attention_layernorm.weight, 1)",
  "t23 = gatedFfn(t22, 1, relu2)",
  "t24 = norm(t23, model.layers.1.mlp.ffn_sub_norm.weight, 2)",
  "t25 = project(t24, 1, down)",
  "t26 = residual(t21, t25, 1, ffn)",
  "t27 = norm(t26, model.norm.weight, 1)",
  "t28 = logits(t27)",
];

// 2 layers without SubLN: o and down read the attention / FFN output directly; SwiGLU
const WITHOUT_SUB_NORM_SILU = [
  "t0 = embed()",
  "t1 = norm(t0, model.layers.0.input_layernorm.weight, 1)",
  "t2 t3 t4 = project(t1, 0, q k v)",
  "t5 = attend(t2, t3, t4, 0)",
  "t6 = project(t5, 0, o)",
  "t7 = residual(t0, t6, 0, attention)",
  "t8 = norm(t7, model.layers.0.post_attention_layernorm.weight, 1)",
  "t9 = gatedFfn(t8, 0, silu)",
  "t10 = project(t9, 0, down)",
  "t11 = residual(t7, t10, 0, ffn)",
  "t12 = norm(t11, model.layers.1.input_layernorm.weight, 1)",
  "t13 t14 t15 = project(t12, 1, q k v)",
  "t16 = attend(t13, t14, t15, 1)",
  "t17 = project(t16, 1, o)",
  "t18 = residual(t11, t17, 1, attention)",
  "t19 = norm(t18, model.layers.1.post_attention_layernorm.weight, 1)",
  "t20 = gatedFfn(t19, 1, silu)",
  "t21 = project(t20, 1, down)",
  "t22 = residual(t18, t21, 1, ffn)",
  "t23 = norm(t22, model.norm.weight, 1)",
  "t24 = logits(t23)",
];

describe("decoderForward", () => {
  it("runs embed → (pre-norm, q/k/v, attention, SubLN, o, residual; pre-norm, gated FFN, SubLN, down, residual) × layers → final norm → LM head", () => {
    const { ops, log } = recorder();
    expect(decoderForward(spec(true, "relu2"), ops)).toBe("t28");
    expect(log).toEqual(WITH_SUB_NORM_RELU2);
  });

  it("without sub_norm the output projections read the sublayer body directly", () => {
    const { ops, log } = recorder();
    expect(decoderForward(spec(false, "silu"), ops)).toBe("t24");
    expect(log).toEqual(WITHOUT_SUB_NORM_SILU);
  });

  it("passes the spec's FFN activation, and only there", () => {
    for (const [subNorm, act, expected] of [
      [true, "silu", WITH_SUB_NORM_RELU2.map((l) => l.replace(", relu2)", ", silu)"))],
      [false, "relu2", WITHOUT_SUB_NORM_SILU.map((l) => l.replace(", silu)", ", relu2)"))],
    ] as const) {
      const { ops, log } = recorder();
      decoderForward(spec(subNorm, act), ops);
      expect(log).toEqual(expected);
    }
  });
});
