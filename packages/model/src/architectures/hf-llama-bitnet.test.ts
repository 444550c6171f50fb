/**
 * hf-llama-bitnet: a LlamaForCausalLM folder quantized by transformers' BitNet integration, written by hand as
 * HF1BitLLM/Llama3-8B-1.58-100B-tokens is laid out (config.json with `quantization_config: {quant_method: "bitnet",
 * modules_to_not_convert: null}` and no linear_class, so weight_scale is BitLinear's divisor; packed uint8
 * [out/4, in] projections; bf16 dense tensors; untied lm_head), against the same weights built directly.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsBackend, type PackedLinearWeight } from "@onebit/kernels";
import { f32ToBf16, floatToBf16, packHf, packTernaryT2 } from "@onebit/quant";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../export/convert-model";
import { exportHfFolder } from "../export/hf-export";
import { openModel } from "../load/open-model";
import type { ModelSpec } from "../model-spec";
import { preset } from "../presets";
import { writeSafetensorsFile } from "../safetensors/safetensors-writer";
import { initWeights, tensorList } from "../tensor-names";
import { Transformer, type ModelWeights } from "../transformer";
import { architectureForConfig, ggufArchitectureFor, hfArchitectureFor } from "./registry";

const dir = mkdtempSync(join(tmpdir(), "onebit-hf-llama-bitnet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec: ModelSpec = preset("b1.58", "tiny", {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_act: "silu",
  vocab_size: 300,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  tie_word_embeddings: false,
  onebit: { sub_norm: false },
});

/** Seeded ternary codes and power-of-two scales (so bf16 weight_scale = 1/γ is exact) for every projection. */
function directWeights(): { weights: ModelWeights; codes: Map<string, Int8Array> } {
  const dense = initWeights(spec, 3);
  let s = 12345;
  const next = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s;
  };
  const weights: ModelWeights = new Map();
  const codes = new Map<string, Int8Array>();
  tensorList(spec).forEach((t, i) => {
    if (!t.projection) {
      // what a bf16 checkpoint holds
      weights.set(t.name, new Float32Array(new Uint32Array([...f32ToBf16(dense.get(t.name)!)].map((b) => b << 16)).buffer));
      return;
    }
    const [out, inF] = t.shape as [number, number];
    const c = Int8Array.from({ length: out * inF }, () => (next() % 3) - 1);
    codes.set(t.name, c);
    const w: PackedLinearWeight = { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(c, out, inF), scales: Float32Array.of(2 ** -(3 + (i % 3))), scaleAxis: "tensor" };
    weights.set(t.name, w);
  });
  return { weights, codes };
}

async function logits(s: ModelSpec, weights: ModelWeights): Promise<Float32Array> {
  const model = new Transformer(s, weights, { backend: await createJsBackend() });
  return model.forward([1, 5, 9, 200, 17], model.newCache({ maxTokens: 8 }), { allLogits: true });
}

/** The folder as transformers' BitNet integration saves a LlamaForCausalLM (HF1BitLLM's config.json fields). */
async function writeHfLlamaBitnetFolder(path: string, weights: ModelWeights, codes: Map<string, Int8Array>): Promise<void> {
  mkdirSync(path);
  const tensors: Array<{ name: string; dtype: "U8" | "BF16"; shape: number[]; data: Uint8Array }> = [];
  for (const t of tensorList(spec)) {
    const w = weights.get(t.name)!;
    if (!t.projection) {
      tensors.push({ name: t.name, dtype: "BF16", shape: [...t.shape], data: new Uint8Array(f32ToBf16(w as Float32Array).buffer) });
      continue;
    }
    const p = w as PackedLinearWeight;
    tensors.push({ name: t.name, dtype: "U8", shape: [Math.ceil(p.outFeatures / 4), p.inFeatures], data: packHf(codes.get(t.name)!, p.outFeatures, p.inFeatures) });
    // BitLinear: y = W̃·x_q / (weight_scale · input_scale), so weight_scale = 1/γ
    tensors.push({ name: t.name.replace(/\.weight$/, ".weight_scale"), dtype: "BF16", shape: [1], data: new Uint8Array(Uint16Array.of(floatToBf16(1 / p.scales[0]!)).buffer) });
  }
  const byName = new Map(tensors.map((t) => [t.name, t.data]));
  await writeSafetensorsFile(join(path, "model.safetensors"), tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, byteLength: t.data.byteLength })), (t) => byName.get(t.name)!, { format: "pt" });
  const config = {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    attention_bias: false,
    attention_dropout: 0,
    bos_token_id: spec.bos_token_id,
    eos_token_id: spec.eos_token_id,
    hidden_act: "silu",
    hidden_size: spec.hidden_size,
    initializer_range: 0.02,
    intermediate_size: spec.intermediate_size,
    max_position_embeddings: spec.max_position_embeddings,
    mlp_bias: false,
    num_attention_heads: spec.num_attention_heads,
    num_hidden_layers: spec.num_hidden_layers,
    num_key_value_heads: spec.num_key_value_heads,
    pretraining_tp: 1,
    quantization_config: { modules_to_not_convert: null, quant_method: "bitnet" },
    rms_norm_eps: spec.rms_norm_eps,
    rope_scaling: null,
    rope_theta: spec.rope_theta,
    tie_word_embeddings: false,
    torch_dtype: "bfloat16",
    use_cache: true,
    vocab_size: spec.vocab_size,
  };
  writeFileSync(join(path, "config.json"), JSON.stringify(config, null, 2));
}

describe("hf-llama-bitnet", () => {
  const { weights, codes } = directWeights();
  const folder = join(dir, "llama-1.58");

  it("is chosen for LlamaForCausalLM + quant_method bitnet; plain LlamaForCausalLM stays fp llama; other methods are refused", () => {
    const llama = { architectures: ["LlamaForCausalLM"], model_type: "llama" };
    expect(architectureForConfig({ ...llama, quantization_config: { quant_method: "bitnet" } }, "c.json").id).toBe("hf-llama-bitnet");
    expect(architectureForConfig(llama, "c.json").id).toBe("llama");
    expect(architectureForConfig({ ...llama, quantization_config: null }, "c.json").id).toBe("llama");
    expect(() => architectureForConfig({ ...llama, quantization_config: { quant_method: "gptq", bits: 4 } }, "c.json")).toThrow(
      'c.json: quantization_config.quant_method: LlamaForCausalLM is read as llama (no quantization_config), hf-llama-bitnet (quant_method "bitnet"); found "gptq"',
    );
    expect(() => architectureForConfig({ ...llama, quantization_config: { bits: 4 } }, "c.json")).toThrow("c.json: quantization_config.quant_method: expected a string, found nothing");
    expect(() => architectureForConfig({ model_type: "gpt2" }, "c.json")).toThrow('c.json: model_type "gpt2" / architectures [] is not supported; supported: BitNetForCausalLM, BitnetForCausalLM, LlamaForCausalLM');
  });

  it("reads a hand-built HF1BitLLM-style folder (BitLinear: weight_scale divides) to the same logits as the weights built directly", async () => {
    await writeHfLlamaBitnetFolder(folder, weights, codes);
    const m = await openModel(folder);
    expect([m.format, m.architecture.id]).toEqual(["hf", "hf-llama-bitnet"]);
    expect(m.spec).toEqual(spec);
    expect(m.spec.onebit).toMatchObject({ variant: "b1.58", sub_norm: false, eps_mode: "clamp", rope_style: "half" });
    expect((m.weights.get("model.layers.0.mlp.down_proj.weight") as PackedLinearWeight).scales).toEqual((weights.get("model.layers.0.mlp.down_proj.weight") as PackedLinearWeight).scales);
    expect(await logits(m.spec, m.weights)).toEqual(await logits(spec, weights));
  });

  it("exports as LlamaForCausalLM + quant_method bitnet (AutoBitLinear scales) and reads back to the same logits", async () => {
    expect(hfArchitectureFor(spec).architecture?.id).toBe("hf-llama-bitnet");
    const out = join(dir, "exported");
    expect((await exportHfFolder(out, spec, weights)).architecture).toBe("hf-llama-bitnet");
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect([config.architectures, config.model_type, config.quantization_config]).toEqual([["LlamaForCausalLM"], "llama", { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" }]);
    const back = await openModel(out);
    expect(back.architecture.id).toBe("hf-llama-bitnet");
    expect(await logits(back.spec, back.weights)).toEqual(await logits(spec, weights));
  });

  it("has no GGUF identity: convert writes arch onebit with the reason, and the GGUF runs the same", async () => {
    const gguf = join(dir, "llama-1.58.gguf");
    const r = await convertModel(await openModel(folder), gguf, { to: "gguf" });
    expect(r.architecture).toBe("onebit");
    expect(ggufArchitectureFor(spec).reason).toMatch(/^bitnet: sub_norm false \(needs true\); bitnet-b1\.58: hidden_act silu \(needs relu2\); llama: variant b1\.58 \(needs fp\)$/);
    expect(r.notes[0]).toMatch(/written as arch "onebit" .*bitnet: sub_norm false \(needs true\)/);
    const m = await openModel(gguf);
    expect(await logits(m.spec, m.weights)).toEqual(await logits(spec, weights));
  });

  it("still reads a plain LlamaForCausalLM folder as full-precision llama", async () => {
    const fp = preset("fp", "tiny", { vocab_size: 300, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 });
    const out = join(dir, "fp");
    await exportHfFolder(out, fp, initWeights(fp, 4));
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).quantization_config).toBeUndefined();
    const m = await openModel(out);
    expect([m.architecture.id, m.spec.onebit.variant]).toEqual(["llama", "fp"]);
  });
});
