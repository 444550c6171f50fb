import { createBackend, createJsBackend } from "@onebit/kernels";
import { afterAll, describe, expect, it } from "vitest";
import { preset } from "./presets";
import { runtimeReport } from "./runtime-report";
import { initWeights } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";
import { Transformer } from "./transformer";

describe("Transformer", () => {
  const backends: Array<{ dispose(): void }> = [];
  afterAll(() => backends.forEach((b) => b.dispose()));

  for (const variant of ["bitnet", "b1.58", "a4.8", "a4.8-fp4", "fp"] as const) {
    it(`${variant}: logits identical on js and wasm (2 threads), prefill and decode`, async () => {
      const spec = microSpec(variant);
      const weights = initWeights(spec, 7, 0.2);
      const wasm = await createBackend("wasm", { threads: 2 });
      backends.push(wasm);
      const a = new Transformer(spec, weights, { backend: createJsBackend() });
      const b = new Transformer(spec, weights, { backend: wasm });
      const ca = a.newCache();
      const cb = b.newCache();
      const prompt = [1, 5, 9, 13, 17, 21];
      expect([...b.forward(prompt, cb, { allLogits: true })]).toEqual([...a.forward(prompt, ca, { allLogits: true })]);
      expect([...b.forward([30], cb)]).toEqual([...a.forward([30], ca)]);
    });
  }

  it("writes the logits into `out` when given (the same values, that array returned), and names a wrong one", async () => {
    const spec = microSpec("b1.58");
    const weights = initWeights(spec, 11, 0.2);
    const wasm = await createBackend("wasm", { threads: 2 });
    backends.push(wasm);
    const v = spec.vocab_size;
    for (const backend of [createJsBackend(), wasm]) {
      const m = new Transformer(spec, weights, { backend });
      const [c1, c2] = [m.newCache(), m.newCache()];
      const prompt = [1, 5, 9, 13];
      const all = new Float32Array(prompt.length * v).fill(Number.NaN);
      expect(m.forward(prompt, c1, { allLogits: true, out: all })).toBe(all);
      expect([...all]).toEqual([...m.forward(prompt, c2, { allLogits: true })]);
      const out = new Float32Array(v).fill(Number.NaN);
      for (const id of [30, 31]) {
        const want = m.forward([id], c2);
        expect(m.forward([id], c1, { out })).toBe(out);
        expect([...out]).toEqual([...want]);
      }
      expect(await m.forwardAsync([32], c1, { out })).toBe(out);
      expect([...out]).toEqual([...(await m.forwardAsync([32], c2))]);
      expect(() => m.forward([33], c1, { out: new Float32Array(v + 1) })).toThrow(`forward out: expected a Float32Array of vocab = ${v} logits, found ${v + 1}`);
      expect(() => m.forward([33, 34], c1, { allLogits: true, out })).toThrow(`forward out: expected a Float32Array of tokens·vocab = ${2 * v} logits, found ${v}`);
      expect(c1.length).toBe(7); // the refused calls ran nothing
    }
  });

  it("decoding token by token equals one prefill (the KV cache is consistent)", () => {
    const spec = microSpec("b1.58");
    const m = new Transformer(spec, initWeights(spec, 3, 0.2), { backend: createJsBackend() });
    const ids = [1, 4, 8, 15, 16, 23];
    const all = m.forward(ids, m.newCache(), { allLogits: true });
    const cache = m.newCache();
    let last: Float32Array = new Float32Array();
    for (const id of ids) last = m.forward([id], cache);
    const v = spec.vocab_size;
    last.forEach((x, i) => expect(x).toBeCloseTo(all[5 * v + i]!, 4));
  });

  it("f16, 8-bit, 4-bit and 3-bit KV caches keep logits within a stated bound of the f32 cache", () => {
    // 64-dim heads (as real models have 64–128), random init; bounds relative to max|logit|. Random weights give
    // near-uniform attention, the worst case for min–max KV quantization; on trained models the cost is measured
    // as perplexity (see BENCHMARKS.md). Measured here: f16 ≤ 0.05, 8-bit 0.02–0.09 (a4.8's 4-bit activations
    // amplify it), 4-bit 0.12–0.18, 3-bit 0.17–0.29.
    const bounds = { 16: 0.05, 8: 0.12, 4: 0.25, 3: 0.35 } as const;
    for (const variant of ["fp", "b1.58", "a4.8"] as const) {
      const spec = preset(variant, "tiny", { vocab_size: 64, hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 64 });
      const m = new Transformer(spec, initWeights(spec, 5, 0.05), { backend: createJsBackend() });
      const ids = [1, 7, 3, 9, 11, 2, 5, 6, 13, 17, 19, 23];
      const ref = m.forward(ids, m.newCache({ bits: 32 }));
      const scale = Math.max(...ref.map(Math.abs));
      for (const bits of [16, 8, 4, 3] as const) {
        const got = m.forward(ids, m.newCache({ bits }));
        const err = Math.max(...got.map((x, i) => Math.abs(x - ref[i]!)));
        expect(err / scale).toBeLessThanOrEqual(bounds[bits]);
      }
    }
  });

  it("an int8 LM head keeps logits within its quantization bound of f32 and the same greedy tokens; js = wasm", async () => {
    const spec = preset("b1.58", "tiny", { vocab_size: 300, hidden_size: 256, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 });
    const weights = initWeights(spec, 11, 0.2);
    const js = createJsBackend();
    const wasm = await createBackend("wasm", { threads: 2 });
    backends.push(wasm);
    const f32 = new Transformer(spec, weights, { backend: js });
    const int8 = new Transformer(spec, weights, { backend: js, lmHead: "int8" });
    const int8Wasm = new Transformer(spec, weights, { backend: wasm, lmHead: "int8" });
    const ids = [3, 1, 4, 1, 5, 9, 2, 6];
    const ref = f32.forward(ids, f32.newCache(), { allLogits: true });
    const got = int8.forward(ids, int8.newCache(), { allLogits: true });
    expect([...int8Wasm.forward(ids, int8Wasm.newCache(), { allLogits: true })]).toEqual([...got]);
    const v = spec.vocab_size;
    let agree = 0;
    for (let t = 0; t < ids.length; t++) {
      const row = (a: Float32Array) => a.subarray(t * v, (t + 1) * v);
      const scale = Math.max(...row(ref).map(Math.abs));
      // 8-bit weights: each logit within 2 % of the row's largest |logit| (measured 0.7–1.0 % with these uniform
      // random weights, the worst case for absmax; the exact per-logit bound is checked in the kernels' conformance)
      const err = Math.max(...row(got).map((x, i) => Math.abs(x - row(ref)[i]!)));
      expect(err).toBeLessThanOrEqual(0.02 * scale);
      const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
      if (argmax(row(got)) === argmax(row(ref))) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(ids.length - 1);
    expect(runtimeReport(int8).memory.lmHead).toBe(v * spec.hidden_size + v * (spec.hidden_size / 256) * 4); // codes + one f32 scale per 256-column block
    expect(() => new Transformer(spec, weights, { backend: js, lmHead: "fp8" as "int8" })).toThrow('transformer lmHead: expected one of f32, int8, int4, got "fp8"');
  });

  it("refuses a missing tensor and an out-of-range token, naming them", () => {
    const spec = microSpec("b1.58");
    const w = initWeights(spec);
    w.delete("model.layers.1.mlp.up_proj.weight");
    expect(() => new Transformer(spec, w, { backend: createJsBackend() })).toThrow('model weights: tensor "model.layers.1.mlp.up_proj.weight" is missing');
    const m = new Transformer(spec, initWeights(spec), { backend: createJsBackend() });
    expect(() => m.forward([64], m.newCache())).toThrow("forward ids[0]: 64 is not a token id in [0, 64)");
    const c = m.newCache({ maxTokens: 2 });
    expect(() => m.forward([1, 2, 3], c)).toThrow(/KV cache is full/);
  });
});
