/**
 * The same-logits property of the GGUF loader under header damage (250 cases: each is a file write and a load): a small model file's header and metadata bytes
 * (everything before the tensor data; weight bytes themselves are a different model when flipped) are mutated,
 * seeded; every mutation openModel accepts with an unchanged spec and tensor list must give the intact file's logits
 * bit for bit — a changed name, tokenizer string or padding may pass, a silently different model may not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsBackend } from "@onebit/kernels";
import { OnebitError } from "@onebit/quant";
import { afterAll, describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { saveCheckpoint } from "../checkpoint";
import { convertModel } from "../export/convert-model";
import { openGguf } from "../gguf/gguf-reader";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { Transformer } from "../transformer";
import { memoryByteSource } from "../weights/byte-source";
import { openModel } from "./open-model";

const dir = mkdtempSync(join(tmpdir(), "onebit-ggufz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("GGUF header fuzzing", () => {
  it("250 header mutations: refused by name, or accepted with the intact file's logits (or a visibly different spec)", async () => {
    const spec = preset("b1.58", "tiny", { hidden_act: "silu", vocab_size: 300, hidden_size: 256, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });
    const src = join(dir, "src");
    await saveCheckpoint(src, { spec, weights: initWeights(spec, 3), tokenizer: trainBpeTokenizer("the cat sat on the mat. ".repeat(20), { vocabSize: 300 }).toJSON() });
    const file = join(dir, "m.gguf");
    await convertModel(await openModel(src), file, { to: "gguf", type: "tq2_0" });
    const intact = new Uint8Array(readFileSync(file));
    const header = await openGguf(memoryByteSource(intact));
    const dataOffset = header.dataOffset;
    await header.close();
    const backend = await createJsBackend();
    const ids = [1, 7, 42, 250];
    const logitsOf = (m: Awaited<ReturnType<typeof openModel>>) => {
      const model = new Transformer(m.spec, m.weights, { backend });
      return model.forward(ids, model.newCache({ maxTokens: 8 }), { allLogits: true });
    };
    const base = await openModel(file);
    const want = logitsOf(base);
    const tensorsOf = async (bytes: Uint8Array) => {
      const s = await openGguf(memoryByteSource(bytes));
      const t = JSON.stringify([...s.tensors.values()].map((e) => [e.name, e.dtype, e.shape, e.fileOffset]));
      await s.close();
      return t;
    };
    const intactTensors = await tensorsOf(intact);
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const counts = { cases: 0, refused: 0, acceptedSame: 0, acceptedDifferent: 0 };
    const path = join(dir, "mut.gguf");
    for (let c = 0; c < 250; c++) {
      const bytes = intact.slice();
      const flips = 1 + rand(3);
      for (let f = 0; f < flips; f++) bytes[rand(dataOffset)] = rand(256);
      writeFileSync(path, bytes);
      counts.cases++;
      let m: Awaited<ReturnType<typeof openModel>>;
      try {
        m = await openModel(path);
      } catch (e) {
        expect(e, String((e as Error).stack)).toBeInstanceOf(OnebitError);
        counts.refused++;
        continue;
      }
      const sameModel = JSON.stringify(m.spec) === JSON.stringify(base.spec) && (await tensorsOf(bytes)) === intactTensors;
      if (!sameModel) {
        counts.acceptedDifferent++;
        continue;
      }
      expect(logitsOf(m), `case ${c}`).toEqual(want);
      counts.acceptedSame++;
    }
    console.log(`gguf header fuzz: ${JSON.stringify(counts)}`);
    expect(counts.refused).toBeGreaterThan(50);
    expect(counts.acceptedSame).toBeGreaterThan(10);
  }, 120_000);
});
