/**
 * A bounded load test of `onebit serve`: for each concurrency level (1, 4, 16, 32 by default) it sends a fixed
 * number of streaming completions from that many clients at once, then prints aggregate generated tokens/s and
 * p50/p95 latency (whole request) and time to first token. It only talks to 127.0.0.1 and stops by itself.
 *
 *   tsx --conditions=source bench/serve-load.ts --url http://127.0.0.1:8080 [--api-key K]
 *   tsx --conditions=source bench/serve-load.ts --model <folder|.gguf> [--parallel 8]   (starts its own server)
 *   tsx --conditions=source bench/serve-load.ts --tiny                                  (a tiny random model)
 * Options: --requests N (per level, default 32), --max-tokens N (default 32), --levels 1,4,16,32
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CliError } from "../src/util/cli-error";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    model: { type: "string" },
    tiny: { type: "boolean", default: false },
    "api-key": { type: "string" },
    requests: { type: "string", default: "32" },
    "max-tokens": { type: "string", default: "32" },
    levels: { type: "string", default: "1,4,16,32" },
    parallel: { type: "string", default: "8" },
    backend: { type: "string", default: "wasm" },
  },
});

function positiveInt(name: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CliError(`--${name}: expected an integer in [1, 10000], found ${JSON.stringify(s)}`, 2);
  return n;
}
const requests = positiveInt("requests", values.requests!);
const maxTokens = positiveInt("max-tokens", values["max-tokens"]!);
const levels = values.levels!.split(",").map((s) => positiveInt("levels", s));
const PROMPTS = ["The jury", "said in term", "the City of Atlanta", "which had over", "praise and thanks", "Executive Committee", "the election", "deserves the"];

async function tinyModelFolder(dir: string): Promise<string> {
  const { initWeights, preset, saveCheckpoint, trainBpeTokenizer } = await import("@onebit/model");
  const text = "The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise and thanks of the City of Atlanta. ".repeat(4);
  const spec = preset("b1.58", "tiny", { vocab_size: 300, max_position_embeddings: 256 });
  const weights = initWeights(spec, 11);
  weights.get("model.embed_tokens.weight")!.fill(0, 2 * spec.hidden_size, 3 * spec.hidden_size); // no EOS at greedy: full-length replies
  const path = join(dir, "tiny");
  await saveCheckpoint(path, { spec, weights, tokenizer: trainBpeTokenizer(text, { vocabSize: 300 }).toJSON() });
  return path;
}

interface Sample {
  latencyMs: number;
  firstTokenMs: number;
  tokens: number;
}

async function oneRequest(url: string, model: string, prompt: string, headers: Record<string, string>): Promise<Sample> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok || !res.body) throw new Error(`POST /v1/completions: HTTP ${res.status} ${await res.text()}`);
  let firstTokenMs = -1;
  let tokens = 0;
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const chunk = JSON.parse(event.slice(6)) as { choices: Array<{ text?: string }>; usage?: { completion_tokens: number }; error?: { message: string } };
      if (chunk.error) throw new Error(`stream error: ${chunk.error.message}`);
      if (firstTokenMs < 0 && chunk.choices[0]?.text) firstTokenMs = performance.now() - t0;
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
  }
  return { latencyMs: performance.now() - t0, firstTokenMs, tokens };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  let url = values.url;
  let close: (() => Promise<void>) | undefined;
  let tmp: string | undefined;
  const headers: Record<string, string> = values["api-key"] ? { authorization: `Bearer ${values["api-key"]}` } : {};
  if (url !== undefined) {
    const host = new URL(url).hostname;
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") throw new CliError(`--url: expected a server on 127.0.0.1 (a load test stays local), found host ${host}`, 2);
  } else {
    if (!values.model && !values.tiny) throw new CliError("give --url <http://127.0.0.1:port>, --model <path> or --tiny", 2);
    const { startServer } = await import("../src/commands/serve");
    const { buildTransformer, loadModelSource, openBackend, requireTokenizer } = await import("../src/util/load-model");
    if (values.tiny) tmp = mkdtempSync(join(tmpdir(), "onebit-serve-load-"));
    const m = await loadModelSource(values.model ?? (await tinyModelFolder(tmp!)), 1, { quiet: true });
    const backend = await openBackend(values.backend!);
    const model = await buildTransformer(m, backend);
    const server = await startServer({ model, tokenizer: requireTokenizer(m), modelId: "bench", port: 0, parallel: positiveInt("parallel", values.parallel!), queue: 1024 });
    url = server.url;
    close = async () => {
      await server.close();
      backend.dispose();
    };
  }
  try {
    const models = (await (await fetch(`${url}/v1/models`, { headers })).json()) as { data: Array<{ id: string }> };
    const model = models.data[0]!.id;
    console.log(`serve-load: ${url}, model "${model}", ${requests} requests per level, max_tokens ${maxTokens}`);
    console.log("clients  requests  tokens  wall_s  tok/s   p50_ms  p95_ms  ttft_p50_ms");
    for (const clients of levels) {
      const samples: Sample[] = [];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < requests) {
            const i = next++;
            samples.push(await oneRequest(url!, model, PROMPTS[i % PROMPTS.length]!, headers));
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      const tokens = samples.reduce((n, s) => n + s.tokens, 0);
      const lat = samples.map((s) => s.latencyMs);
      const ttft = samples.map((s) => s.firstTokenMs).filter((x) => x >= 0);
      console.log(
        [clients, samples.length, tokens, wall.toFixed(2), (tokens / wall).toFixed(1), percentile(lat, 50).toFixed(0), percentile(lat, 95).toFixed(0), percentile(ttft, 50).toFixed(0)]
          .map((v, j) => String(v).padEnd([9, 10, 8, 8, 8, 8, 8, 8][j]!))
          .join(""),
      );
    }
  } finally {
    await close?.();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`serve-load: ${(e as Error).message}`);
  process.exit(e instanceof CliError ? e.exitCode : 1); // 2: the command line itself is wrong, as for onebit
});
