/**
 * openModel's dispatch and refusals, and the Hugging Face paths the conversion tests do not take: a `-bf16`-style
 * folder (latent master weights, quantization_mode "online", quantized at load with absmean) and a sharded one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsBackend } from "@onebit/kernels";
import { f32ToBf16 } from "@onebit/quant";
import { afterAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../checkpoint";
import { exportHfFolder } from "../export/hf-export";
import { preset } from "../presets";
import { writeSafetensorsFile } from "../safetensors/safetensors-writer";
import { initWeights, tensorList } from "../tensor-names";
import { Transformer } from "../transformer";
import { openModel, openTokenizer } from "./open-model";

const dir = mkdtempSync(join(tmpdir(), "onebit-open-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = preset("b1.58", "tiny", { vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 });

async function logits(m: { spec: typeof spec; weights: Parameters<typeof saveCheckpoint>[1]["weights"] }): Promise<Float32Array> {
  const model = new Transformer(m.spec, m.weights, { backend: await createJsBackend() });
  return model.forward([1, 5, 9, 200], model.newCache({ maxTokens: 8 }), { allLogits: true });
}

describe("openModel", () => {
  it("reads a Hugging Face -bf16 folder (latent weights, quantized at load) as onebit quantizes the same bf16 weights", async () => {
    const latent = initWeights(spec, 5);
    // round every tensor to bf16 first: that is what the folder holds
    const bf16 = new Map([...latent].map(([k, v]) => [k, new Float32Array(new Uint32Array([...f32ToBf16(v)].map((b) => b << 16)).buffer)] as const));
    const hf = join(dir, "bf16");
    mkdirSync(hf);
    const list = tensorList(spec);
    await writeSafetensorsFile(
      join(hf, "model.safetensors"),
      list.map((t) => ({ name: t.name, dtype: "BF16" as const, shape: t.shape, byteLength: 2 * t.shape.reduce((a, b) => a * b, 1) })),
      (t) => f32ToBf16(latent.get(t.name)!),
      { format: "pt" },
    );
    const { onebit: _o, ...config } = spec;
    writeFileSync(join(hf, "config.json"), JSON.stringify({ ...config, architectures: ["BitNetForCausalLM"], quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "online" } }));
    const m = await openModel(hf);
    expect(m.format).toBe("hf");
    expect(m.notes.join(" ")).toMatch(/quantized at load with absmean/);
    const own = join(dir, "own");
    await saveCheckpoint(own, { spec, weights: bf16 });
    expect(await logits(m)).toEqual(await logits(await openModel(own)));
  });

  it("reads a sharded folder (model.safetensors.index.json) as the single-file one", async () => {
    const own = join(dir, "own");
    const m = await openModel(own);
    const sharded = join(dir, "sharded");
    await exportHfFolder(sharded, m.spec, m.weights, { maxShardBytes: 20_000 });
    const back = await openModel(sharded);
    expect(await logits(back)).toEqual(await logits(m));
  });

  it("refuses what is not a model, naming the path and what was expected", async () => {
    const notGguf = join(dir, "notes.txt");
    writeFileSync(notGguf, "hello");
    await expect(openModel(notGguf)).rejects.toThrow(`${notGguf}: magic: not a GGUF file`);
    await expect(openModel(join(dir, "missing"))).rejects.toThrow(/missing: path: cannot be opened \(ENOENT\)/);
    const empty = join(dir, "empty");
    mkdirSync(empty);
    await expect(openModel(empty)).rejects.toThrow(/empty\/config\.json: file: cannot be read \(ENOENT\)/);
    const gpt2 = join(dir, "gpt2");
    await exportHfFolder(gpt2, spec, (await openModel(join(dir, "own"))).weights);
    writeFileSync(join(gpt2, "config.json"), JSON.stringify({ model_type: "gpt2", architectures: ["GPT2LMHeadModel"] }));
    await expect(openModel(gpt2)).rejects.toThrow(/gpt2\/config\.json: model_type "gpt2" \/ architectures \["GPT2LMHeadModel"\] is not supported; supported: BitNetForCausalLM/);
    await expect(openTokenizer(join(dir, "own"))).rejects.toThrow(/own\/tokenizer\.json: file: cannot be read/);
  });
});
