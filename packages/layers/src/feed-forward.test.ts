/** FeedForward (ReLU²GLU, SwiGLU) against float64 on the same weights (the fp variant: no quantization). */
import { describe, expect, it } from "vitest";
import { type Projection, linearQuantFor, type Variant } from "./bitlinear-variant";
import { BitLinear } from "./bit-linear";
import { FeedForward } from "./feed-forward";
import { backend, close, floatMatmul, rng } from "./testing/float-reference";
import { Workspace } from "./workspace";

describe("FeedForward", () => {
  const r = rng(5);
  const [hidden, inter, tokens] = [16, 24, 2];
  const make = (activation: "relu2" | "silu", variant: Variant) => {
    const spec = (p: Projection, inF: number, out: number) => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor(variant, p), groups: 1, groupAxis: "out" as const, epsMode: "clamp" as const });
    const weights = {
      gate: Float32Array.from({ length: inter * hidden }, r),
      up: Float32Array.from({ length: inter * hidden }, r),
      down: Float32Array.from({ length: hidden * inter }, r),
    };
    return {
      weights,
      ffn: new FeedForward({ hidden, intermediate: inter, activation, gate: spec("gate", hidden, inter), up: spec("up", hidden, inter), down: spec("down", inter, hidden), subNorm: null }, weights, backend),
    };
  };
  it("ReLU²GLU: skipping up rows whose gate is zero changes nothing, and the skipped fraction is reported", () => {
    const { ffn, weights } = make("relu2", "fp");
    const x = Float32Array.from({ length: tokens * hidden }, r);
    const got = ffn.forward(x, tokens);
    const g = floatMatmul(x, weights.gate, tokens, inter, hidden);
    const u = floatMatmul(x, weights.up, tokens, inter, hidden);
    const h = g.map((v, i) => Math.max(0, v) ** 2 * u[i]!);
    close(got, floatMatmul(h, weights.down, tokens, hidden, inter));
    const zeroInAllTokens = Array.from({ length: inter }, (_, c) => g[c]! <= 0 && g[inter + c]! <= 0).filter(Boolean).length;
    expect(ffn.skipped).toEqual({ rows: zeroInAllTokens, total: inter });
    expect(zeroInAllTokens).toBeGreaterThan(0);
  });
  it("ReLU²GLU: the up projection takes the row mask only where it skips at least a sixteenth of the rows", () => {
    const masks: Array<Uint8Array | undefined> = [];
    const spy = new Proxy(backend, {
      get: (target, key, receiver) =>
        key === "bitLinear"
          ? (args: { rowMask?: Uint8Array }) => {
              masks.push(args.rowMask);
              return target.bitLinear(args as Parameters<typeof target.bitLinear>[0]);
            }
          : Reflect.get(target, key, receiver),
    });
    const spec = (p: Projection, inF: number, out: number) => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor("b1.58", p), groups: 1, groupAxis: "out" as const, epsMode: "clamp" as const });
    const w = () => Float32Array.from({ length: inter * hidden }, r);
    const ffn = new FeedForward({ hidden, intermediate: inter, activation: "relu2", gate: spec("gate", hidden, inter), up: spec("up", hidden, inter), down: spec("down", inter, hidden), subNorm: null }, { gate: w(), up: w(), down: w() }, spy);
    // bitLinear calls per forward: gate, up, down — the up call's mask is the second
    for (const [n, masked] of [[2, true], [64, false]] as const) {
      masks.length = 0;
      ffn.forward(Float32Array.from({ length: n * hidden }, r), n);
      expect(masks[1] !== undefined, `${n} tokens`).toBe(masked);
    }
    expect(ffn.skipped.total).toBe(2 * inter);
  });
  it("asks the backend to place down_proj for sparse inputs with ReLU² only (and a4.8's Top-K projections by their quantizer)", () => {
    const hints = new Map<number, boolean | undefined>();
    const spy = new Proxy(backend, {
      get: (target, key, receiver) =>
        key === "prepareWeight"
          ? (args: Parameters<typeof target.prepareWeight>[0]) => {
              hints.set(args.weight.inFeatures * 1000 + args.weight.outFeatures, args.sparseInputs);
              return target.prepareWeight(args);
            }
          : key === "prepareWeights"
            ? (args: Parameters<typeof target.prepareWeights>[0]) => {
                // placed together (SwiGLU's gate and up), for dense inputs
                for (const w of args.weights) hints.set(w.inFeatures * 1000 + w.outFeatures, false);
                return target.prepareWeights(args);
              }
            : Reflect.get(target, key, receiver),
    });
    const spec = (variant: Variant, p: Projection, inF: number, out: number) => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor(variant, p), groups: 1, groupAxis: "out" as const, epsMode: "clamp" as const });
    const w = () => Float32Array.from({ length: inter * hidden }, r);
    const shapes = { gate: hidden * 1000 + inter, down: inter * 1000 + hidden };
    for (const [activation, down] of [["relu2", true], ["silu", false]] as const) {
      hints.clear();
      new FeedForward({ hidden, intermediate: inter, activation, gate: spec("b1.58", "gate", hidden, inter), up: spec("b1.58", "up", hidden, inter), down: spec("b1.58", "down", inter, hidden), subNorm: null }, { gate: w(), up: w(), down: w() }, spy);
      expect(hints.get(shapes.down), activation).toBe(down);
      expect(hints.get(shapes.gate), activation).toBe(false);
    }
    // a4.8 stage 2: o_proj's input is Top-K 50 % (attention-layer.ts places o through BitLinear like any projection)
    hints.clear();
    new BitLinear(spec("a4.8", "o", hidden, hidden), Float32Array.from({ length: hidden * hidden }, r), spy);
    expect(hints.get(hidden * 1000 + hidden)).toBe(true);
  });
  it("SwiGLU on wasm: gate and up placed as one weight, one bitLinear for both a token (a prompt runs them apart), the js backend's bits, with a workspace and without", async () => {
    const { createBackend } = await import("@onebit/kernels");
    const wasm = await createBackend("wasm", { threads: 2 });
    const js = await createBackend("js");
    try {
      const [h, m] = [128, 192];
      const spec = (p: Projection, inF: number, out: number) => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor("b1.58", p), groups: 1, groupAxis: "out" as const, epsMode: "clamp" as const });
      const ffnSpec = { hidden: h, intermediate: m, activation: "silu" as const, gate: spec("gate", h, m), up: spec("up", h, m), down: spec("down", m, h), subNorm: null };
      const weights = { gate: Float32Array.from({ length: m * h }, r), up: Float32Array.from({ length: m * h }, r), down: Float32Array.from({ length: h * m }, r) };
      const want = new FeedForward(ffnSpec, weights, js);
      const got = new FeedForward(ffnSpec, weights, wasm);
      expect(got.gate.joined).toBeDefined();
      expect(got.up.joined).toBe(got.gate.joined);
      const bitLinears = () => wasm.kernels().find((k) => k.kernel === "bitLinear")!.calls.native;
      const workspace = new Workspace();
      // (the last two tokens: the joined output's views handed out again, with new values in them)
      for (const n of [1, 20, 1, 1]) {
        const x = Float32Array.from({ length: n * h }, r);
        const expected = [...(want.gated(x, n) as Float32Array)];
        const before = bitLinears();
        expect([...(got.gated(x, n) as Float32Array)], `${n} tokens`).toEqual(expected);
        expect(bitLinears() - before).toBe(n === 1 ? 1 : 2);
        expect([...(got.gated(x, n, workspace) as Float32Array)], `${n} tokens, workspace`).toEqual(expected);
        expect([...(got.forward(x, n) as Float32Array)]).toEqual([...(want.forward(x, n) as Float32Array)]);
      }
      // ReLU²GLU keeps gate and up apart (the gate's zeros select the up rows)
      const relu = new FeedForward({ ...ffnSpec, activation: "relu2" }, weights, wasm);
      expect(relu.gate.joined).toBeUndefined();
    } finally {
      wasm.dispose();
      js.dispose();
    }
  });
  it("SwiGLU: silu(gate) ⊙ up", () => {
    const { ffn, weights } = make("silu", "fp");
    const x = Float32Array.from({ length: tokens * hidden }, r);
    const g = floatMatmul(x, weights.gate, tokens, inter, hidden);
    const u = floatMatmul(x, weights.up, tokens, inter, hidden);
    const h = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]!);
    close(ffn.forward(x, tokens), floatMatmul(h, weights.down, tokens, hidden, inter));
  });
});
