/**
 * One latency/memory measurement in its own process (so resident memory is this model's alone): random weights in
 * their inference form (@onebit/model randomPackedWeights: ternary codes packed as onebit-t2 for b1.58, float32 for
 * fp), the wasm backend on one thread, f32 LM head, then @onebit/model's benchmarkModel (the engine behind
 * `onebit bench --only model --json`): a short prompt, then timed single-token decode steps (median). The machine
 * was shared with a load of 10–30 on 2 cores, so the decode steps are timed a second time here by this process's
 * CPU time (user + system; one wasm thread, so CPU time is the work of the step and does not count the time other
 * jobs held the core) — the report plots CPU time and lists wall time beside it.
 */
import { setPriority } from "node:os";
import { createBackend } from "@onebit/kernels";
import type { Variant } from "@onebit/layers";
import { benchmarkModel, parameterCounts, randomPackedWeights, runtimeReport, Transformer } from "@onebit/model";
import { LLAMA_SHAPES, llamaSpec } from "./llama-shapes";

export interface LatencyJob {
  shape: string;
  variant: Variant;
  layers: number;
  promptTokens: number;
  decodeTokens: number;
}

export interface LatencyMeasurement extends LatencyJob {
  parameters: number;
  weightBytes: number;
  memory: ReturnType<typeof runtimeReport>["memory"];
  rssBytes: number;
  decodeMsMedian: number;
  decodeTokensPerSecond: number;
  /** median CPU time (user + system) of one decode step, ms */
  decodeCpuMsMedian: number;
  prefillTokensPerSecond: number;
  buildSeconds: number;
}

async function measure(job: LatencyJob): Promise<LatencyMeasurement> {
  const shape = LLAMA_SHAPES.find((s) => s.name === job.shape);
  if (!shape) throw new RangeError(`unknown shape ${job.shape}`);
  const spec = llamaSpec(shape, job.variant, job.layers);
  const t0 = performance.now();
  const backend = await createBackend("wasm", { threads: 1 });
  const model = new Transformer(spec, randomPackedWeights(spec, 1), { backend });
  const buildSeconds = (performance.now() - t0) / 1000;
  benchmarkModel(model, { promptTokens: 2, decodeTokens: 2 }); // warm-up
  const r = benchmarkModel(model, { promptTokens: job.promptTokens, decodeTokens: job.decodeTokens });
  // the same decode steps again, timed by CPU time
  const cache = model.newCache({ maxTokens: job.promptTokens + job.decodeTokens + 1 });
  let logits = model.forward(Array.from({ length: job.promptTokens }, (_, i) => 3 + i), cache);
  const cpu: number[] = [];
  for (let i = 0; i < job.decodeTokens; i++) {
    let next = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[next]!) next = v;
    const c0 = process.cpuUsage();
    logits = model.forward([next], cache);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  const memory = runtimeReport(model).memory;
  return {
    ...job,
    parameters: parameterCounts(spec).total,
    weightBytes: memory.total,
    memory,
    rssBytes: process.memoryUsage().rss,
    decodeMsMedian: r.decodeMsMedian,
    decodeTokensPerSecond: r.decodeTokensPerSecond,
    decodeCpuMsMedian: cpu[Math.floor(cpu.length / 2)]!,
    prefillTokensPerSecond: r.prefillTokensPerSecond,
    buildSeconds,
  };
}

try {
  setPriority(10);
} catch {
  // keep the inherited priority
}
process.once("message", async (m) => {
  const result = await measure((m as { job: LatencyJob }).job);
  process.send!({ result }, () => process.exit(0));
});
