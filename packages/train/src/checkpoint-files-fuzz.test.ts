/**
 * Training checkpoints under seeded fuzzing: state.json mutated structurally (and as text) and the tensors file's
 * header bytes flipped. Every case resumes to a state that passes checkTrainingState, or is refused with a
 * TrainingStateError (or the model's own named error) naming the file — never a TypeError from deep inside.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { preset, tensorList } from "@onebit/model";
import { OnebitError } from "@onebit/quant";
import { afterAll, describe, expect, it } from "vitest";
import { mutateJson, mutateText } from "../../model/src/testing/json-mutator";
import { readTrainingState, STATE_JSON, STATE_TENSORS, writeTrainingState } from "./checkpoint-files";

const spec = preset("b1.58", "tiny", { vocab_size: 64, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2 });
const dir = mkdtempSync(join(tmpdir(), "onebit-state-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("training checkpoint fuzzing", () => {
  it("1500 mutated checkpoints: resumed and consistent, or refused by name", () => {
    const fill = () => new Map(tensorList(spec).map((t) => [t.name, new Float32Array(t.shape.reduce((a, b) => a * b, 1)).fill(0.25)] as const));
    const good = join(dir, "good");
    writeTrainingState(good, { step: 3, adamStep: 3, spec, history: [{ step: 1, loss: 4 }, { step: 2, loss: 3.9 }, { step: 3, loss: 3.8 }], params: fill(), adamM: fill(), adamV: fill(), workers: 1, tokenizer: undefined });
    const json = readFileSync(join(good, STATE_JSON), "utf8");
    const tensors = new Uint8Array(readFileSync(join(good, STATE_TENSORS)));
    const headerEnd = 8 + Number(new DataView(tensors.buffer).getBigUint64(0, true));
    let seed = 99;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const counts = { cases: 0, resumed: 0, refused: 0 };
    const work = join(dir, "case");
    writeTrainingState(work, { ...readTrainingState(good, spec) });
    for (let c = 0; c < 1500; c++) {
      const kind = c % 3;
      if (kind === 0) writeFileSync(join(work, STATE_JSON), JSON.stringify(mutateJson(JSON.parse(json), rand).value));
      else if (kind === 1) writeFileSync(join(work, STATE_JSON), mutateText(json, rand).text);
      else writeFileSync(join(work, STATE_JSON), json);
      if (kind === 2) {
        const bytes = tensors.slice();
        for (let f = 0; f < 1 + Math.floor(rand() * 3); f++) bytes[Math.floor(rand() * headerEnd)] = Math.floor(rand() * 256);
        writeFileSync(join(work, STATE_TENSORS), bytes);
      } else copyFileSync(join(good, STATE_TENSORS), join(work, STATE_TENSORS));
      counts.cases++;
      try {
        const s = readTrainingState(work, spec);
        expect(s.params.size).toBe(tensorList(spec).length);
        counts.resumed++;
      } catch (e) {
        expect(e, `case ${c}: ${(e as Error).stack}`).toBeInstanceOf(OnebitError);
        expect((e as Error).message).toContain(work);
        counts.refused++;
      }
    }
    console.log(`training-state fuzz: ${JSON.stringify(counts)}`);
    expect(counts.refused).toBeGreaterThan(500);
    expect(counts.resumed).toBeGreaterThan(50);
  }, 60_000);
});
