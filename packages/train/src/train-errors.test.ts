/**
 * Every error @onebit/train throws on purpose is an OnebitError with a stable code (the messages, which other tests
 * match, may change wording; the codes may not).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initWeights, preset } from "@onebit/model";
import { OnebitError, type OnebitErrorCode } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { writeTrainingState } from "./checkpoint-files";
import { checkParallelOptions, gatherShardStates } from "./parallel-trainer";
import { loadTextCorpus } from "./text-data";
import { useTrainBackend } from "./tf-backend";
import { TrainBackendError, TrainConfigError, TrainDataError, TrainDivergedError, TrainWorkerError, TrainWriteError } from "./train-errors";
import { checkRows, resolveHyperparameters, trainInMemory } from "./train-in-memory";

const spec = preset("b1.58", "tiny", { vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 });

async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

async function expectCode(f: () => unknown, cls: abstract new (...args: never[]) => OnebitError, code: OnebitErrorCode): Promise<void> {
  const e = await thrown(f);
  expect(e).toBeInstanceOf(cls);
  expect(e).toBeInstanceOf(OnebitError);
  expect((e as OnebitError).code).toBe(code);
}

describe("train errors", () => {
  it("bad options: TrainConfigError, TRAIN_CONFIG", async () => {
    await expectCode(() => resolveHyperparameters({ spec, steps: 0 }), TrainConfigError, "TRAIN_CONFIG");
    await expectCode(() => resolveHyperparameters({ spec, steps: 1, batchSize: 0.5 }), TrainConfigError, "TRAIN_CONFIG");
    await expectCode(() => checkParallelOptions(spec, 3), TrainConfigError, "TRAIN_CONFIG");
  });

  it("bad data: TrainDataError, TRAIN_DATA", async () => {
    await expectCode(() => loadTextCorpus(join(tmpdir(), "onebit-no-such-corpus.txt")), TrainDataError, "TRAIN_DATA");
    await expectCode(() => checkRows("trainRows", [], 64), TrainDataError, "TRAIN_DATA");
    await expectCode(() => checkRows("trainRows", [Int32Array.of(1, 64)], 64), TrainDataError, "TRAIN_DATA");
  });

  it("an unavailable backend: TrainBackendError, TRAIN_BACKEND", async () => {
    await expectCode(() => useTrainBackend("webgl"), TrainBackendError, "TRAIN_BACKEND");
  });

  it("a checkpoint that cannot be written: TrainWriteError, TRAIN_WRITE", async () => {
    const state = { step: 0, adamStep: 0, spec, history: [], params: new Map([["no.such.tensor", new Float32Array(1)]]), adamM: new Map(), adamV: new Map(), workers: 1 };
    await expectCode(() => writeTrainingState(mkdtempSync(join(tmpdir(), "onebit-state-")), state), TrainWriteError, "TRAIN_WRITE");
  });

  it("shards that disagree: TrainWorkerError, TRAIN_WORKER", async () => {
    const part = (index: number, step: number) => ({ index, step, adamStep: step, params: {}, m: {}, v: {} });
    await expectCode(() => gatherShardStates(spec, [part(0, 2), part(1, 3)], []), TrainWorkerError, "TRAIN_WORKER");
  });

  it("a loss that is not finite: TrainDivergedError, TRAIN_DIVERGED, with the step", async () => {
    const init = initWeights(spec, 1);
    init.get("model.norm.weight")?.fill(Number.NaN);
    const rows = Array.from({ length: 4 }, (_, r) => Int32Array.from({ length: 9 }, (_, i) => (r * 7 + i * 3) % 64));
    const e = await thrown(() => trainInMemory({ spec, trainRows: rows, valRows: rows, init, steps: 2, batchSize: 2, backend: "cpu" }));
    expect(e).toBeInstanceOf(TrainDivergedError);
    expect([(e as TrainDivergedError).code, (e as TrainDivergedError).step]).toEqual(["TRAIN_DIVERGED", 1]);
    expect((e as Error).message).toBe("training diverged at step 1: loss is NaN (try a lower learning rate)");
  });
});
