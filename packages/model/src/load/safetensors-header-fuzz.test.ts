/**
 * The same-logits property of the onebit folder loader under header damage (1000 cases): the JSON header of a
 * small model.safetensors (its 8-byte length and everything before the tensor data) is mutated, seeded; every
 * mutation openModel accepts must give the intact folder's logits bit for bit — the strict header reader refuses
 * ranges that overlap, leave holes or point outside the data, so no accepted mutation may read other bytes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsBackend } from "@onebit/kernels";
import { OnebitError } from "@onebit/quant";
import { afterAll, describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { saveCheckpoint } from "../checkpoint";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { Transformer } from "../transformer";
import { mutateJson } from "../testing/json-mutator";
import { openModel } from "./open-model";

const dir = mkdtempSync(join(tmpdir(), "onebit-stz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("safetensors header fuzzing", () => {
  it("1000 header mutations: refused by name, or accepted with the intact folder's logits", async () => {
    const spec = preset("b1.58", "tiny", { hidden_act: "silu", vocab_size: 300, hidden_size: 256, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });
    const src = join(dir, "src");
    await saveCheckpoint(src, { spec, weights: initWeights(spec, 3), tokenizer: trainBpeTokenizer("the cat sat on the mat. ".repeat(20), { vocabSize: 300 }).toJSON() });
    const file = join(src, "model.safetensors");
    const intact = new Uint8Array(readFileSync(file));
    const dataOffset = 8 + Number(new DataView(intact.buffer).getBigUint64(0, true));
    const backend = await createJsBackend();
    const ids = [1, 7, 42, 250];
    const logitsOf = (m: Awaited<ReturnType<typeof openModel>>) => {
      const model = new Transformer(m.spec, m.weights, { backend });
      return model.forward(ids, model.newCache({ maxTokens: 8 }), { allLogits: true });
    };
    const want = logitsOf(await openModel(src));
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const counts = { cases: 0, refused: 0, acceptedSame: 0 };
    const path = join(src, "model.safetensors");
    for (let c = 0; c < 1000; c++) {
      let bytes = intact.slice();
      if (c % 2 === 0) {
        const flips = 1 + rand(3);
        for (let f = 0; f < flips; f++) bytes[rand(dataOffset)] = rand(256);
      } else {
        // a structural change to the header JSON (a key added, removed, retyped, a value changed), re-serialized
        const header = JSON.parse(new TextDecoder().decode(intact.subarray(8, dataOffset)));
        const text = new TextEncoder().encode(JSON.stringify(mutateJson(header, () => rand(1 << 30) / (1 << 30)).value));
        bytes = new Uint8Array(8 + text.length + (intact.length - dataOffset));
        new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
        bytes.set(text, 8);
        bytes.set(intact.subarray(dataOffset), 8 + text.length);
      }
      writeFileSync(path, bytes);
      counts.cases++;
      let m: Awaited<ReturnType<typeof openModel>>;
      try {
        m = await openModel(src);
      } catch (e) {
        expect(e, String((e as Error).stack)).toBeInstanceOf(OnebitError);
        counts.refused++;
        continue;
      }
      expect(logitsOf(m), `case ${c}`).toEqual(want);
      counts.acceptedSame++;
    }
    writeFileSync(path, intact);
    console.log(`safetensors header fuzz: ${JSON.stringify(counts)}`);
    expect(counts.refused).toBeGreaterThan(50);
    expect(counts.acceptedSame).toBeGreaterThan(5);
  }, 120_000);
});
