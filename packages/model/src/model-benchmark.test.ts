import { createBackend, createJsBackend } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { benchmarkModel, benchmarkModelAsync } from "./model-benchmark";
import { initWeights } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";
import { Transformer } from "./transformer";

describe("benchmarkModel", () => {
  const spec = microSpec("b1.58");
  const model = new Transformer(spec, initWeights(spec, 5, 0.2), { backend: createJsBackend() });

  it("times a prompt and each decode step, sync and awaited alike", async () => {
    for (const r of [benchmarkModel(model, { promptTokens: 6, decodeTokens: 5 }), await benchmarkModelAsync(model, { promptTokens: 6, decodeTokens: 5 })]) {
      expect(r.promptTokens).toBe(6);
      expect(r.decodeTokens).toBe(5);
      expect(r.prefillMs).toBeGreaterThan(0);
      expect(r.prefillTokensPerSecond).toBeCloseTo((6 * 1000) / r.prefillMs, 6);
      expect(r.decodeTokensPerSecond).toBeCloseTo(1000 / r.decodeMsMedian, 6);
      expect(r.residentBytes).toBeGreaterThan(0);
    }
  });

  it("decodes from an empty context on request: a fresh cache from the prompt's first token, as llama-bench -n", () => {
    const calls: Array<{ ids: number[]; cache: unknown }> = [];
    const probe = Object.create(model) as Transformer;
    probe.forward = (ids, cache) => {
      calls.push({ ids: Array.from(ids), cache });
      return model.forward(ids, cache);
    };
    const r = benchmarkModel(probe, { promptTokens: 6, decodeTokens: 3, decodeContext: "empty" });
    expect(r.decodeTokens).toBe(3);
    expect(calls.map((c) => c.ids.length)).toEqual([6, 1, 1, 1]);
    const [prefill, first, ...rest] = calls;
    expect(first!.ids).toEqual([prefill!.ids[0]]);
    expect(first!.cache).not.toBe(prefill!.cache);
    for (const c of rest) expect(c.cache).toBe(first!.cache);
    // the default continues the prompt's cache
    calls.length = 0;
    benchmarkModel(probe, { promptTokens: 6, decodeTokens: 2 });
    expect(calls.every((c) => c.cache === calls[0]!.cache)).toBe(true);
    expect(() => benchmarkModel(model, { decodeContext: "middle" as "empty" })).toThrow(/decodeContext: expected "after-prompt" or "empty", got "middle"/);
  });

  it("returns its caches to the backend's memory when it finishes, sync and awaited", async () => {
    const wasm = await createBackend("wasm", { threads: 1 });
    try {
      const m = new Transformer(spec, initWeights(spec, 5, 0.2), { backend: wasm });
      // the model's own workspace is placed on its first runs and kept: place it before counting
      benchmarkModel(m, { promptTokens: 6, decodeTokens: 3 });
      const live = new Set<unknown>();
      const { allocF32, freeF32 } = wasm;
      wasm.allocF32 = (n) => {
        const a = allocF32(n);
        live.add(a);
        return a;
      };
      wasm.freeF32 = (a) => {
        live.delete(a);
        freeF32(a);
      };
      for (const decodeContext of ["after-prompt", "empty"] as const) {
        benchmarkModel(m, { promptTokens: 6, decodeTokens: 3, decodeContext });
        expect(live.size).toBe(0);
        await benchmarkModelAsync(m, { promptTokens: 6, decodeTokens: 3, decodeContext });
        expect(live.size).toBe(0);
      }
      // a failing run too
      const failing = Object.create(m) as Transformer;
      failing.forward = () => {
        throw new Error("boom");
      };
      expect(() => benchmarkModel(failing, { promptTokens: 2, decodeTokens: 1 })).toThrow("boom");
      expect(live.size).toBe(0);
    } finally {
      wasm.dispose();
    }
  });

  it("refuses token counts that are not positive integers, naming the option", async () => {
    expect(() => benchmarkModel(model, { promptTokens: 0 })).toThrow(/promptTokens: expected a positive integer, got 0/);
    await expect(benchmarkModelAsync(model, { decodeTokens: 1.5 })).rejects.toThrow(/decodeTokens: expected a positive integer, got 1.5/);
  });
});

describe("Transformer releaseWeights", () => {
  it("empties the weights map once the backend holds them, and runs the same", async () => {
    const spec = microSpec("b1.58");
    const weights = initWeights(spec, 9, 0.2);
    const wasm = await createBackend("wasm", { threads: 1 });
    try {
      const kept = new Transformer(spec, weights, { backend: wasm });
      const released = new Transformer(spec, new Map(weights), { backend: wasm, releaseWeights: true });
      const map = new Map(weights);
      new Transformer(spec, map, { backend: wasm, releaseWeights: true });
      expect(map.size).toBe(0);
      const ids = [1, 5, 9, 13];
      expect([...released.forward(ids, released.newCache())]).toEqual([...kept.forward(ids, kept.newCache())]);
    } finally {
      wasm.dispose();
    }
  });
});
