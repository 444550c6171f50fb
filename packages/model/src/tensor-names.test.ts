import { describe, expect, it } from "vitest";
import { preset } from "./presets";
import { initWeights } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";

describe("initWeights", () => {
  const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  it("defaults: embedding std 1/√hidden, q/k/v/gate/up 0.02, o/down 0.02/√(2·layers), gains 1 — the same for every variant", () => {
    for (const variant of ["fp", "b1.58"] as const) {
      const spec = preset(variant, "tiny"); // hidden 128, 4 layers
      const w = initWeights(spec);
      expect(rms(w.get("model.embed_tokens.weight")!)).toBeCloseTo(1 / Math.sqrt(128), 2);
      expect(rms(w.get("model.layers.0.self_attn.q_proj.weight")!)).toBeCloseTo(0.02, 3);
      expect(rms(w.get("model.layers.2.mlp.up_proj.weight")!)).toBeCloseTo(0.02, 3);
      expect(rms(w.get("model.layers.1.self_attn.o_proj.weight")!)).toBeCloseTo(0.02 / Math.sqrt(8), 3);
      expect(rms(w.get("model.layers.3.mlp.down_proj.weight")!)).toBeCloseTo(0.02 / Math.sqrt(8), 3);
      expect(w.get("model.norm.weight")!.every((x) => x === 1)).toBe(true);
    }
    expect(initWeights(preset("b1.58", "tiny")).get("model.layers.0.mlp.ffn_sub_norm.weight")!.every((x) => x === 1)).toBe(true);
  });
  it("takes per-tensor options or one std for every matrix (the former behaviour); the random stream is the same", () => {
    const spec = microSpec("b1.58");
    const old = initWeights(spec, 3, { embeddingStd: 0.02, residualScale: 1 });
    const flat = initWeights(spec, 3, 0.02);
    for (const [name, a] of flat) expect(old.get(name), name).toEqual(a);
    const scaled = initWeights(spec, 3, { std: 0.04, embeddingStd: 0.5, residualScale: 0.5 });
    const o = "model.layers.1.self_attn.o_proj.weight";
    scaled.get(o)!.forEach((x, i) => expect(x).toBeCloseTo(flat.get(o)![i]!, 6));
    scaled.get("model.embed_tokens.weight")!.forEach((x, i) => expect(x).toBeCloseTo(flat.get("model.embed_tokens.weight")![i]! * 25, 5));
    expect(() => initWeights(spec, 1, { stdev: 0.1 } as never)).toThrow('initWeights: unknown option "stdev"; expected std, embeddingStd, residualScale');
    expect(() => initWeights(spec, 1, { residualScale: "gpt3" } as never)).toThrow('initWeights residualScale: expected a finite number ≥ 0 or "gpt2", got "gpt3"');
    expect(() => initWeights(spec, 1, Number.NaN)).toThrow("initWeights std: expected a finite number ≥ 0, got NaN");
  });
});
