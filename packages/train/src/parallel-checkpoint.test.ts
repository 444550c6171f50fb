/**
 * Tensor-parallel (G = 2 worker threads) checkpoints: the workers' blocks are gathered into full tensors, resuming
 * on 2 workers from step k reproduces the uninterrupted 2-worker run bit for bit, resuming the same state on one
 * thread (same 2-group spec) follows it within float tolerance, and `train()` writes / resumes the same files as the
 * single-thread trainer, on abort as well.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeSafetensors, preset, tensorList } from "@onebit/model";
import { describe, expect, it } from "vitest";
import { readTrainingState } from "./checkpoint-files";
import { trainParallel } from "./parallel-trainer";
import { trainInMemory } from "./train-in-memory";
import { shardOf, unshard } from "./trainable-model";
import { train } from "./trainer";
import { prepareTrainingData } from "./training-data";
import type { TrainingState } from "./training-state";

function corpusFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "onebit-pckpt-data-"));
  const words = ["one", "two", "three", "four", "five", "six", "seven", "eight"];
  const docs = Array.from({ length: 60 }, (_, d) =>
    Array.from({ length: 6 }, (_, s) => `the ${words[(d + s) % 8]} cats saw ${words[(d + s + 1) % 8]} dogs and ${words[(d + s + 2) % 8]} birds.`).join(" "),
  );
  const file = join(dir, "counting.txt");
  writeFileSync(file, docs.join("\n\n"));
  return file;
}

const DATA = corpusFile();
// 2 groups: q/k/v/gate/up split by rows, o/down by columns, one group per worker
const spec = preset("b1.58", "tiny", { vocab_size: 300, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 2, onebit: { groups: 2 } });
const hyper = { spec, steps: 6, batchSize: 4, lr: 1e-2, seed: 5, evalBatches: 2, backend: "wasm" as const };
const data = prepareTrainingData({ spec, data: DATA, seqLen: 16 }, () => {});
const rows = { trainRows: data.trainRows, valRows: data.valRows };
/** Relative loss tolerance between a 2-worker run and the same 2-group math on one thread (float summation order). */
const TOL = 1e-5;
const losses = (h: Array<{ loss: number }>) => h.map((e) => e.loss);

describe("tensor-parallel checkpoints (2 worker threads)", () => {
  it("gather full tensors; resuming from step 2 on 2 workers reproduces the uninterrupted run exactly, on 1 thread within float tolerance", async () => {
    const states: TrainingState[] = [];
    const whole = await trainParallel({ ...hyper, ...rows, workers: 2, checkpointEvery: 2, onCheckpoint: (s) => void states.push(s) });
    // every 2 steps, plus the final state after the last step
    expect(states.map((s) => s.step)).toEqual([2, 4, 6, 6]);
    const sizes = new Map(tensorList(spec).map((t) => [t.name, t.shape.reduce((a, b) => a * b, 1)]));
    for (const s of states) {
      expect(s.workers).toBe(2);
      expect(s.adamStep).toBe(s.step);
      expect(losses(s.history)).toEqual(losses(whole.history).slice(0, s.step));
      for (const map of [s.params, s.adamM, s.adamV]) {
        expect([...map.keys()].sort()).toEqual([...sizes.keys()].sort());
        for (const [name, v] of map) expect(v.length, name).toBe(sizes.get(name));
      }
    }
    // the final gathered state is the run's reassembled weights
    for (const [name, w] of whole.weights) expect(states[3]!.params.get(name), name).toEqual(w);

    const resumed = await trainParallel({ ...hyper, ...rows, workers: 2, resumeFrom: states[0] });
    expect(resumed.steps).toBe(6);
    expect(losses(resumed.history)).toEqual(losses(whole.history)); // bit-identical, steps 3..6 included
    expect(resumed.validationLoss).toBe(whole.validationLoss);
    for (const [name, w] of whole.weights) expect(resumed.weights.get(name), name).toEqual(w);

    // one thread, the same 2-group math (group-wise statistics in one process): equal up to float summation order.
    // TOL: 1e-5 relative (~100 float32 ulps); measured ≤ 1.1e-7 here, while a wrong unshard layout is off by > 1e-3
    const single = await trainInMemory({ ...hyper, ...rows, resumeFrom: states[0] });
    expect(losses(single.history).slice(0, 2)).toEqual(losses(whole.history).slice(0, 2));
    single.history.forEach((h, i) => expect(Math.abs(h.loss - whole.history[i]!.loss), `step ${i + 1}`).toBeLessThan(TOL * whole.history[i]!.loss));
    expect(Math.abs(single.validationLoss - whole.validationLoss)).toBeLessThan(TOL * whole.validationLoss);
    // negative control: the same state with each sharded tensor's moments in the wrong group order (what a wrong
    // unshard layout would give) moves off the curve by more than the tolerance
    const swap = (m: Map<string, Float32Array>) =>
      new Map(tensorList(spec).map((t) => [t.name, unshard(t, [shardOf(t, m.get(t.name)!, 1, 2)[0], shardOf(t, m.get(t.name)!, 0, 2)[0]])] as const));
    const misordered = await trainInMemory({ ...hyper, ...rows, resumeFrom: { ...states[0]!, adamM: swap(states[0]!.adamM), adamV: swap(states[0]!.adamV) } });
    const drift = Math.max(...misordered.history.slice(2).map((h, i) => Math.abs(h.loss - whole.history[i + 2]!.loss) / whole.history[i + 2]!.loss));
    expect(drift).toBeGreaterThan(100 * TOL);
  }, 180_000);

  it("train({ workers: 2 }) writes the single-thread checkpoint format on abort and resumes from it with --resume semantics", async () => {
    const options = { ...hyper, data: DATA, seqLen: 16, workers: 2 };
    const whole = await train(options);
    const dir = mkdtempSync(join(tmpdir(), "onebit-pckpt-"));
    const ac = new AbortController();
    // the stop flag is read before each step: the run stops after step 2 or a little later, before step 6
    const first = await train({ ...options, checkpointDir: dir, signal: ac.signal, onProgress: (p) => p.step === 2 && ac.abort() });
    expect(first.stoppedEarly).toBe(true);
    expect(first.steps).toBeGreaterThanOrEqual(2);
    expect(first.steps).toBeLessThan(6);
    const meta = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
    expect(meta).toMatchObject({ step: first.steps, adamStep: first.steps, workers: 2 });
    const st = readTrainingState(dir, spec);
    for (const [name, w] of first.weights) expect(st.params.get(name), name).toEqual(w);

    // one format: a single-thread run of the same spec writes the same tensor names, shapes and dtypes
    const singleDir = mkdtempSync(join(tmpdir(), "onebit-pckpt-single-"));
    await train({ ...options, workers: 1, steps: 1, checkpointDir: singleDir, checkpointEvery: 1 });
    const header = (d: string) => {
      const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(d, "state.safetensors"))));
      return [...tensors].map(([n, t]) => `${n} ${t.dtype} ${t.shape.join("x")}`).sort();
    };
    expect(header(dir)).toEqual(header(singleDir));
    expect(JSON.parse(readFileSync(join(singleDir, "state.json"), "utf8")).workers).toBe(1);

    const copy = mkdtempSync(join(tmpdir(), "onebit-pckpt-copy-"));
    cpSync(dir, copy, { recursive: true });
    const logs: string[] = [];
    const resumed = await train({ ...options, checkpointDir: dir, resume: true, onLog: (m) => logs.push(m) });
    expect(logs).toContain(`resumed from ${dir} at step ${first.steps}`);
    expect(losses(resumed.history)).toEqual(losses(whole.history));
    expect(resumed.validationLoss).toBe(whole.validationLoss);

    // the 2-worker checkpoint on one thread (workers: 1, groups = 2): continues, within float tolerance
    const onOne = await train({ ...options, workers: 1, checkpointDir: copy, resume: true, onLog: (m) => logs.push(m) });
    expect(logs.some((m) => /^resumed from .* at step \d+ \(checkpoint written by 2 worker threads, continuing on 1 thread/.test(m)), logs.join("\n")).toBe(true);
    onOne.history.forEach((h, i) => expect(Math.abs(h.loss - whole.history[i]!.loss), `step ${i + 1}`).toBeLessThan(TOL * whole.history[i]!.loss));
  }, 240_000);
});
