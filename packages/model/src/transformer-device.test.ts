/**
 * The kernel contract carries a device-resident backend: the Transformer runs on a test double whose activations
 * are opaque handles (@onebit/kernels createDeviceDouble), so any layer that indexed an activation or read one
 * back mid-step would fail here. A step reads back one tensor — the logits — and uploads at most its embedding rows
 * (none for a tied model: its rows are gathered from the LM head's storage on the device), and the logits equal the
 * js backend's bit for bit (the double runs the same reference kernels).
 */
import { createDeviceDouble, createJsBackend, ResidencyError } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { generate } from "./generate";
import { preset } from "./presets";
import { initWeights } from "./tensor-names";
import { Transformer } from "./transformer";

const small = { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 };

describe("Transformer on a device-resident backend (test double)", () => {
  for (const [variant, act] of [["b1.58", "relu2"], ["b1.58", "silu"], ["a4.8", "relu2"], ["bitnet", "relu2"], ["fp", "silu"]] as const)
    for (const tied of [true, false])
    it(`${variant} ${act}${tied ? ", tied" : ", untied"}: ${tied ? "no upload" : "one upload"} and one read per step, logits identical to js`, async () => {
      const spec = preset(variant, "tiny", { ...small, hidden_act: act, tie_word_embeddings: tied });
      const weights = initWeights(spec, 5);
      const host = new Transformer(spec, weights, { backend: createJsBackend() });
      const device = createDeviceDouble();
      const model = new Transformer(spec, weights, { backend: device });
      const hostCache = host.newCache({ maxTokens: 16 });
      const cache = model.newCache({ maxTokens: 16 });
      const steps: number[][] = [[1, 7, 3, 9, 2], [5], [11], [4]]; // a prompt, then decode steps
      for (const [i, ids] of steps.entries()) {
        const before = { ...device.transfers };
        const got = await model.forwardAsync(ids, cache, { allLogits: i === 0 });
        expect(device.transfers.reads - before.reads).toBe(1);
        expect(device.transfers.uploads - before.uploads).toBe(tied ? 0 : 1);
        expect([...got]).toEqual([...host.forward(ids, hostCache, { allLogits: i === 0 })]);
      }
      // sparsity stays on the device: counted as unmeasured, never as zero
      const q = model.blocks[0]!.attention.q.sparsity;
      expect(q.inputs).toBe(0);
      expect(q.unmeasured).toBeGreaterThan(0);
    });

  it("f16, 8-, 4- and 3-bit KV caches and 4-bit queries stay on the device: one read per step, logits identical to js", async () => {
    const spec = preset("b1.58", "tiny", small);
    const weights = initWeights(spec, 7);
    const host = new Transformer(spec, weights, { backend: createJsBackend() });
    const device = createDeviceDouble();
    const model = new Transformer(spec, weights, { backend: device });
    for (const bits of [16, 8, 4, 3] as const) {
      const hostCache = host.newCache({ maxTokens: 16, bits });
      const cache = model.newCache({ maxTokens: 16, bits });
      for (const [i, ids] of [[1, 7, 3, 9, 2], [5], [11]].entries()) {
        const before = device.transfers.reads;
        const got = await model.forwardAsync(ids, cache, { allLogits: i === 0 });
        expect(device.transfers.reads - before).toBe(1);
        expect([...got], `${bits}-bit KV, step ${i}`).toEqual([...host.forward(ids, hostCache, { allLogits: i === 0 })]);
      }
      cache.dispose();
    }
    // a4.8's 4-bit QKV heads: 4-bit queries are quantized on the device too
    const host4 = new Transformer(spec, weights, { backend: createJsBackend(), queryBits: 4 });
    const model4 = new Transformer(spec, weights, { backend: device, queryBits: 4 });
    const [hostCache, cache] = [host4.newCache({ maxTokens: 16, bits: 4 }), model4.newCache({ maxTokens: 16, bits: 4 })];
    for (const ids of [[1, 7, 3, 9, 2], [5]]) {
      const before = device.transfers.reads;
      const got = await model4.forwardAsync(ids, cache);
      expect(device.transfers.reads - before).toBe(1);
      expect([...got], "4-bit queries").toEqual([...host4.forward(ids, hostCache)]);
    }
  });

  it("generates the same tokens as js at temperature 0", async () => {
    const spec = preset("b1.58", "tiny", small);
    const weights = initWeights(spec, 9);
    const run = async (model: Transformer) => {
      const ids: number[] = [];
      for await (const t of generate(model, [1, 2, 3], { maxTokens: 8, temperature: 0 })) ids.push(t.id);
      return ids;
    };
    const onJs = await run(new Transformer(spec, weights, { backend: createJsBackend() }));
    expect(await run(new Transformer(spec, weights, { backend: createDeviceDouble() }))).toEqual(onJs);
    expect(onJs).toHaveLength(8);
  });

  it("refuses host-only paths with a ResidencyError naming what to do instead", () => {
    const spec = preset("b1.58", "tiny", small);
    const model = new Transformer(spec, initWeights(spec, 1), { backend: createDeviceDouble() });
    expect(() => model.forward([1], model.newCache({ maxTokens: 4 }))).toThrow(ResidencyError);
    expect(() => model.forward([1], model.newCache({ maxTokens: 4 }))).toThrow(/await forwardAsync/);
    expect(() => model.forwardBatch([1, 2], [model.newCache({ maxTokens: 4 }), model.newCache({ maxTokens: 4 })])).toThrow(ResidencyError);
  });
});
