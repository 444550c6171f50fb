/**
 * The OpenAI-compatible HTTP API over a BatchScheduler: GET /health, GET /v1/models, POST /v1/completions,
 * POST /v1/chat/completions (non-streaming, or SSE chunks ending `data: [DONE]`), GET /metrics (Prometheus).
 * Every refusal is a 4xx in OpenAI's error shape; nothing a client sends reaches an unhandled throw. A client that
 * disconnects before its answer is complete aborts its request, which frees its slot at the next step.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import { type BatchScheduler, encodeChat, renderChat, type ScheduledResult, SchedulerRejectedError, type Tokenizer } from "@onebit/model";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { OpenAiError, shown } from "./openai-error";
import { prometheusText } from "./prometheus-metrics";
import { messagesField, promptField, requireObject, type SamplingFields, samplingFields } from "./request-fields";

export interface OpenAiServerOptions {
  scheduler: BatchScheduler;
  tokenizer: Tokenizer;
  /** The name /v1/models lists and requests must ask for. */
  modelId: string;
  /** When set, /v1/* requires `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Largest request body (default 8 MiB). */
  bodyLimit?: number;
}

type Kind = "completion" | "chat";

const FINISH: Record<string, string> = { stop: "stop", length: "length" };

function keyMatches(header: string | undefined, key: string): boolean {
  const given = Buffer.from(header?.startsWith("Bearer ") ? header.slice(7) : "");
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function createOpenAiServer(options: OpenAiServerOptions): FastifyInstance {
  const { scheduler, tokenizer, modelId } = options;
  const created = Math.floor(Date.now() / 1000);
  let httpRejected = 0;
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 8 * 2 ** 20 });

  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof OpenAiError) {
      if (err.status === 429) httpRejected++;
      return reply.code(err.status).send(err.body());
    }
    // Fastify's own refusals (malformed JSON, wrong content type, body too large) carry a 4xx statusCode
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send(new OpenAiError(status, (err as Error).message, null, (err as { code?: string }).code ?? null, "invalid_request_error").body());
    process.stderr.write(`serve: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return reply.code(500).send(new OpenAiError(500, "internal server error", null, null).body());
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(new OpenAiError(404, `${request.method} ${request.url}: no such endpoint (see /v1/models, /v1/completions, /v1/chat/completions, /health, /metrics)`, null, "unknown_url").body());
  });
  app.addHook("onRequest", async (request) => {
    if (options.apiKey !== undefined && request.url.startsWith("/v1/") && !keyMatches(request.headers.authorization, options.apiKey))
      throw new OpenAiError(401, "Authorization: expected `Bearer <api key>` with the server's --api-key, found a missing or wrong key", null, "invalid_api_key");
  });

  app.get("/health", async () => {
    const m = scheduler.metrics();
    return { status: "ok", slots_idle: m.parallel - m.activeSlots, slots_processing: m.activeSlots, queue_depth: m.queueDepth };
  });
  app.get("/metrics", async (_request, reply) => {
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return prometheusText(scheduler.metrics(), { httpRejected });
  });
  app.get("/v1/models", async () => ({ object: "list", data: [{ id: modelId, object: "model", created, owned_by: "onebit" }] }));

  function checkModel(body: Record<string, unknown>): void {
    if (typeof body.model !== "string") throw new OpenAiError(400, `model: expected a string (this server has "${modelId}"), found ${shown(body.model)}`, "model", "invalid_value");
    if (body.model !== modelId) throw new OpenAiError(404, `model: "${body.model}" does not exist; this server has "${modelId}"`, "model", "model_not_found");
  }

  async function run(kind: Kind, ids: number[], fields: SamplingFields, param: string, reply: FastifyReply): Promise<unknown> {
    const ctx = scheduler.ctx;
    if (ids.length >= ctx)
      throw new OpenAiError(400, `${param}: ${ids.length} tokens do not fit the context of ${ctx} tokens with room for at least one generated token (at most ${ctx - 1})`, param, "context_length_exceeded");
    // an explicit max_tokens the context cannot hold is refused (as OpenAI does); without one, the reply may run to
    // the context's end (finish_reason "length")
    if (fields.maxTokens !== undefined && ids.length + fields.maxTokens > ctx)
      throw new OpenAiError(400, `max_tokens: ${fields.maxTokens} with a ${ids.length}-token prompt exceeds the context of ${ctx} tokens (at most ${ctx - ids.length})`, "max_tokens", "context_length_exceeded");
    const maxTokens = fields.maxTokens ?? ctx - ids.length;
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`;
    const object = kind === "chat" ? "chat.completion" : "text_completion";
    const ac = new AbortController();
    const res = reply.raw;
    res.on("close", () => {
      if (!res.writableFinished) ac.abort(); // the client went away before the answer was complete
    });
    const pieces: string[] = [];
    const write = (data: unknown) => {
      if (!res.destroyed && !res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const chunk = (choice: Record<string, unknown>) =>
      write({ id, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", created: Math.floor(Date.now() / 1000), model: modelId, choices: [{ index: 0, ...choice, logprobs: null }] });
    const onText = fields.stream
      ? (piece: string) => chunk(kind === "chat" ? { delta: { content: piece }, finish_reason: null } : { text: piece, finish_reason: null })
      : (piece: string) => void pieces.push(piece);
    let pending: Promise<ScheduledResult>;
    try {
      pending = scheduler.submit({
        prompt: ids,
        maxTokens,
        temperature: fields.temperature,
        topP: fields.topP,
        topK: fields.topK,
        seed: fields.seed,
        stop: fields.stop,
        signal: ac.signal,
        onText,
      });
    } catch (e) {
      if (e instanceof SchedulerRejectedError)
        throw e.reason === "too-large" ? new OpenAiError(400, e.message, "max_tokens", "kv_budget_exceeded") : new OpenAiError(429, `server busy: ${e.message}; retry later`, null, "queue_full");
      if (e instanceof RangeError) throw new OpenAiError(400, e.message, null, "invalid_value");
      throw e;
    }
    if (fields.stream) {
      reply.hijack();
      res.on("error", () => ac.abort()); // a broken socket: stop generating, never crash
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
      if (kind === "chat") chunk({ delta: { role: "assistant", content: "" }, finish_reason: null });
    }
    const r = await pending;
    const usage = { prompt_tokens: ids.length, completion_tokens: r.tokens.length, total_tokens: ids.length + r.tokens.length };
    if (r.finishReason === "abort") {
      // nobody is listening any more: close the response ourselves, Fastify has nothing left to send
      if (!fields.stream) reply.hijack();
      if (!res.writableEnded) res.end();
      return;
    }
    if (r.finishReason === "error") {
      const err = new OpenAiError(500, `generation failed: ${r.error?.message ?? "unknown error"}`, null, "generation_failed");
      if (!fields.stream) throw err;
      write(err.body());
    } else if (fields.stream) {
      chunk(kind === "chat" ? { delta: {}, finish_reason: FINISH[r.finishReason] } : { text: "", finish_reason: FINISH[r.finishReason] });
      if (fields.includeUsage) write({ id, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", created: Math.floor(Date.now() / 1000), model: modelId, choices: [], usage });
    }
    if (fields.stream) {
      if (!res.writableEnded) res.end("data: [DONE]\n\n");
      return;
    }
    const text = pieces.join("");
    const choice = kind === "chat" ? { index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: FINISH[r.finishReason] } : { index: 0, text, logprobs: null, finish_reason: FINISH[r.finishReason] };
    return { id, object, created: Math.floor(Date.now() / 1000), model: modelId, choices: [choice], usage };
  }

  app.post("/v1/completions", async (request, reply) => {
    const body = requireObject(request.body);
    checkModel(body);
    const fields = samplingFields(body, ["max_tokens"]);
    const ids = promptField(body, (text) => tokenizer.encode(text), tokenizer.vocabSize);
    return run("completion", ids, { ...fields, maxTokens: fields.maxTokens ?? 16 }, "prompt", reply); // OpenAI's default: 16
  });

  app.post("/v1/chat/completions", async (request, reply) => {
    const body = requireObject(request.body);
    checkModel(body);
    const fields = samplingFields(body, ["max_completion_tokens", "max_tokens"]);
    const messages = messagesField(body);
    let ids: number[];
    try {
      ids = encodeChat(tokenizer, renderChat(tokenizer, messages, { addGenerationPrompt: true }).text);
    } catch (e) {
      throw new OpenAiError(400, `messages: ${(e as Error).message}`, "messages", "invalid_value");
    }
    return run("chat", ids, fields, "messages", reply);
  });

  return app;
}
