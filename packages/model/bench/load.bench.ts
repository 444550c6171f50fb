/**
 * `pnpm bench:load` — loading a BitNet b1.58 2B4T-shaped GGUF (random ternary weights; I2_S projections as
 * bitnet.cpp ships them and TQ2_0 as llama.cpp's, F16 token embedding) with openModel: wall time, and peak
 * resident memory above the process's baseline against the bytes the loaded model refers to (ternary projections
 * and quantized tables as their file bytes, placed later by the backend). From a file on disk those stay in the file
 * until they are placed (ByteRange), so the peak is what is read now (norms, the tokenizer); from other sources the
 * loader reads up to 256 MiB ahead, into 256 MiB slabs, and the peak stays under the model's size + 300 MB.
 * The file is written once into $BENCH_DIR (default: the OS temp folder) and reused; each load runs in a fresh
 * child process so peaks do not mix. Options (env): BENCH_TYPES (comma list, default "i2_s,tq2_0").
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { bitnet2B4TSpec, isQuantizedTable, openModel, planGgufExport, randomPackedWeights, writeGguf } from "../src/index";

const mib = (b: number) => (b / 2 ** 20).toFixed(0);

if (process.env.LOAD_CHILD) {
  // child: load once and report
  const path = process.env.LOAD_CHILD;
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const m = await openModel(path);
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  // a TQ2_0/I2_S projection refers to its file bytes (`encoded`); reading `data` would transcode it now
  let bytes = 0;
  for (const w of m.weights.values())
    bytes += w instanceof Float32Array ? w.byteLength : isQuantizedTable(w) ? w.byteLength : (w.encoded ? w.encoded.bytes.length : w.data.byteLength) + w.scales.byteLength;
  console.log(JSON.stringify({ seconds, modelBytes: bytes, baselineRss: before, peakRss: peak }));
  process.exit(0);
}

const dir = process.env.BENCH_DIR ?? join(tmpdir(), "onebit-bench");
mkdirSync(dir, { recursive: true });
const types = (process.env.BENCH_TYPES ?? "i2_s,tq2_0").split(",") as Array<"i2_s" | "tq2_0">;
const spec = bitnet2B4TSpec();
console.log(`load benchmark: 2B4T shape, random ternary weights; machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n`);
let weights: ReturnType<typeof randomPackedWeights> | undefined;
for (const type of types) {
  const file = join(dir, `2b4t-random-${type}.gguf`);
  if (!existsSync(file)) {
    weights ??= randomPackedWeights(spec, 1);
    const t0 = performance.now();
    const plan = planGgufExport(spec, weights, { type, embeddingType: "f16", tokenizer: [] });
    await writeGguf(file, { metadata: plan.metadata, tensors: plan.tensors });
    console.log(`wrote ${file} (${mib(statSync(file).size)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
weights = undefined;
console.log("| file | size MiB | load s | model MiB | peak RSS − baseline MiB | over the model MiB |");
console.log("|---|---|---|---|---|---|");
for (const type of types) {
  const file = join(dir, `2b4t-random-${type}.gguf`);
  const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!], { env: { ...process.env, LOAD_CHILD: file }, encoding: "utf8", maxBuffer: 1 << 20 });
  const r = JSON.parse(out.trim().split("\n").pop()!) as { seconds: number; modelBytes: number; baselineRss: number; peakRss: number };
  const used = r.peakRss - r.baselineRss;
  console.log(`| ${type} | ${mib(statSync(file).size)} | ${r.seconds.toFixed(1)} | ${mib(r.modelBytes)} | ${mib(used)} | ${mib(used - r.modelBytes)} |`);
}
