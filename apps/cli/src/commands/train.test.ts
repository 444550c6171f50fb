/**
 * `train` refuses, before it reads data or trains a step, every flag the model cannot take (exit 2, the flag and
 * the field named), a --resume with nothing to resume, and a second run writing the same --out.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockFolder } from "@onebit/train";
import { describe, expect, it } from "vitest";
import { CliError } from "../util/cli-error";
import { optionDefaults } from "../util/options";
import { runTraining, type TrainValues, trainOptions } from "./train";

const defaults = optionDefaults(trainOptions);

async function refusal(o: Partial<TrainValues>): Promise<CliError> {
  const out = join(mkdtempSync(join(tmpdir(), "onebit-train-")), "model");
  try {
    await runTraining({ ...defaults, out, data: "/no/such/corpus.txt", ...o }, "train");
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  throw new Error("expected runTraining to refuse");
}

describe("train's up-front checks", () => {
  it("refuses --seq-len beyond the model's context", async () => {
    const e = await refusal({ seqLen: 600 });
    expect([e.exitCode, e.message]).toEqual([2, "--seq-len 600: sequences of 600 tokens exceed the model's context of 512 tokens"]);
  });

  it("refuses --groups that do not divide a projection, naming it", async () => {
    const e = await refusal({ groups: 7 });
    expect([e.exitCode, e.message]).toEqual([2, "--groups 7: ModelSpec.onebit.groups: 7 does not divide q_proj's out features (num_attention_heads × head_dim) 128; use a divisor of 128"]);
    expect((await refusal({ workers: 2, groups: 4 })).exitCode).toBe(2);
    expect((await refusal({ workers: 3 })).message).toMatch(/^--groups 3: ModelSpec\.onebit\.groups: 3 does not divide/);
  });

  it("refuses --resume without a checkpoint, naming the folder, and creates nothing", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "onebit-train-")), "model");
    const e = await refusal({ out, resume: true });
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`--resume: no training checkpoint in ${join(out, "train-state")} (no state.json); train without --resume to start afresh, or use --resume-if-present`);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a second writer to the same --out, naming the holder, and leaves its lock alone", async () => {
    const out = mkdtempSync(join(tmpdir(), "onebit-train-"));
    const held = lockFolder(out, "onebit train");
    try {
      const e = await refusal({ out });
      expect(e.message).toMatch(new RegExp(`^${out}: in use by onebit train \\(pid ${process.pid} on .*, started .*\\); wait for it to finish or choose another folder$`));
      expect(existsSync(join(out, "onebit.lock"))).toBe(true);
    } finally {
      held.release();
    }
  });

  it("releases its locks when the run fails", async () => {
    const out = mkdtempSync(join(tmpdir(), "onebit-train-"));
    const e = await refusal({ out, resumeIfPresent: true });
    expect(e.message).toMatch(/no\/such\/corpus\.txt/);
    expect(existsSync(join(out, "onebit.lock"))).toBe(false);
  });
});
