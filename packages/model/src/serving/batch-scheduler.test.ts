import { createJsBackend } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { generate } from "../generate";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { Transformer } from "../transformer";
import { BatchScheduler, SchedulerRejectedError } from "./batch-scheduler";

const spec = preset("b1.58", "tiny", { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });
const model = new Transformer(spec, initWeights(spec, 5), { backend: await createJsBackend() });
const PROMPTS = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11], [12, 13], [14, 15, 16, 17], [18, 19, 20]];
const decode = (ids: readonly number[]) => ids.map((i) => String.fromCharCode(48 + i)).join("");

async function alone(prompt: number[], options: { maxTokens: number; temperature?: number; seed?: number; topK?: number }): Promise<number[]> {
  const out: number[] = [];
  for await (const t of generate(model, prompt, { ...options, stopTokens: [0] })) out.push(t.id);
  return out;
}

describe("BatchScheduler", () => {
  it("gives every concurrent request the tokens generate() gives it alone (greedy and seeded sampling)", async () => {
    const s = new BatchScheduler(model, { parallel: 3, maxQueue: 8, stopTokens: [0], decode });
    const jobs = PROMPTS.map((p, i) => {
      const o = i % 2 ? { maxTokens: 10 + i, temperature: 0 } : { maxTokens: 12, temperature: 0.9, topK: 20, seed: i };
      return { o, p, result: s.submit({ prompt: p, ...o }) };
    });
    for (const j of jobs) {
      const r = await j.result;
      expect(r.tokens).toEqual(await alone(j.p, j.o));
      expect(r.text).toBe(decode(r.tokens));
      expect(r.finishReason).toBe(r.tokens.length === j.o.maxTokens ? "length" : "stop");
    }
    const m = s.metrics();
    expect(m).toMatchObject({ activeSlots: 0, queueDepth: 0, kvBytesInUse: 0, requestsTotal: PROMPTS.length });
    expect(m.decodeSteps).toBeGreaterThan(0);
    expect(m.tokensGenerated).toBe((await Promise.all(jobs.map((j) => j.result))).reduce((n, r) => n + r.tokens.length, 0));
  });

  it("streams text pieces and stops at a stop string", async () => {
    const s = new BatchScheduler(model, { parallel: 2, maxQueue: 2, stopTokens: [], decode });
    const full = await s.submit({ prompt: [1, 2], maxTokens: 8, temperature: 0 });
    const stop = full.text.slice(3, 5);
    const pieces: string[] = [];
    const r = await s.submit({ prompt: [1, 2], maxTokens: 8, temperature: 0, stop: [stop], onText: (p) => pieces.push(p) });
    expect(r.finishReason).toBe("stop");
    expect(r.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(pieces.join("")).toBe(r.text);
  });

  it("frees an aborted request's slot at once and refuses past a full queue", async () => {
    const s = new BatchScheduler(model, { parallel: 1, maxQueue: 1, stopTokens: [] });
    const ac = new AbortController();
    let seen = 0;
    const first = s.submit({ prompt: [1], maxTokens: 50, temperature: 0, signal: ac.signal, onToken: () => ++seen === 3 && ac.abort() });
    const second = s.submit({ prompt: [2], maxTokens: 4, temperature: 0 });
    expect(() => s.submit({ prompt: [3], maxTokens: 4 })).toThrow(SchedulerRejectedError);
    expect((await first).finishReason).toBe("abort");
    expect((await first).tokens.length).toBe(3);
    expect((await second).tokens).toEqual(await alone([2], { maxTokens: 4, temperature: 0 }));
    expect(s.metrics()).toMatchObject({ activeSlots: 0, queueDepth: 0, requestsRejected: 1 });
  });

  it("holds requests back under the KV budget and refuses one that can never fit", async () => {
    const probe = new BatchScheduler(model, { parallel: 4, maxQueue: 4 });
    const need = probe.kvBytesFor(12);
    const s = new BatchScheduler(model, { parallel: 4, maxQueue: 4, stopTokens: [], kvBudgetBytes: need * 1.5 });
    let most = 0;
    const results = [1, 2, 3].map((p) => s.submit({ prompt: [p, p], maxTokens: 10, temperature: 0, onToken: () => (most = Math.max(most, s.metrics().activeSlots)) }));
    await Promise.all(results);
    expect(most).toBe(1); // two caches would exceed the budget
    expect(() => s.submit({ prompt: [1], maxTokens: 40 })).toThrow(/KV-cache bytes .* over the budget/);
  });

  it("names invalid fields", () => {
    const s = new BatchScheduler(model, { parallel: 1, maxQueue: 1, ctx: 16 });
    expect(() => s.submit({ prompt: [], maxTokens: 1 })).toThrow("prompt: expected at least one token, found 0");
    expect(() => s.submit({ prompt: Array(16).fill(1), maxTokens: 1 })).toThrow("prompt: 16 tokens leave no room to generate in the context of 16 tokens");
    expect(() => s.submit({ prompt: [1], maxTokens: 0 })).toThrow("maxTokens: expected a positive integer, found 0");
    expect(() => s.submit({ prompt: [1], maxTokens: 1, temperature: -1 })).toThrow(/temperature: expected a number ≥ 0, got -1/);
    expect(() => s.submit({ prompt: [99], maxTokens: 1 })).toThrow("prompt[0]: expected a token id in [0, 64), found 99");
  });
});

describe("BatchScheduler callbacks", () => {
  it("ends only the request whose callback throws", async () => {
    const s = new BatchScheduler(model, { parallel: 2, maxQueue: 2, stopTokens: [] });
    const bad = s.submit({ prompt: [1], maxTokens: 6, temperature: 0, onToken: (_id, i) => {
      if (i === 2) throw new Error("socket gone");
    } });
    const good = s.submit({ prompt: [2], maxTokens: 6, temperature: 0 });
    expect(await bad).toMatchObject({ finishReason: "error", error: { message: "socket gone" } });
    expect((await good).tokens).toEqual(await alone([2], { maxTokens: 6, temperature: 0 }));
  });
});
