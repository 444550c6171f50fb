/**
 * `onebit serve` in-process on port 0 with a tiny onebit checkpoint, driven by the official `openai` client:
 * temperature-0 text equals generate()'s, concurrent streams stay apart, aborted streams free their slots, and
 * every malformed request gets a 4xx in OpenAI's error shape.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBackend } from "@onebit/kernels";
import { generate, initWeights, preset, saveCheckpoint, type Tokenizer, Transformer, trainBpeTokenizer } from "@onebit/model";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelSource } from "../util/load-model";
import { type RunningServer, startServer } from "./serve";

const dir = mkdtempSync(join(tmpdir(), "onebit-serve-"));
const TEXT = "The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise and thanks of the City of Atlanta. ".repeat(4);
const API_KEY = "test-key";
const CTX = 96;

let server: RunningServer;
let model: Transformer;
let tokenizer: Tokenizer;
let client: OpenAI;
const backend = await createBackend("wasm", { threads: 1 });

beforeAll(async () => {
  const bpe = trainBpeTokenizer(TEXT, { vocabSize: 300 });
  const spec = preset("b1.58", "tiny", { vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128 });
  const weights = initWeights(spec, 11);
  // a zero EOS embedding row gives EOS a logit of 0 (tied head), below the winner: greedy replies run to max_tokens
  weights.get("model.embed_tokens.weight")!.fill(0, 2 * 64, 3 * 64);
  await saveCheckpoint(join(dir, "tiny"), { spec, weights, tokenizer: bpe.toJSON() });
  const m = await loadModelSource(join(dir, "tiny"), 1, { quiet: true });
  tokenizer = m.tokenizer!;
  model = new Transformer(m.spec, m.weights, { backend });
  server = await startServer({ model, tokenizer, modelId: "tiny", port: 0, parallel: 6, ctx: CTX, queue: 32, apiKey: API_KEY });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  backend.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function expected(ids: number[], maxTokens: number): Promise<{ text: string; tokens: number }> {
  const out: number[] = [];
  for await (const t of generate(model, ids, { temperature: 0, maxTokens, stopTokens: [...tokenizer.eosIds], vocabLimit: tokenizer.vocabSize })) out.push(t.id);
  return { text: tokenizer.decode(out), tokens: out.length };
}

async function metrics(): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.split(" ")[0]!, Number(l.split(" ")[1])]),
  );
}

async function idle(): Promise<Record<string, number>> {
  for (let i = 0; i < 100; i++) {
    const m = await metrics();
    if (m.onebit_active_slots === 0 && m.onebit_queue_depth === 0) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  return metrics();
}

const PROMPTS = ["The jury", "said in term", "the City of Atlanta", "which had over", "praise and thanks", "Executive Committee", "the election", "deserves the", "further said", "presentments that", "over-all charge", "thanks of"];

describe("onebit serve", () => {
  it("lists the model and answers /health", async () => {
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(["tiny"]);
    expect(await (await fetch(`${server.url}/health`)).json()).toMatchObject({ status: "ok", slots_idle: 6 });
  });

  it("completes like generate() at temperature 0, streaming or not", async () => {
    const want = await expected(tokenizer.encode("The jury"), 12);
    expect(want.tokens).toBe(12);
    const r = await client.completions.create({ model: "tiny", prompt: "The jury", max_tokens: 12, temperature: 0 });
    expect(r.choices[0]!.text).toBe(want.text);
    expect(r.choices[0]!.finish_reason).toBe("length");
    const promptTokens = tokenizer.encode("The jury").length;
    expect(r.usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: 12, total_tokens: promptTokens + 12 });
    const stream = await client.completions.create({ model: "tiny", prompt: "The jury", max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: unknown;
    for await (const c of stream) {
      text += c.choices[0]?.text ?? "";
      usage ??= c.usage ?? undefined;
    }
    expect(text).toBe(want.text);
    expect(usage).toMatchObject({ completion_tokens: 12 });
  });

  it("chats through the (built-in) chat template like generate() at temperature 0", async () => {
    const { encodeChat, renderChat } = await import("@onebit/model");
    const messages = [{ role: "user", content: "Who deserves the praise?" }];
    const ids = encodeChat(tokenizer, renderChat(tokenizer, messages, { addGenerationPrompt: true }).text);
    const want = await expected(ids, 10);
    const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Who deserves the praise?" }], max_tokens: 10, temperature: 0 });
    expect(r.choices[0]!.message).toMatchObject({ role: "assistant", content: want.text });
    expect(r.usage).toMatchObject({ prompt_tokens: ids.length, completion_tokens: 10 });
    let text = "";
    for await (const c of await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Who deserves the praise?" }], max_tokens: 10, temperature: 0, stream: true }))
      text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe(want.text);
  });

  it("serves 12 concurrent streaming clients, each its own text and token count", async () => {
    const before = await metrics();
    const jobs = PROMPTS.map(async (prompt, i) => {
      const maxTokens = 6 + i * 2;
      const stream = await client.completions.create({ model: "tiny", prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } });
      let text = "";
      let completion = -1;
      for await (const c of stream) {
        text += c.choices[0]?.text ?? "";
        if (c.usage) completion = c.usage.completion_tokens;
      }
      return { prompt, maxTokens, text, completion };
    });
    const got = await Promise.all(jobs);
    for (const g of got) {
      const want = await expected(tokenizer.encode(g.prompt), g.maxTokens);
      expect({ prompt: g.prompt, text: g.text, completion: g.completion }).toEqual({ prompt: g.prompt, text: want.text, completion: g.maxTokens });
    }
    const m = await idle();
    // batched: far fewer decode steps than tokens (one step per token would mean no batching at all)
    const steps = m.onebit_decode_steps_total! - before.onebit_decode_steps_total!;
    const tokens = m.onebit_tokens_generated_total! - before.onebit_tokens_generated_total!;
    expect(tokens).toBe(got.reduce((n, g) => n + g.maxTokens, 0));
    expect(steps).toBeLessThan(tokens / 3);
    expect(m.onebit_tokens_per_second!).toBeGreaterThan(0); // the 10 s window still holds these tokens
  });

  it("frees the slots of clients that disconnect mid-stream", async () => {
    const before = (await metrics())['onebit_requests_finished_total{reason="abort"}'] ?? 0;
    const runs = [0, 1, 2, 3].map(async (i) => {
      const ac = new AbortController();
      const stream = await client.completions.create({ model: "tiny", prompt: PROMPTS[i]!, max_tokens: 80, temperature: 0, stream: true }, { signal: ac.signal });
      let chunks = 0;
      try {
        for await (const _ of stream) if (++chunks === 3) ac.abort();
      } catch {
        // the client's own abort surfaces as an error
      }
      return chunks;
    });
    expect((await Promise.all(runs)).every((n) => n === 3)).toBe(true);
    const m = await idle();
    expect([m.onebit_active_slots, m.onebit_queue_depth, m.onebit_kv_bytes_in_use]).toEqual([0, 0, 0]);
    expect(m['onebit_requests_finished_total{reason="abort"}']! - before).toBe(4);
  });

  it("answers malformed requests with 4xx in OpenAI's shape", async () => {
    const post = async (path: string, body: string, key = API_KEY) => {
      const r = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body });
      return { status: r.status, body: (await r.json()) as { error: { message: string; type: string; param: string | null; code: string | null } } };
    };
    const completion = (fields: Record<string, unknown>) => post("/v1/completions", JSON.stringify({ model: "tiny", prompt: "The", ...fields }));
    const cases: Array<[Promise<{ status: number; body: { error: { message: string; param: string | null } } }>, number, RegExp, string | null]> = [
      [post("/v1/completions", '{"model": "tiny", "prompt": '), 400, /JSON/i, null],
      [post("/v1/completions", "[1, 2]"), 400, /request body: expected a JSON object/, null],
      [completion({ model: "gpt-4" }), 404, /model: "gpt-4" does not exist; this server has "tiny"/, "model"],
      [completion({ prompt: "The jury ".repeat(200) }), 400, /prompt: \d+ tokens do not fit the context of 96 tokens/, "prompt"],
      [completion({ max_tokens: "ten" }), 400, /max_tokens: expected an integer ≥ 1, found "ten"/, "max_tokens"],
      [completion({ max_tokens: 0 }), 400, /max_tokens: expected an integer ≥ 1, found 0/, "max_tokens"],
      [completion({ max_tokens: 1_000_000 }), 400, /max_tokens: 1000000 with a \d+-token prompt exceeds the context of \d+ tokens/, "max_tokens"],
      [completion({ temperature: 5 }), 400, /temperature: expected a number in \[0, 2\], found 5/, "temperature"],
      [completion({ top_p: 0 }), 400, /top_p: expected a number in \(0, 1\], found 0/, "top_p"],
      [completion({ top_p: "high" }), 400, /top_p: expected a number in \(0, 1\], found "high"/, "top_p"],
      [completion({ prompt: [1, 99999] }), 400, /prompt: expected a string or a non-empty array of token ids/, "prompt"],
      [completion({ stop: 3 }), 400, /stop: expected a string or an array of at most 4 strings/, "stop"],
      [post("/v1/chat/completions", JSON.stringify({ model: "tiny", messages: [{ role: "user", content: 5 }] })), 400, /messages\[0\]\.content: expected a string/, "messages[0].content"],
      [post("/v1/chat/completions", JSON.stringify({ model: "tiny", messages: [] })), 400, /messages: expected a non-empty array/, "messages"],
      [post("/v1/completions", JSON.stringify({ model: "tiny", prompt: "The" }), "wrong"), 401, /--api-key/, null],
      [post("/v1/nowhere", "{}"), 404, /no such endpoint/, null],
    ];
    for (const [pending, status, message, param] of cases) {
      const r = await pending;
      expect({ status: r.status, param: r.body.error.param }).toEqual({ status, param });
      expect(r.body.error.message).toMatch(message);
      expect(r.body.error).toHaveProperty("type");
      expect(r.body.error).toHaveProperty("code");
    }
    await expect(new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong", maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // the process is still serving
    expect((await client.completions.create({ model: "tiny", prompt: "The", max_tokens: 2, temperature: 0 })).usage?.completion_tokens).toBe(2);
  });

  it("answers 429 when the queue is full", async () => {
    const small = await startServer({ model, tokenizer, modelId: "tiny", port: 0, parallel: 1, ctx: CTX, queue: 0 });
    try {
      const c = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: "none", maxRetries: 0 });
      const results = await Promise.allSettled([0, 1, 2].map(() => c.completions.create({ model: "tiny", prompt: "The jury", max_tokens: 30, temperature: 0 })));
      expect(results.filter((r) => r.status === "fulfilled").length).toBeGreaterThanOrEqual(1);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const e of refused) {
        expect(e).toBeInstanceOf(OpenAI.RateLimitError);
        expect((e as InstanceType<typeof OpenAI.RateLimitError>).message).toMatch(/queue is full/);
      }
    } finally {
      await small.close();
    }
  });
});
