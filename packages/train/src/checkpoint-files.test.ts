/**
 * Training checkpoints on disk: a state round-trips exactly, writes leave no temporary files, and every way a
 * checkpoint can be wrong (interrupted write, other spec, missing or mis-sized tensor, truncated or non-JSON file,
 * an unwritable directory) is refused with the file named; a crash at any moment of a write leaves the old checkpoint
 * or the new one; a folder's lock admits one writer and names it to the others.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { preset, tensorList } from "@onebit/model";
import { describe, expect, it } from "vitest";
import { FolderLockedError, hasTrainingState, lockFolder, readTrainingState, writeTrainingState } from "./checkpoint-files";
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

describe("one commit point per checkpoint", () => {
  // a crash is simulated by laying out the files as the writer leaves them at each moment of a write
  const layouts = () => {
    const dir = fresh();
    writeTrainingState(dir, randomState(2));
    const newer = fresh();
    writeTrainingState(newer, randomState(3, 7));
    return { dir, newer };
  };

  it("a crash before state.json is replaced leaves the old checkpoint, and the next write drops the orphan", () => {
    const { dir, newer } = layouts();
    copyFileSync(join(newer, "state.safetensors"), join(dir, "state.safetensors.next"));
    expect(readTrainingState(dir, spec)).toEqual(randomState(2));
    writeTrainingState(dir, randomState(4, 5));
    expect(readTrainingState(dir, spec)).toEqual(randomState(4, 5));
    expect(readdirSync(dir).sort()).toEqual(["state.json", "state.safetensors"]);
  });

  it("a crash after state.json is replaced but before the tensors are moved into place leaves the new checkpoint", () => {
    const { dir, newer } = layouts();
    copyFileSync(join(newer, "state.safetensors"), join(dir, "state.safetensors.next"));
    copyFileSync(join(newer, "state.json"), join(dir, "state.json"));
    expect(readTrainingState(dir, spec)).toEqual(randomState(3, 7));
    // the next write first finishes the interrupted one, so the committed tensors are never overwritten half-way
    writeTrainingState(dir, randomState(5, 2));
    expect(readTrainingState(dir, spec)).toEqual(randomState(5, 2));
    expect(readdirSync(dir).sort()).toEqual(["state.json", "state.safetensors"]);
  });

  it("a folder's first write, committed but not yet moved into place, is read from state.safetensors.next", () => {
    const { newer } = layouts();
    const dir = fresh();
    copyFileSync(join(newer, "state.safetensors"), join(dir, "state.safetensors.next"));
    copyFileSync(join(newer, "state.json"), join(dir, "state.json"));
    expect(readTrainingState(dir, spec)).toEqual(randomState(3, 7));
  });

  it("refuses tensors that belong to another write, naming both files", () => {
    const { dir, newer } = layouts();
    copyFileSync(join(newer, "state.json"), join(dir, "state.json"));
    expect(() => readTrainingState(dir, spec)).toThrow(new RegExp(`^${join(dir, "state.safetensors")}: is not the tensors of ${join(dir, "state.json")} \\(commit [0-9a-f]{16}, expected [0-9a-f]{16}\\); refusing to resume$`));
  });
});

describe("folder lock", () => {
  it("refuses a second writer naming the holder's pid, host and start time, and frees the folder on release", () => {
    const dir = fresh();
    const lock = lockFolder(dir, "onebit train");
    expect(lock.note).toBeUndefined();
    const holder = JSON.parse(readFileSync(join(dir, "onebit.lock"), "utf8"));
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), purpose: "onebit train" });
    expect(() => lockFolder(dir, "onebit train")).toThrow(`${dir}: in use by onebit train (pid ${process.pid} on ${hostname()}, started ${holder.started}); wait for it to finish or choose another folder`);
    expect(() => lockFolder(dir, "x")).toThrow(FolderLockedError);
    lock.release();
    expect(existsSync(join(dir, "onebit.lock"))).toBe(false);
    const again = lockFolder(dir, "onebit train");
    again.release();
  });

  it("takes over a lock whose process is gone, with a note; refuses another host's lock and one naming no holder", () => {
    const dir = fresh();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!; // exited by now
    writeFileSync(join(dir, "onebit.lock"), JSON.stringify({ pid: dead, host: hostname(), started: "2020-01-01T00:00:00.000Z", purpose: "onebit train" }));
    const lock = lockFolder(dir, "onebit train");
    expect(lock.note).toBe(`took over the lock ${join(dir, "onebit.lock")} left by onebit train (pid ${dead} on ${hostname()}, started 2020-01-01T00:00:00.000Z), which is no longer running`);
    expect(JSON.parse(readFileSync(join(dir, "onebit.lock"), "utf8")).pid).toBe(process.pid);
    expect(readdirSync(dir)).toEqual(["onebit.lock"]);
    lock.release();

    writeFileSync(join(dir, "onebit.lock"), JSON.stringify({ pid: dead, host: "elsewhere", started: "2020-01-01T00:00:00.000Z", purpose: "onebit train" }));
    expect(() => lockFolder(dir, "onebit train")).toThrow(`another host's process cannot be checked from here — delete ${join(dir, "onebit.lock")} if that run is gone`);
    writeFileSync(join(dir, "onebit.lock"), "");
    expect(() => lockFolder(dir, "onebit train")).toThrow(`${dir}: locked by ${join(dir, "onebit.lock")}, which names no holder`);
  });

  it("release leaves a lock that is no longer ours alone", () => {
    const dir = fresh();
    const lock = lockFolder(dir, "onebit train");
    writeFileSync(join(dir, "onebit.lock"), JSON.stringify({ pid: 1, host: "other", started: "now", purpose: "someone else" }));
    lock.release();
    expect(existsSync(join(dir, "onebit.lock"))).toBe(true);
  });
});
