/**
 * A non-finite value that gets past the loaders (they refuse NaN norms and scales in files, but weights can also
 * be built in memory) must stop the forward pass at the first sublayer that produced it, naming layer and token,
 * rather than come out as NaN logits that sampling turns into garbage.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PackedLinearWeight } from "@onebit/kernels";
import { createJsBackend } from "@onebit/kernels";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { preset } from "./presets";
import { initWeights } from "./tensor-names";
import { NonFiniteError, Transformer } from "./transformer";

const dir = mkdtempSync(join(tmpdir(), "onebit-nonfinite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = preset("b1.58", "tiny", { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });

async function loaded() {
  await saveCheckpoint(dir, { spec, weights: initWeights(spec, 3) });
  return loadCheckpoint(dir);
}

describe("Transformer non-finite values", () => {
  it("an intact model runs", async () => {
    const { weights } = await loaded();
    const m = new Transformer(spec, weights, { backend: await createJsBackend() });
    expect(m.forward([1, 2, 3], m.newCache()).every(Number.isFinite)).toBe(true);
  });

  it("a NaN smuggled into layer 1's down_proj scale is reported as layer 1's ffn, at the first token", async () => {
    const { weights } = await loaded();
    const w = weights.get("model.layers.1.mlp.down_proj.weight") as PackedLinearWeight;
    expect(w.scales).toBeInstanceOf(Float32Array); // a packed weight, as the loader builds it
    w.scales[0] = Number.NaN;
    const m = new Transformer(spec, weights, { backend: await createJsBackend() });
    expect(() => m.forward([1, 2, 3], m.newCache())).toThrow(new NonFiniteError("layer 1 (ffn) produced NaN at token 0"));
  });

  it("an infinite attention output scale in layer 2 is reported as layer 2's attention", async () => {
    const { weights } = await loaded();
    (weights.get("model.layers.2.self_attn.o_proj.weight") as PackedLinearWeight).scales.fill(Number.POSITIVE_INFINITY);
    const m = new Transformer(spec, weights, { backend: await createJsBackend() });
    expect(() => m.forward([5, 6], m.newCache(), { allLogits: true })).toThrow(/^layer 2 \(attention\) produced (NaN|Infinity|-Infinity) at token 0$/);
  });
});
