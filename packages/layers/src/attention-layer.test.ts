/**
 * AttentionLayer against float64 attention computed here: fp projections (no quantization), RoPE (half style, the
 * HF rotate_half convention) applied by hand, causal softmax over every earlier position, GQA.
 */
import { KvCache } from "@onebit/kv";
import { describe, expect, it } from "vitest";
import { AttentionLayer } from "./attention-layer";
import { linearQuantFor } from "./bitlinear-variant";
import { LayerSpecError } from "./layer-spec-error";
import { backend, close, floatMatmul, rng } from "./testing/float-reference";

function rope(v: number[], pos: number, d: number, theta: number): number[] {
  const half = d / 2;
  const out = v.slice();
  for (let i = 0; i < half; i++) {
    const a = pos * theta ** ((-2 * i) / d);
    out[i] = v[i]! * Math.cos(a) - v[i + half]! * Math.sin(a);
    out[i + half] = v[i + half]! * Math.cos(a) + v[i]! * Math.sin(a);
  }
  return out;
}

describe("AttentionLayer", () => {
  const [hidden, heads, kvHeads, d, tokens, theta] = [16, 4, 2, 4, 3, 10000];
  const r = rng(7);
  const fp = (inF: number, out: number) => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor("fp", "q"), groups: 1, groupAxis: "out" as const, epsMode: "clamp" as const });
  const w = { q: Float32Array.from({ length: heads * d * hidden }, r), k: Float32Array.from({ length: kvHeads * d * hidden }, r), v: Float32Array.from({ length: kvHeads * d * hidden }, r), o: Float32Array.from({ length: hidden * heads * d }, r) };
  const spec = { hidden, heads, kvHeads, headDim: d, ropeTheta: theta, ropeStyle: "half" as const, q: fp(hidden, heads * d), k: fp(hidden, kvHeads * d), v: fp(hidden, kvHeads * d), o: fp(heads * d, hidden), subNorm: null };

  it("equals float64 causal GQA attention with RoPE, prompt at once or token by token", () => {
    const layer = new AttentionLayer(spec, w, backend);
    const x = Float32Array.from({ length: tokens * hidden }, r);
    const q = floatMatmul(x, w.q, tokens, heads * d, hidden);
    const k = floatMatmul(x, w.k, tokens, kvHeads * d, hidden);
    const v = floatMatmul(x, w.v, tokens, kvHeads * d, hidden);
    const att: number[] = [];
    for (let t = 0; t < tokens; t++)
      for (let h = 0; h < heads; h++) {
        const kvh = Math.floor(h / (heads / kvHeads));
        const qh = rope(q.slice((t * heads + h) * d, (t * heads + h + 1) * d), t, d, theta);
        const scores = Array.from({ length: t + 1 }, (_, j) => {
          const kj = rope(k.slice((j * kvHeads + kvh) * d, (j * kvHeads + kvh + 1) * d), j, d, theta);
          return qh.reduce((s, qi, i) => s + qi * kj[i]!, 0) / Math.sqrt(d);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < d; i++) att.push(e.reduce((s, p, j) => s + (p / z) * v[(j * kvHeads + kvh) * d + i]!, 0));
      }
    const want = floatMatmul(att, w.o, tokens, hidden, heads * d);
    close(layer.forward(x, tokens, new KvCache({ layers: 1, kvHeads, headDim: d, maxTokens: 8 }), 0, 0), want, 1e-4);
    const cache = new KvCache({ layers: 1, kvHeads, headDim: d, maxTokens: 8 });
    const last = Array.from({ length: tokens }, (_, t) => layer.forward(x.subarray(t * hidden, (t + 1) * hidden), 1, cache, 0, t)).at(-1)!;
    close(last, want.slice((tokens - 1) * hidden), 1e-4);
  });
  it("refuses heads that kvHeads does not divide", () => {
    expect(() => new AttentionLayer({ ...spec, kvHeads: 3 }, w, backend)).toThrow(new LayerSpecError("attention.kvHeads: 3 must divide heads 4"));
  });
});
