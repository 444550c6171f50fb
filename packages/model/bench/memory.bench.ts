/**
 * `BENCH_MODEL=<file> pnpm --filter @onebit/model bench:memory` — where a model's resident memory goes: the process's
 * RSS, V8 heap and ArrayBuffers after opening the file, after placing it on the wasm backend (loaded copies
 * released, a GC), and after a 128-token prompt and 8 decode steps (another GC). Compare the last RSS with the
 * native engine's peak (`/usr/bin/time -f %M llama-bench -m <file> …`). Options (env): BENCH_LM_HEAD (int4),
 * BENCH_THREADS (2). Run with `node --expose-gc` for the GCs (the script below does). The package script runs it with
 * `--max-semi-space-size=1`, as the CLI runs a model (apps/cli/src/launch/young-generation.ts); the V8 new space is
 * printed beside the heap.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { createBackend, type DenseFormat } from "@onebit/kernels";
import { openModel, Transformer } from "../src/index";

setFlagsFromString("--experimental-wasm-relaxed-simd");
setFlagsFromString("--expose-gc");
const file = process.env.BENCH_MODEL;
if (!file) throw new Error("BENCH_MODEL=<a .gguf file or model folder> is required");
const lmHead = (process.env.BENCH_LM_HEAD ?? "int4") as DenseFormat;
const threads = Number(process.env.BENCH_THREADS ?? 2);
const gc = (globalThis as { gc?: () => void }).gc ?? (await import("node:vm")).runInNewContext("gc");
const mib = (b: number) => Math.round(b / 2 ** 20);
const report = (stage: string) => {
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.physical_space_size ?? 0;
  console.log(`${stage.padEnd(28)} RSS ${mib(m.rss)} MiB · V8 heap ${mib(m.heapUsed)} MiB (new space ${mib(newSpace)} MiB resident) · ArrayBuffers ${mib(m.arrayBuffers)} MiB`);
};
report("start");
const backend = await createBackend("wasm", { threads, simd: "relaxed" });
let opened: Awaited<ReturnType<typeof openModel>> | undefined = await openModel(file);
report("opened");
const model = new Transformer(opened.spec, opened.weights, { backend, lmHead, releaseWeights: true });
opened = undefined;
gc();
report(`placed (${lmHead} LM head)`);
const cache = model.newCache({ maxTokens: 160 });
model.forward(Array.from({ length: 128 }, (_, i) => i + 5), cache);
for (let i = 0; i < 8; i++) model.forward([7 + i], cache);
gc();
report("after 128 + 8 tokens");
backend.dispose();
