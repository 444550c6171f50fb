/**
 * Every conversion against the model it came from: the same logits (bit for bit where codes and scales are
 * carried exactly), byte-exact round trips, and the refusals users meet.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsBackend } from "@onebit/kernels";
import { afterAll, describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { saveCheckpoint } from "../checkpoint";
import { openModel } from "../load/open-model";
import type { ModelSpec } from "../model-spec";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { Transformer } from "../transformer";
import { isQuantizedTable, type QuantizedTable, tableToF32 } from "../weights/quantized-table";
import { convertModel } from "./convert-model";

const dir = mkdtempSync(join(tmpdir(), "onebit-convert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = "The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise and thanks of the City of Atlanta. ".repeat(4);
const tokenizer = trainBpeTokenizer(TEXT, { vocabSize: 300 });

/** 256-wide rows, so TQ2_0/TQ1_0 blocks and I2_S rows hold every projection. */
const wide = (act: "silu" | "relu2"): ModelSpec =>
  preset("b1.58", "tiny", { hidden_act: act, vocab_size: 300, hidden_size: 256, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });

async function onebitFolder(name: string, spec: ModelSpec): Promise<string> {
  const path = join(dir, name);
  await saveCheckpoint(path, { spec, weights: initWeights(spec, 7), tokenizer: tokenizer.toJSON() });
  return path;
}

async function logitsOf(path: string): Promise<Float32Array> {
  const m = await openModel(path);
  const backend = await createJsBackend();
  const model = new Transformer(m.spec, m.weights, { backend });
  const ids = m.tokenizer!.encode("The jury said in term-end presentments");
  return model.forward(ids, model.newCache({ maxTokens: 64 }), { allLogits: true });
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(a[i]!));
  }
  return d / m;
}

describe("convert", () => {
  it("onebit → GGUF (llama.cpp bitnet: TQ2_0, TQ1_0; I2_S) → the same logits, bit for bit, and back to the same onebit bytes", async () => {
    const src = await onebitFolder("silu", wide("silu"));
    const want = await logitsOf(src);
    for (const type of ["tq2_0", "tq1_0", "i2_s"] as const) {
      const gguf = join(dir, `silu-${type}.gguf`);
      const r = await convertModel(await openModel(src), gguf, { to: "gguf", type });
      expect(r.architecture).toBe("bitnet");
      expect(await logitsOf(gguf)).toEqual(want);
      const back = join(dir, `silu-${type}-back`);
      await convertModel(await openModel(gguf), back, { to: "onebit" });
      expect(readFileSync(join(back, "model.safetensors"))).toEqual(readFileSync(join(src, "model.safetensors")));
      expect(JSON.parse(readFileSync(join(back, "config.json"), "utf8"))).toEqual(JSON.parse(readFileSync(join(src, "config.json"), "utf8")));
      // GGUF → GGUF is byte-exact too
      const again = join(dir, `silu-${type}-again.gguf`);
      await convertModel(await openModel(gguf), again, { to: "gguf", type });
      expect(readFileSync(again)).toEqual(readFileSync(gguf));
    }
  });

  it("onebit → Hugging Face BitNet folder (packed uint8 + weight_scale) → the same logits; and back byte-exact", async () => {
    const src = await onebitFolder("relu2", wide("relu2"));
    const want = await logitsOf(src);
    const hf = join(dir, "relu2-hf");
    const r = await convertModel(await openModel(src), hf, { to: "hf" });
    expect(r.architecture).toBe("hf-bitnet");
    const config = JSON.parse(readFileSync(join(hf, "config.json"), "utf8"));
    expect(config.architectures).toEqual(["BitNetForCausalLM"]);
    expect(config.quantization_config.quant_method).toBe("bitnet");
    expect(await logitsOf(hf)).toEqual(want);
    const back = join(dir, "relu2-hf-back");
    await convertModel(await openModel(hf), back, { to: "onebit" });
    expect(readFileSync(join(back, "model.safetensors"))).toEqual(readFileSync(join(src, "model.safetensors")));
  });

  it("a BF16 Hugging Face folder (as 2B4T ships): its embedding stays a BF16 table, the logits of its values as float32; a NaN is refused", async () => {
    const src = await onebitFolder("relu2-bf16-src", wide("relu2"));
    const hf = join(dir, "relu2-hf-bf16");
    await convertModel(await openModel(src), hf, { to: "hf", denseDtype: "BF16" });
    const m = await openModel(hf);
    const table = m.weights.get("model.embed_tokens.weight") as QuantizedTable;
    expect(isQuantizedTable(table) && table.dtype).toBe("BF16");
    const asF32 = new Map(m.weights).set("model.embed_tokens.weight", tableToF32(table));
    const ids = m.tokenizer!.encode("The jury said in term-end presentments");
    const run = async (weights: typeof m.weights) => {
      const model = new Transformer(m.spec, weights, { backend: await createJsBackend() });
      return model.forward(ids, model.newCache({ maxTokens: 64 }), { allLogits: true });
    };
    expect(await run(m.weights)).toEqual(await run(asF32));
    // the first element of the embedding made a bf16 NaN (0x7fc0)
    const file = join(hf, "model.safetensors");
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
    const at = 8 + headerLength + header["model.embed_tokens.weight"].data_offsets[0];
    bytes.writeUInt16LE(0x7fc0, at + 2 * 5);
    writeFileSync(file, bytes);
    await expect(openModel(hf)).rejects.toThrow(/model\.safetensors: tensor "model\.embed_tokens\.weight": element 5 is NaN/);
    // the scan reads two elements a word: an even (low-half) one and the last one too; the largest finite bf16 passes
    const count = (header["model.embed_tokens.weight"].data_offsets[1] - header["model.embed_tokens.weight"].data_offsets[0]) / 2;
    bytes.writeUInt16LE(0x7f7f, at + 2 * 5);
    bytes.writeUInt16LE(0xff80, at + 2 * 4);
    writeFileSync(file, bytes);
    await expect(openModel(hf)).rejects.toThrow(/tensor "model\.embed_tokens\.weight": element 4 is -Infinity/);
    bytes.writeUInt16LE(0xff7f, at + 2 * 4);
    bytes.writeUInt16LE(0x7f81, at + 2 * (count - 1));
    writeFileSync(file, bytes);
    await expect(openModel(hf)).rejects.toThrow(new RegExp(`tensor "model\\.embed_tokens\\.weight": element ${count - 1} is NaN`));
    bytes.writeUInt16LE(0x3f80, at + 2 * (count - 1));
    writeFileSync(file, bytes);
    await openModel(hf);
  });

  it("ReLU² b1.58 → bitnet.cpp's bitnet-b1.58: exact with I2_S; TQ2_0 rounds each scale to fp16 and says so", async () => {
    const src = join(dir, "relu2");
    const want = await logitsOf(src);
    const i2s = join(dir, "relu2-i2s.gguf");
    expect((await convertModel(await openModel(src), i2s, { to: "gguf", type: "i2_s" })).architecture).toBe("bitnet-b1.58");
    expect(await logitsOf(i2s)).toEqual(want);
    const tq = join(dir, "relu2-tq2.gguf");
    const r = await convertModel(await openModel(src), tq, { to: "gguf", type: "tq2_0" });
    expect(r.notes.join("\n")).toMatch(/no \*\.scale tensors: \d+ projection scale\(s\) are stored as the fp16 block scale/);
    expect(maxRelDiff(want, await logitsOf(tq))).toBeLessThan(2e-2); // each scale within 2^-11, through the sub-norms
  });

  it("the tiny preset's 128- and 344-wide rows: TQ2_0 falls back to exact F16 codes (noted), I2_S is refused naming the tensor", async () => {
    const src = await onebitFolder("tiny", preset("b1.58", "tiny", { hidden_act: "silu", num_hidden_layers: 1 }));
    const want = await logitsOf(src);
    const gguf = join(dir, "tiny.gguf");
    const r = await convertModel(await openModel(src), gguf, { to: "gguf", type: "tq2_0" });
    expect(r.notes.join("\n")).toMatch(/stored as F16 codes/);
    expect(await logitsOf(gguf)).toEqual(want);
    await expect(convertModel(await openModel(src), join(dir, "tiny-i2s.gguf"), { to: "gguf", type: "i2_s" })).rejects.toThrow(
      /model\.layers\.0\.self_attn\.q_proj\.weight: I2_S needs rows whose length is a multiple of 128; this projection's rows have 128|rows have 344/,
    );
  });

  it("variants no other runtime has (a4.8, binary BitNet, groups) are written as arch onebit and read back exactly", async () => {
    for (const [name, spec] of [
      ["a48", preset("a4.8", "tiny", { vocab_size: 320, hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 })],
      ["bin", preset("bitnet", "tiny", { vocab_size: 320, hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 })],
      ["g2", preset("b1.58", "tiny", { vocab_size: 320, hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, onebit: { groups: 2 } })],
    ] as const) {
      const src = await onebitFolder(name, spec);
      const gguf = join(dir, `${name}.gguf`);
      const r = await convertModel(await openModel(src), gguf, { to: "gguf" });
      expect(r.architecture).toBe("onebit");
      expect(r.notes[0]).toMatch(/written as arch "onebit"/);
      expect(await logitsOf(gguf)).toEqual(await logitsOf(src));
      await expect(convertModel(await openModel(src), join(dir, `${name}-hf`), { to: "hf" })).rejects.toThrow(/transformers cannot run this model/);
    }
  });

  it("full precision → llama.cpp's llama (q/k rows permuted for its NORM RoPE) and LlamaForCausalLM → the same logits", async () => {
    const spec = preset("fp", "tiny", { vocab_size: 300, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 });
    const src = await onebitFolder("fp", spec);
    const want = await logitsOf(src);
    const gguf = join(dir, "fp.gguf");
    expect((await convertModel(await openModel(src), gguf, { to: "gguf" })).architecture).toBe("llama");
    expect(await logitsOf(gguf)).toEqual(want);
    const hf = join(dir, "fp-hf");
    expect((await convertModel(await openModel(src), hf, { to: "hf" })).architecture).toBe("llama");
    expect(JSON.parse(readFileSync(join(hf, "config.json"), "utf8")).architectures).toEqual(["LlamaForCausalLM"]);
    expect(await logitsOf(hf)).toEqual(want);
  });

  it("refuses to overwrite: an existing .gguf without force, a non-empty folder always", async () => {
    const src = join(dir, "silu");
    await expect(convertModel(await openModel(src), join(dir, "silu-tq2_0.gguf"), { to: "gguf" })).rejects.toThrow(/exists; give --force/);
    await expect(convertModel(await openModel(src), join(dir, "relu2"), { to: "onebit" })).rejects.toThrow(/exists and is not empty/);
  });
});
