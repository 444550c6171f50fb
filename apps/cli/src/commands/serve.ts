import { basename } from "node:path";
import type { KvBits } from "@onebit/kv";
import type { Tokenizer, Transformer } from "@onebit/model";
import type { FastifyInstance } from "fastify";
import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import { kvBitsOf, kvBitsOption } from "../util/kv-bits-option";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";

export interface ServeOptions {
  model: Transformer;
  tokenizer: Tokenizer;
  modelId: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  parallel?: number;
  /** Tokens per sequence (prompt + reply); default the model's context, at most 4096. */
  ctx?: number;
  queue?: number;
  apiKey?: string;
  kvBits?: KvBits;
  /** KV-cache budget over all slots, bytes (default: unlimited). */
  kvBudgetBytes?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

/** Build the scheduler and the HTTP server for a loaded model and start listening. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  // imported here, not at the top: fastify and the model package load only when a server starts (program.ts)
  const { BatchScheduler } = await import("@onebit/model");
  const { createOpenAiServer } = await import("../serve/openai-server");
  const scheduler = new BatchScheduler(o.model, {
    parallel: o.parallel ?? 4,
    maxQueue: o.queue ?? 64,
    ctx: o.ctx ?? Math.min(o.model.spec.max_position_embeddings, 4096),
    kvBits: o.kvBits,
    kvBudgetBytes: o.kvBudgetBytes,
    stopTokens: o.tokenizer.eosIds.length > 0 ? o.tokenizer.eosIds : undefined,
    decode: (ids) => o.tokenizer.decode(ids),
    vocabLimit: o.tokenizer.vocabSize,
  });
  const app = createOpenAiServer({ scheduler, tokenizer: o.tokenizer, modelId: o.modelId, apiKey: o.apiKey });
  const host = o.host ?? "127.0.0.1";
  await app.listen({ host, port: o.port ?? 8080 });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  return {
    app,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    async close() {
      scheduler.close();
      await app.close();
    },
  };
}

export const serveCommand = defineCommand({
  name: "serve",
  description: "serve a model over an OpenAI-compatible HTTP API, batching concurrent requests",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder", required: true }],
  options: defineOptions({
    host: { kind: "string", arg: "<host>", default: "127.0.0.1", description: "address to listen on" },
    port: { kind: "int", min: 0, max: 65535, arg: "<port>", default: 8080, description: "port to listen on (0 = any free port)" },
    parallel: { kind: "int", min: 1, max: 256, arg: "<n>", default: 4, description: "sequences decoded together (slots)" },
    ctx: { kind: "int", min: 2, arg: "<n>", description: "tokens per sequence, prompt + reply (default: the model's context, at most 4096)" },
    queue: { kind: "int", min: 0, arg: "<n>", default: 64, description: "requests waiting for a slot at most; more get HTTP 429" },
    apiKey: { kind: "string", arg: "<key>", description: "require `Authorization: Bearer <key>` on /v1/*" },
    kvBits: kvBitsOption,
    kvBudget: { kind: "number", exclusiveMin: 0, arg: "<MiB>", description: "KV-cache memory for all slots together; requests wait for room (default: unlimited)" },
    ...runOptions,
  }),
  async run({ args, options }) {
    const source = args[0];
    const m = await loadModelSource(source);
    const tokenizer = requireTokenizer(m);
    const backend = await openBackend(options.backend, options.threads);
    const model = await buildTransformer(m, backend, options.lmHead, { releaseWeights: true });
    const maxPos = model.spec.max_position_embeddings;
    const ctx = options.ctx ?? Math.min(maxPos, 4096);
    if (ctx > maxPos) throw new CliError(`--ctx: expected at most the model's context of ${maxPos} tokens, found ${ctx}`, 2);
    if (tokenizer.chatTemplate === undefined) process.stderr.write("note: the model has no chat template; /v1/chat/completions uses onebit's built-in one (\"Role: content\" lines, then \"Assistant:\")\n");
    const budget = options.kvBudget;
    let server: RunningServer;
    try {
      server = await startServer({
        model,
        tokenizer,
        modelId: basename(source.replace(/[\\/]+$/, "")),
        host: options.host,
        port: options.port,
        parallel: options.parallel,
        ctx,
        queue: options.queue,
        apiKey: options.apiKey,
        kvBits: kvBitsOf(options.kvBits),
        kvBudgetBytes: budget === undefined ? undefined : budget * 2 ** 20,
      });
    } catch (e) {
      backend.dispose();
      throw new CliError(`serve: cannot listen on ${options.host}:${options.port}: ${(e as Error).message}`);
    }
    process.stdout.write(`onebit serve: listening on ${server.url} (model "${basename(source.replace(/[\\/]+$/, ""))}", ${options.parallel} slots, context ${ctx})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void server.close().finally(resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    backend.dispose();
  },
});
