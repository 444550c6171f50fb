/**
 * A Hugging Face folder on disk leaves its packed projections and its bf16 table in model.safetensors
 * (WeightSource.range): a projection's `data` is read and transcoded when a backend places it (kept only while held); the
 * table's rows are read as they are looked up. The same logits as the reference backend; a packed code 3 or a
 * file changed since the load fails where it is read, naming the file and tensor.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PackedLinearWeight } from "@onebit/kernels";
import { createBackend, createJsBackend } from "@onebit/kernels";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../checkpoint";
import { convertModel } from "../export/convert-model";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { Transformer } from "../transformer";
import type { QuantizedTable } from "../weights/quantized-table";
import { openModel } from "./open-model";

const dir = mkdtempSync(join(tmpdir(), "onebit-hf-deferred-"));
const hf = join(dir, "hf");
const ids = [1, 7, 42, 299, 5];
const spec = preset("b1.58", "tiny", { hidden_act: "relu2", vocab_size: 300, hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });

beforeAll(async () => {
  const src = join(dir, "src");
  await saveCheckpoint(src, { spec, weights: initWeights(spec, 5) });
  await convertModel(await openModel(src), hf, { to: "hf", denseDtype: "BF16" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(path: string, backend: "wasm" | "js"): Promise<Float32Array> {
  const m = await openModel(path);
  const model = new Transformer(m.spec, m.weights, { backend: backend === "js" ? await createJsBackend() : await createBackend("wasm", { threads: 2 }) });
  return model.forward(ids, model.newCache({ maxTokens: 8 }), { allLogits: true });
}

/** A copy of the folder with `patch` applied to model.safetensors at the tensor's first data byte. */
function patchedCopy(name: string, tensor: string, patch: (bytes: Buffer, at: number) => void): string {
  const out = join(dir, name);
  const bytes = readFileSync(join(hf, "model.safetensors"));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  patch(bytes, 8 + n + header[tensor].data_offsets[0]);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "config.json"), readFileSync(join(hf, "config.json")));
  writeFileSync(join(out, "model.safetensors"), bytes);
  return out;
}

describe("a Hugging Face folder's tensors left in the file", () => {
  it("projections are read and transcoded when read (their packed bytes kept as a range), the bf16 table stays a range; the load says so", async () => {
    const m = await openModel(hf);
    const w = m.weights.get("model.layers.0.mlp.down_proj.weight") as PackedLinearWeight;
    const src = await openModel(join(dir, "src"));
    // the file's packed bytes as they are (a backend may place them itself), `data` the definition
    expect(w.encoded?.format).toBe("HF_PACKED");
    expect(w.encoded?.bytes).not.toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(w.data, (src.weights.get("model.layers.0.mlp.down_proj.weight") as PackedLinearWeight).data)).toBe(0);
    const table = m.weights.get("model.embed_tokens.weight") as QuantizedTable;
    expect(table.dtype).toBe("BF16");
    expect(table.bytes).not.toBeInstanceOf(Uint8Array);
    expect(m.notes.some((n) => /MiB of tensors are read from the file as the backend places them/.test(n))).toBe(true);
  });

  it("the wasm backend's logits equal the reference's, bit for bit", async () => {
    expect(await logits(hf, "wasm")).toEqual(await logits(hf, "js"));
  });

  it("a packed code 3 fails when the weight is placed, naming the file and tensor", async () => {
    const bad = patchedCopy("code3", "model.layers.0.mlp.down_proj.weight", (bytes, at) => {
      bytes[at + 3] = 0xff;
    });
    const m = await openModel(bad);
    expect(() => new Transformer(m.spec, m.weights, { backend: createJsBackend() })).toThrow(/model\.safetensors: tensor "model\.layers\.0\.mlp\.down_proj\.weight": invalid code 3 for weight row \d+, column 3/);
    // wasm places the packed bytes itself (hf_place) and finds the 3 there: the same error, from the definition
    await expect(async () => new Transformer(m.spec, m.weights, { backend: await createBackend("wasm", { threads: 2 }) })).rejects.toThrow(
      /model\.safetensors: tensor "model\.layers\.0\.mlp\.down_proj\.weight": invalid code 3 for weight row \d+, column 3/,
    );
  });

  it("a file changed after the load is refused when its weights are placed, naming the file and tensor", async () => {
    const copy = patchedCopy("changed", "model.embed_tokens.weight", () => {});
    const m = await openModel(copy);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(copy, "model.safetensors"), later, later);
    await expect(async () => new Transformer(m.spec, m.weights, { backend: await createBackend("wasm", { threads: 1 }) })).rejects.toThrow(
      /model\.safetensors: tensor "[a-z_.0-9]+": .*changed on disk since it was opened/,
    );
  });
});
