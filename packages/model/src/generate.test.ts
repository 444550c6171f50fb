import { createJsBackend } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { generate } from "./generate";
import { initWeights } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";
import { Transformer } from "./transformer";

describe("generation", () => {
  it("a seed reproduces a sampled sequence", async () => {
    const spec = microSpec("b1.58");
    const m = new Transformer(spec, initWeights(spec, 11, 0.3), { backend: createJsBackend() });
    const run = async (seed: number) => {
      const out: number[] = [];
      for await (const t of generate(m, [1, 5], { maxTokens: 8, temperature: 1, topK: 20, topP: 0.9, seed, stopTokens: [] })) out.push(t.id);
      return out;
    };
    const first = await run(42);
    expect(first).toHaveLength(8);
    expect(await run(42)).toEqual(first);
  });
  it("stops at a stop token and on abort", async () => {
    const spec = microSpec("b1.58");
    const m = new Transformer(spec, initWeights(spec, 11, 0.3), { backend: createJsBackend() });
    const greedy: number[] = [];
    for await (const t of generate(m, [1], { maxTokens: 5, temperature: 0, stopTokens: [] })) greedy.push(t.id);
    const stopped: number[] = [];
    for await (const t of generate(m, [1], { maxTokens: 5, temperature: 0, stopTokens: [greedy[2]!] })) stopped.push(t.id);
    expect(stopped).toEqual(greedy.slice(0, greedy.indexOf(greedy[2]!)));
    const ac = new AbortController();
    const got: number[] = [];
    for await (const t of generate(m, [1], { maxTokens: 50, signal: ac.signal, stopTokens: [] })) {
      got.push(t.id);
      if (got.length === 3) ac.abort();
    }
    expect(got).toHaveLength(3);
  });
});
