/**
 * Training checkpoints on disk: a state round-trips exactly, writes leave no temporary files, and every way a
 * checkpoint can be wrong (interrupted write, other spec, missing or mis-sized tensor, truncated or non-JSON file,
 * an unwritable directory) is refused with the file named.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { preset, tensorList } from "@onebit/model";
import { describe, expect, it } from "vitest";
import { hasTrainingState, readTrainingState, writeTrainingState } from "./checkpoint-files";
import type { TrainingState } from "./training-state";

const spec = preset("b1.58", "tiny", { vocab_size: 64, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, onebit: { groups: 2 } });

function randomState(step: number, seed = 1): TrainingState {
  let s = seed;
  const r = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const fill = () => new Map(tensorList(spec).map((t) => [t.name, Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, r)] as const));
  return {
    step,
    adamStep: step,
    spec,
    history: Array.from({ length: step }, (_, i) => (i % 2 ? { step: i + 1, loss: 5 - i / 10, validationLoss: 5 } : { step: i + 1, loss: 5 - i / 10 })),
    params: fill(),
    adamM: fill(),
    adamV: fill(),
    workers: 2,
    tokenizer: { type: "onebit-bpe", note: "opaque to the checkpoint" },
  };
}

const fresh = () => mkdtempSync(join(tmpdir(), "onebit-state-"));

describe("training checkpoint files", () => {
  it("round-trip every tensor, the step, history, worker count and tokenizer exactly, leaving no temporary files", () => {
    const dir = fresh();
    expect(hasTrainingState(dir)).toBe(false);
    const state = randomState(3);
    writeTrainingState(dir, state);
    expect(hasTrainingState(dir)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["state.json", "state.safetensors"]);
    const back = readTrainingState(dir, spec);
    expect(back).toEqual(state);
    // overwriting with a later state replaces both files
    writeTrainingState(dir, randomState(4, 9));
    expect(readTrainingState(dir, spec)).toEqual(randomState(4, 9));
    expect(readdirSync(dir).sort()).toEqual(["state.json", "state.safetensors"]);
  });

  it("reads checkpoints written before worker counts were recorded as single-thread ones", () => {
    const dir = fresh();
    writeTrainingState(dir, randomState(2));
    const meta = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
    delete meta.workers;
    writeFileSync(join(dir, "state.json"), JSON.stringify(meta));
    expect(readTrainingState(dir, spec).workers).toBe(1);
  });

  it("refuses a pair of files from different steps (a write interrupted between the two renames), naming the file", () => {
    const dir = fresh();
    writeTrainingState(dir, randomState(2));
    const meta = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
    writeFileSync(join(dir, "state.json"), JSON.stringify({ ...meta, step: 1 }));
    expect(() => readTrainingState(dir, spec)).toThrow(`${join(dir, "state.safetensors")}: holds step 2 but ${join(dir, "state.json")} says step 1`);
  });

  it("refuses another spec, a missing or mis-sized tensor, and unreadable files, naming the file", () => {
    const dir = fresh();
    writeTrainingState(dir, randomState(2));
    const other = { ...spec, hidden_size: 32 };
    expect(() => readTrainingState(dir, other)).toThrow(`${join(dir, "state.json")}: the checkpoint was trained with a different model spec (hidden_size: 16 in the checkpoint, 32 now)`);
    const oneGroup = { ...spec, onebit: { ...spec.onebit, groups: 1 } };
    expect(() => readTrainingState(dir, oneGroup)).toThrow("(onebit.groups: 2 in the checkpoint, 1 now); refusing to resume");

    const missing = randomState(2);
    missing.adamV.delete("model.layers.0.mlp.down_proj.weight");
    writeTrainingState(dir, missing);
    expect(() => readTrainingState(dir, spec)).toThrow(`${join(dir, "state.safetensors")}: tensor "adam_v/model.layers.0.mlp.down_proj.weight" is missing`);

    const short = randomState(2);
    short.params.set("model.norm.weight", new Float32Array(3));
    expect(() => writeTrainingState(dir, short)).toThrow(dir);

    writeTrainingState(dir, randomState(2));
    const bytes = readFileSync(join(dir, "state.safetensors"));
    writeFileSync(join(dir, "state.safetensors"), bytes.subarray(0, bytes.length - 10));
    expect(() => readTrainingState(dir, spec)).toThrow(join(dir, "state.safetensors"));

    writeFileSync(join(dir, "state.json"), "{ not json");
    expect(() => readTrainingState(dir, spec)).toThrow(`${join(dir, "state.json")}: cannot read the training checkpoint`);
  });

  it("reports a failed write with the directory named and leaves no temporary file", () => {
    const dir = fresh();
    mkdirSync(join(dir, "state.json", "blocker"), { recursive: true }); // a folder where the file must go: rename fails
    expect(() => writeTrainingState(dir, randomState(1))).toThrow(`${dir}: cannot write the training checkpoint`);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const file = join(fresh(), "a-file");
    writeFileSync(file, "x");
    expect(() => writeTrainingState(file, randomState(1))).toThrow(file);
  });
});
