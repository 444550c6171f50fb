import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBackend } from "@onebit/kernels";
import type { Variant } from "@onebit/layers";
import { BpeTokenizer, loadCheckpoint, preset, Transformer } from "@onebit/model";
import { describe, expect, it } from "vitest";
import { tf } from "./tf-backend";
import { TrainableModel } from "./trainable-model";
import { train } from "./trainer";

/** A small synthetic corpus with learnable structure (counting sentences), one document per paragraph. */
function corpusFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "onebit-train-"));
  const words = ["one", "two", "three", "four", "five", "six", "seven", "eight"];
  const docs: string[] = [];
  for (let d = 0; d < 60; d++) {
    const lines: string[] = [];
    for (let s = 0; s < 6; s++) {
      const a = (d + s) % 8;
      lines.push(`the ${words[a]} cats saw ${words[(a + 1) % 8]} dogs and ${words[(a + 2) % 8]} birds.`);
    }
    docs.push(lines.join(" "));
  }
  const file = join(dir, "counting.txt");
  writeFileSync(file, docs.join("\n\n"));
  return file;
}

const DATA = corpusFile();
const small = (variant: Variant, onebit: Record<string, unknown> = {}, kvHeads = 1) =>
  preset(variant, "tiny", { vocab_size: 300, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: kvHeads, onebit });
const base = { data: DATA, batchSize: 4, seqLen: 16, backend: "cpu" as const, lr: 1e-2, evalBatches: 2 };

describe("train", () => {
  it("lowers the loss of a b1.58 model on real text and writes a JSONL metrics log", async () => {
    const metricsFile = join(mkdtempSync(join(tmpdir(), "onebit-metrics-")), "metrics.jsonl");
    const r = await train({ ...base, spec: small("b1.58"), steps: 40, metricsFile });
    const first = r.history.slice(0, 5).reduce((s, h) => s + h.loss, 0) / 5;
    const last = r.history.slice(-5).reduce((s, h) => s + h.loss, 0) / 5;
    expect(last).toBeLessThan(first - 1);
    expect(r.validationPerplexity).toBeLessThan(Math.exp(first));
    const lines = readFileSync(metricsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(40);
    expect(lines[39]).toMatchObject({ step: 40, stage: 1 });
    expect(lines[39].tokensPerSecond).toBeGreaterThan(0);
  }, 120_000);

  it("resuming from a checkpoint reproduces the uninterrupted loss curve exactly", async () => {
    const spec = small("a4.8");
    const options = { ...base, spec, steps: 8, stage2Fraction: 0.25, seed: 3 };
    const whole = await train(options);
    const dir = mkdtempSync(join(tmpdir(), "onebit-ckpt-"));
    const ac = new AbortController();
    const first = await train({ ...options, checkpointDir: dir, signal: ac.signal, onProgress: (p) => p.step === 5 && ac.abort() });
    expect(first.stoppedEarly).toBe(true);
    expect(first.steps).toBe(5);
    const resumed = await train({ ...options, checkpointDir: dir, resume: true });
    expect(resumed.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    expect(resumed.validationLoss).toBe(whole.validationLoss);
  }, 120_000);

  for (const [variant, groups] of [["b1.58", 1], ["bitnet", 1], ["a4.8", 1], ["fp", 1], ["b1.58", 2], ["a4.8", 2]] as const) {
    it(`exports a ${variant}${groups > 1 ? ` (${groups} groups)` : ""} checkpoint whose @onebit/model logits equal the trainable model's eval logits`, async () => {
      const spec = small(variant, { groups }, groups);
      const exportDir = mkdtempSync(join(tmpdir(), "onebit-export-"));
      const r = await train({ ...base, spec, steps: 6, exportDir, stage2Fraction: 0.5 });
      const ckpt = await loadCheckpoint(exportDir);
      const tokenizer = BpeTokenizer.fromJSON(ckpt.tokenizer, "tokenizer.json");
      const ids = tokenizer.encode("the three cats saw four dogs and five birds.", { bos: true });
      const engine = new Transformer(ckpt.spec, ckpt.weights, { backend: await createBackend("js") });
      const expected = engine.forward(ids, engine.newCache({ maxTokens: ids.length }), { allLogits: true });
      const trainable = new TrainableModel(spec, r.weights);
      trainable.stage = 2;
      const got = tf.tidy(() => trainable.forward(tf.tensor2d(ids, [1, ids.length], "int32")).dataSync() as Float32Array);
      trainable.dispose();
      expect(got.length).toBe(expected.length);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < got.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(expected[i]!));
      }
      expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    }, 120_000);
  }

  for (const variant of ["b1.58", "a4.8"] as const) {
    it(`${variant}: 2 worker threads (one weight group each) follow the single-thread loss curve of the same 2-group model`, async () => {
      const spec = small(variant, { groups: 2 }, 2);
      const options = { ...base, spec, steps: 6, stage2Fraction: 0.34, seed: 5, backend: "wasm" as const };
      const single = await train(options);
      const exportDir = mkdtempSync(join(tmpdir(), "onebit-parallel-"));
      const parallel = await train({ ...options, workers: 2, exportDir });
      expect(parallel.history.map((h) => h.step)).toEqual(single.history.map((h) => h.step));
      parallel.history.forEach((h, i) => expect(Math.abs(h.loss - single.history[i]!.loss)).toBeLessThan(2e-3 * single.history[i]!.loss));
      expect(Math.abs(parallel.validationLoss - single.validationLoss)).toBeLessThan(2e-3 * single.validationLoss);
      // the reassembled weights are the single-thread run's, up to float summation order (Adam can turn a
      // near-zero gradient of either sign into a step of ±lr, so the bound is one learning-rate step)
      for (const [name, w] of single.weights) {
        const p = parallel.weights.get(name)!;
        let max = 0;
        for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]! - p[i]!));
        expect(max, name).toBeLessThan(base.lr);
      }
      const ckpt = await loadCheckpoint(exportDir);
      expect(ckpt.spec.onebit.groups).toBe(2);
    }, 120_000);
  }

  it("refuses parallel training whose worker count does not match the spec's groups", async () => {
    await expect(train({ ...base, spec: small("b1.58"), steps: 1, workers: 2 })).rejects.toThrow(/2 workers need onebit.groups = 2/);
  });

  it("refuses bad options with the option named", async () => {
    await expect(train({ ...base, spec: small("b1.58"), steps: 0 })).rejects.toThrow(/steps: expected a positive integer/);
    await expect(train({ ...base, spec: small("b1.58"), steps: 1, data: "/no/such/file.txt" })).rejects.toThrow(/no\/such\/file\.txt/);
    // webgl in Node: refused with the available backends named, before any data is read (the file does not exist)
    await expect(train({ ...base, spec: small("b1.58"), steps: 1, backend: "webgl", data: "/no/such/file.txt" })).rejects.toThrow(/training backend "webgl" is not available .*; available here: wasm, cpu$/);
    await expect(train({ ...base, spec: small("b1.58", { groups: 2 }, 2), steps: 1, workers: 2, backend: "webgl", data: "/no/such/file.txt" })).rejects.toThrow(/available here: wasm, cpu$/);
  });
});
