import { type Backend, createBackend, createJsBackend } from "@onebit/kernels";
import type { KvCache } from "@onebit/kv";
import { describe, expect, it } from "vitest";
import { preset } from "./presets";
import { initWeights } from "./tensor-names";
import { Transformer } from "./transformer";

const spec = (variant: "b1.58" | "a4.8" | "fp", act: "relu2" | "silu") =>
  preset(variant, "tiny", { hidden_act: act, vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });

/** Prompts of different lengths, so each sequence of a batched step sits at its own position. */
const PROMPTS = [[1, 5, 9], [2], [3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15]];

function row(logits: Float32Array, b: number, vocab: number): Float32Array {
  return logits.slice(b * vocab, (b + 1) * vocab);
}

async function compare(backend: Backend, variant: "b1.58" | "a4.8" | "fp", act: "relu2" | "silu"): Promise<number> {
  const s = spec(variant, act);
  const model = new Transformer(s, initWeights(s, 3), { backend });
  const vocab = s.vocab_size;
  const single: KvCache[] = PROMPTS.map(() => model.newCache({ maxTokens: 32 }));
  const batched: KvCache[] = PROMPTS.map(() => model.newCache({ maxTokens: 32 }));
  PROMPTS.forEach((p, b) => {
    model.forward(p, single[b]!);
    model.forward(p, batched[b]!);
  });
  let worst = 0;
  // three steps, feeding the same (arbitrary) next tokens to both paths
  for (let step = 0; step < 3; step++) {
    const ids = PROMPTS.map((_, b) => (7 * b + 3 * step + 1) % vocab);
    const together = model.forwardBatch(ids, batched);
    ids.forEach((id, b) => {
      const alone = model.forward([id], single[b]!);
      const mine = row(together, b, vocab);
      for (let i = 0; i < vocab; i++) worst = Math.max(worst, Math.abs(mine[i]! - alone[i]!));
    });
  }
  batched.forEach((c, b) => expect(c.length).toBe(single[b]!.length));
  for (const c of [...single, ...batched]) c.dispose();
  return worst;
}

describe("Transformer.forwardBatch", () => {
  for (const [variant, act] of [["b1.58", "relu2"], ["b1.58", "silu"], ["a4.8", "relu2"], ["fp", "silu"]] as const) {
    it(`equals per-sequence forward bit for bit (js, ${variant}, ${act})`, async () => {
      expect(await compare(await createJsBackend(), variant, act)).toBe(0);
    });
  }
  it("equals per-sequence forward bit for bit on wasm (b1.58)", async () => {
    const backend = await createBackend("wasm", { threads: 1 });
    try {
      expect(await compare(backend, "b1.58", "relu2")).toBe(0);
    } finally {
      backend.dispose();
    }
  });
  it("refuses mismatched or shared caches, naming the field", async () => {
    const s = spec("b1.58", "relu2");
    const model = new Transformer(s, initWeights(s, 3), { backend: await createJsBackend() });
    const c = model.newCache({ maxTokens: 8 });
    expect(() => model.forwardBatch([1, 2], [c])).toThrow("forwardBatch caches: expected 2 (one per id), found 1");
    expect(() => model.forwardBatch([1, 2], [c, c])).toThrow(/found the same cache twice/);
    expect(() => model.forwardBatch([99], [c])).toThrow("forwardBatch ids[0]: 99 is not a token id in [0, 64)");
  });
});
