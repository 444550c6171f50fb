/**
 * Load time, the native engine's and onebit's, for `pnpm bench:model` with LLAMA_BENCH: the time from a process's
 * start until the model can run its first token.
 *
 * The engine: its one-shot text tool beside llama-bench — `llama-completion` where the build has it (llama.cpp from
 * 2025 on, whose `llama-cli` is a chat loop), else `llama-cli` (bitnet.cpp's fork) — run on the file for one token of
 * the prompt "hi", no warm-up, a 256-token context, timed from spawn to exit; minus the prompt and token evaluation
 * it reports ("prompt eval time", "eval time"). Its own "load time" line is not used: its meaning changed between
 * versions (bitnet.cpp's fork counts the model's load and the first evaluation; llama.cpp of late 2026 counts the
 * context's set-up alone, ≈ 0.1 s against ≈ 2 s of model load on the same file).
 * onebit: `onebit bench --only model --json`'s load_s in a fresh process (the CLI as a user runs it: the file opened,
 * its tokenizer read, the weights placed on the backend); that process's own start (Node, module import) is not in
 * it, which the engine's figure includes (a few ms for a native binary). The same run gives onebit's resident memory
 * with that one model, after the benchmark's prompt and steps (onebitFreshRun).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { engineEvalMs } from "../src/native-engine-log";

/** The built CLI, from this file (packages/model/bench) to apps/cli/dist. */
const CLI = join(dirname(fileURLToPath(import.meta.url)), "../../../apps/cli/dist/bin.js");

/** Seconds from the engine's start until its model could run (see above); `bench` is the path of its llama-bench. */
export function engineLoadSeconds(bench: string, file: string, threads: number): { seconds: number; tool: string } {
  const dir = dirname(bench);
  const completion = join(dir, "llama-completion");
  const cli = join(dir, "llama-cli");
  const tool = existsSync(completion) ? completion : existsSync(cli) ? cli : undefined;
  if (!tool) throw new Error(`load time: neither ${completion} nor ${cli} exists beside ${bench} (build the llama-completion or llama-cli target)`);
  // -no-cnv: llama-completion enters a chat loop on a file with a chat template unless told not to; bitnet.cpp's
  // llama-cli predates the flag (and chats only when asked)
  const args = ["-m", file, "-p", "hi", "-n", "1", "--no-warmup", "-c", "256", "-t", String(threads), ...(tool === completion ? ["-no-cnv"] : [])];
  const t0 = performance.now();
  const res = spawnSync(tool, args, { encoding: "utf8", input: "", maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  if (res.status !== 0) throw new Error(`${tool} failed on ${file} (exit ${res.status}): ${(res.stderr ?? "").slice(-400)}`);
  const evalMs = engineEvalMs(`${res.stdout}\n${res.stderr}`, tool);
  return { seconds: (wallMs - evalMs) / 1000, tool };
}

/**
 * onebit's CLI on the file in a fresh process (`onebit bench --only model --json`, no warm-up): its load_s, and its
 * resident memory after a prompt of `promptTokens` and `decodeTokens` steps (rss_bytes) — the process holds that one
 * model, as the engine's does. Undefined where the CLI is not built (said by the caller).
 */
export function onebitFreshRun(file: string, threads: number, lmHead: string, promptTokens: number, decodeTokens: number): { loadSeconds: number; rssBytes: number } | undefined {
  if (!existsSync(CLI)) return undefined;
  const args = [CLI, "bench", "--only", "model", "--model", file, "--threads", String(threads), "--lm-head", lmHead, "--json", "--prompt-tokens", String(promptTokens), "--decode-tokens", String(decodeTokens), "--warmup-steps", "0"];
  const res = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 16 << 20 });
  if (res.status !== 0) throw new Error(`onebit bench on ${file} failed (exit ${res.status}): ${(res.stderr ?? "").slice(-400)}`);
  const line = res.stdout.trim().split("\n").pop() ?? "";
  let r: { load_s?: unknown; rss_bytes?: unknown };
  try {
    r = JSON.parse(line) as typeof r;
  } catch {
    throw new Error(`onebit bench --json on ${file}: its last line is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (typeof r.load_s !== "number" || typeof r.rss_bytes !== "number") throw new Error(`onebit bench --json on ${file}: no numeric load_s and rss_bytes in ${JSON.stringify(line.slice(0, 200))}`);
  return { loadSeconds: r.load_s, rssBytes: r.rss_bytes };
}

/** Where onebitFreshRun looks for the CLI. */
export const ONEBIT_CLI = CLI;
