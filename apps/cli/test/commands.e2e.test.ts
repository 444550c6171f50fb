/**
 * The built `onebit` binary on tiny settings: a 2-layer, 32-wide model trained for a few steps on a small
 * synthetic text, then every command that reads a checkpoint. Checks exit codes, output and files.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./built-cli";

const dir = mkdtempSync(join(tmpdir(), "onebit-e2e-"));
const data = join(dir, "counting.txt");
const specFile = join(dir, "spec.json");
const model = join(dir, "model");

beforeAll(async () => {
  ensureBuilt();
  const words = ["one", "two", "three", "four", "five", "six", "seven", "eight"];
  const docs = Array.from({ length: 60 }, (_, d) =>
    Array.from({ length: 6 }, (_, s) => `the ${words[(d + s) % 8]} cats saw ${words[(d + s + 1) % 8]} dogs and ${words[(d + s + 2) % 8]} birds.`).join(" "),
  );
  writeFileSync(data, docs.join("\n\n"));
  writeFileSync(
    specFile,
    JSON.stringify({ vocab_size: 300, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 128, hidden_act: "relu2", onebit: { variant: "b1.58" } }),
  );
  const r = await runCli(["train", "--spec", specFile, "--data", data, "--steps", "12", "--batch-size", "4", "--seq-len", "16", "--out", model, "--metrics", join(dir, "m.jsonl"), "--checkpoint-every", "5"]);
  if (r.code !== 0) throw new Error(`training the e2e model failed (${r.code}): ${r.stderr}`);
}, 600_000);

describe("onebit commands (built binary)", () => {
  it("train: writes the model checkpoint, the training state and a metrics line per step", () => {
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "train-state/state.json", "train-state/state.safetensors"]) expect(existsSync(join(model, f)), f).toBe(true);
    const lines = readFileSync(join(dir, "m.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(12);
    expect(JSON.parse(lines[11]!)).toMatchObject({ step: 12 });
  });

  it("train: Ctrl-C stops after writing a checkpoint (exit 130), and --resume finishes the run", async () => {
    const out = join(dir, "interrupted");
    const args = ["train", "--spec", specFile, "--data", data, "--steps", "400", "--batch-size", "4", "--seq-len", "16", "--out", out, "--backend", "cpu"];
    let sent = false;
    const r = await runCli(args, {
      onStderr: (chunk, child) => {
        if (!sent && /train \[/.test(chunk)) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/training stopped at step \d+\/400; checkpoint in .*train-state/);
    const state = JSON.parse(readFileSync(join(out, "train-state", "state.json"), "utf8"));
    expect(state.step).toBeGreaterThan(0);
    expect(state.step).toBeLessThan(400);
    const resumed = await runCli([...args.map((a) => (a === "400" ? String(state.step + 2) : a)), "--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resumed from .* at step ${state.step}`));
  }, 120_000);

  it("train --workers 2: two tensor-parallel threads train a 2-group model that the engine runs, with checkpoints --resume continues", async () => {
    const spec2 = join(dir, "spec2.json");
    writeFileSync(spec2, JSON.stringify({ ...JSON.parse(readFileSync(specFile, "utf8")), num_key_value_heads: 2 }));
    const out = join(dir, "parallel");
    const args = (steps: number, ...more: string[]) => ["train", "--spec", spec2, "--data", data, "--steps", String(steps), "--batch-size", "4", "--seq-len", "16", "--out", out, ...more];
    const r = await runCli(args(4, "--workers", "2"));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/2 worker threads/);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).onebit.groups).toBe(2);
    const g = await runCli(["generate", out, "--max-tokens", "4"]);
    expect(g.code).toBe(0);
    // the parallel run wrote the training checkpoint (default <out>/train-state), the worker count recorded
    const state = () => JSON.parse(readFileSync(join(out, "train-state", "state.json"), "utf8"));
    expect(state()).toMatchObject({ step: 4, adamStep: 4, workers: 2 });
    // --resume continues it on 2 workers …
    const more = await runCli(args(6, "--workers", "2", "--resume"));
    expect(more.code).toBe(0);
    expect(more.stderr).toMatch(/resumed from .*train-state at step 4\n/);
    expect(state()).toMatchObject({ step: 6, workers: 2 });
    // … or on one thread with the same 2-group model; without --groups 2 the spec differs and the file is named
    const mismatch = await runCli(args(7, "--workers", "1", "--resume"));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/train-state\/state\.json: the checkpoint was trained with a different model spec \(onebit\.groups: 2 in the checkpoint, 1 now\)/);
    const one = await runCli(args(7, "--workers", "1", "--groups", "2", "--resume"));
    expect(one.code).toBe(0);
    expect(one.stderr).toMatch(/resumed from .* at step 6 \(checkpoint written by 2 worker threads, continuing on 1 thread/);
    expect(state()).toMatchObject({ step: 7, workers: 1 });
    const bad = await runCli(["train", "--spec", specFile, "--data", data, "--steps", "1", "--out", join(dir, "bad"), "--workers", "2"]);
    expect(bad.code).toBe(2); // a usage error, refused before any data is read
    expect(bad.stderr).toMatch(/--workers 2: the model's num_key_value_heads 1 does not split into 2 equal shards/);
  }, 240_000);

  it("generate: streams a continuation of the prompt and reports speed", async () => {
    const r = await runCli(["generate", model, "--prompt", "the three cats", "--max-tokens", "12", "--seed", "7"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("the three cats")).toBe(true);
    expect(r.stdout.length).toBeGreaterThan("the three cats".length);
    expect(r.stderr).toMatch(/prompt tokens at \d+ tok\/s · \d+ generated at \d+ tok\/s/);
    const again = await runCli(["generate", model, "--prompt", "the three cats", "--max-tokens", "12", "--seed", "7", "--backend", "js"]);
    expect(again.stdout).toBe(r.stdout); // same seed, same text, on either backend
  });

  it("eval: prints the validation perplexity", async () => {
    const r = await runCli(["eval", model, "--data", data, "--seq-len", "16", "--sequences", "4"]);
    expect(r.code).toBe(0);
    const ppl = Number(/perplexity ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(ppl).toBeGreaterThan(1);
    expect(ppl).toBeLessThan(300);
  });

  it("convert → .gguf and a Hugging Face folder; generate, eval --text-file and tokenize read them as they read the onebit folder", async () => {
    const gguf = join(dir, "model.gguf");
    const conv = await runCli(["convert", model, gguf, "--type", "tq2_0"]);
    expect(conv.code, conv.stderr).toBe(0);
    expect(conv.stdout).toMatch(/wrote .*model\.gguf \(gguf, architecture bitnet-b1\.58\)/);
    expect(conv.stderr).toMatch(/note: .*stored as F16 values/); // 32-wide rows cannot be TQ2_0 blocks
    const again = await runCli(["convert", model, gguf]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; give --force/);
    const hf = join(dir, "model-hf");
    expect((await runCli(["convert", gguf, hf, "--to", "hf"])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(hf, "config.json"), "utf8")).architectures).toEqual(["BitNetForCausalLM"]);
    const outputs = [];
    for (const m of [model, gguf, hf]) {
      const g = await runCli(["generate", m, "--prompt", "the three cats", "--max-tokens", "8", "--temperature", "0", "--backend", "js"]);
      expect(g.code, g.stderr).toBe(0);
      outputs.push(g.stdout);
    }
    // TQ2_0 here rounds each scale to fp16 (bitnet-b1.58 has no *.scale tensors): greedy text stays the same
    expect(new Set(outputs).size).toBe(1);
    const ids = await runCli(["tokenize", gguf, "--text", "the three cats"]);
    expect(ids.code).toBe(0);
    const parsed = JSON.parse(ids.stdout) as number[];
    expect(parsed[0]).toBe(1); // BOS, as the file's add_bos_token says
    expect((await runCli(["tokenize", model, "--text", "the three cats"])).stdout).toBe(ids.stdout);
    const ppl = await runCli(["eval", gguf, "--text-file", data, "--ctx", "32", "--json", "--backend", "js"]);
    expect(ppl.code, ppl.stderr).toBe(0);
    const r = JSON.parse(ppl.stdout) as { perplexity: number; tokens_scored: number; ctx: number };
    expect(r.ctx).toBe(32);
    expect(r.tokens_scored % 15).toBe(0); // 32 − 1 − 16 scored per chunk
    expect(r.perplexity).toBeGreaterThan(1);
    const shortText = join(dir, "short.txt");
    writeFileSync(shortText, "the three cats saw four dogs.");
    const short = await runCli(["eval", gguf, "--text-file", shortText, "--ctx", "32"]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 64 are needed for --ctx 32/);
  });

  it("chat: answers each line from stdin until /exit", async () => {
    const r = await runCli(["chat", model, "--max-tokens", "6"], { input: "the two cats saw\n/reset\nfive dogs\n/exit\n" });
    expect(r.code).toBe(0);
    expect(r.stdout.match(/model> /g)).toHaveLength(2);
    expect(r.stdout).toContain("(transcript cleared)");
  });

  it("inspect: spec, bytes per component, sparsity and histograms (terminal, SVG, PNG)", async () => {
    const svg = join(dir, "h.svg");
    const png = join(dir, "h.png");
    const r = await runCli(["inspect", model, "--svg", svg, "--png", png]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/variant b1\.58/);
    expect(r.stdout).toMatch(/^total\s+28,384\s/m);
    expect(r.stdout).toMatch(/^down\s+\d+\.\d %/m);
    expect(r.stdout).toMatch(/layer 0 q_proj input/);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg/);
    expect([...readFileSync(png).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it("energy: the BitNet energy-table saving against fp16 (0.5 pJ vs 0.007 pJ per MAC at 7 nm)", async () => {
    const r = await runCli(["energy", "bitnet-b1.58-2B-4T"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^7nm .* 71\.4×$/m);
    expect(r.stdout).toMatch(/^45nm .* 50\.0×$/m);
  });

  it("bench: kernel and model tables", async () => {
    const r = await runCli(["bench", "--shape", "64x256", "--tokens", "1", "--threads", "1", "--repeats", "3", "--model", model, "--prompt-tokens", "4", "--decode-tokens", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/64×256\s+1\s+wasm\s+1/);
    expect(r.stdout).toMatch(/decode tok\/s/);
    expect(r.stdout).toMatch(/2 decode steps after it/);
    const empty = await runCli(["bench", "--only", "model", "--threads", "1", "--model", model, "--prompt-tokens", "4", "--decode-tokens", "2", "--decode-context", "empty", "--json"]);
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ decode_context: "empty", decode_tokens: 2, threads: 1 });
    const bad = await runCli(["bench", "--only", "model", "--model", model, "--decode-context", "middle"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--decode-context/);
  });

  it("demo: trains the 1-bit model, trains (then caches) the fp baseline, generates and reports", async () => {
    const cache = join(dir, "cache");
    const args = ["demo", "--data", data, "--steps", "2", "--batch-size", "2", "--seq-len", "16", "--max-tokens", "8", "--out", join(dir, "demo"), "--cache-dir", cache, "--prompt", "the cats"];
    const first = await runCli(args, { timeoutMs: 300_000 });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/b1\.58-tiny\s+[\d.]+/);
    expect(first.stdout).toMatch(/fp-tiny \(fp16\)\s+[\d.]+/);
    expect(first.stdout).toMatch(/perplexity ratio b1\.58 \/ fp: [\d.]+/);
    expect(first.stdout).toMatch(/speed: .* tok\/s/);
    expect(first.stdout).toMatch(/sparsity: .*down [\d.]+ %/);
    const second = await runCli(args, { timeoutMs: 300_000 });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/fp baseline: cached/);
    expect(second.stdout).toMatch(/tokenizer: .*cached/);
  }, 600_000);

  it("bad input: one-line errors and non-zero exit codes", async () => {
    const missing = await runCli(["generate", join(dir, "no-such-model")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/no such file or folder, and not a preset/);
    const badSpec = join(dir, "bad-spec.json");
    writeFileSync(badSpec, JSON.stringify({ vocab_size: -3 }));
    const spec = await runCli(["train", "--spec", badSpec, "--steps", "1"]);
    expect(spec.code).toBe(1);
    expect(spec.stderr).toMatch(/--spec .*bad-spec\.json: ModelSpec\.hidden_size: expected a positive integer/);
    const backend = await runCli(["generate", model, "--backend", "cuda"]);
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/cuda/);
    const noTok = await runCli(["generate", "b1.58-tiny"]);
    expect(noTok.code).toBe(1);
    expect(noTok.stderr).toMatch(/no tokenizer/);
  });
});
