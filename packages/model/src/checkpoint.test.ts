import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsBackend } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { initWeights } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";
import { Transformer } from "./transformer";

describe("checkpoints", () => {
  it("round-trips packed weights: the loaded model's logits equal the exported one's", async () => {
    for (const variant of ["b1.58", "bitnet", "fp"] as const) {
      const spec = microSpec(variant);
      const weights = initWeights(spec, 13, 0.2);
      const dir = mkdtempSync(join(tmpdir(), "onebit-ckpt-"));
      await saveCheckpoint(dir, { spec, weights, tokenizer: { type: "test" } });
      const loaded = await loadCheckpoint(dir);
      expect(loaded.tokenizer).toEqual({ type: "test" });
      const js = createJsBackend();
      const a = new Transformer(spec, weights, { backend: js });
      const b = new Transformer(loaded.spec, loaded.weights, { backend: js });
      expect([...b.forward([1, 2, 3], b.newCache())]).toEqual([...a.forward([1, 2, 3], a.newCache())]);
    }
  });
  it("refuses a truncated file and a wrong tensor, naming the tensor", async () => {
    const spec = microSpec("b1.58");
    const dir = mkdtempSync(join(tmpdir(), "onebit-ckpt-"));
    await saveCheckpoint(dir, { spec, weights: initWeights(spec) });
    const file = join(dir, "model.safetensors");
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: tensor ".*"\.data_offsets: ends at byte \d+ but the data area has \d+ bytes: truncated/);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, intermediate_size: 50 }));
    writeFileSync(file, bytes);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/tensor "model.layers.0.mlp.gate_proj.weight": expected packed U8 \[50, 16\]/);
    await expect(loadCheckpoint(join(dir, "nope"))).rejects.toThrow(/config.json: cannot read \(ENOENT\)/);
  });
});
