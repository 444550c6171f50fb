/**
 * Piece 2: decode latency and memory against model size, 1-bit (b1.58, ternary weights packed 2 bits each) and fp
 * (float32 dense — the engine's full-precision path; the paper's baseline is FP16) of the same LLaMA shape, on this
 * machine, one thread (b1.58 arXiv 2402.17764 Table 1 and Figure 2 measured on a GPU with FasterTransformer and
 * Ladder's 2-bit kernel). Every model is measured at 1 and 2 layers (full width, embedding and LM head included)
 * and, where it fits in memory, whole; whole-model numbers not measured are extrapolated linearly in the layer
 * count from the 1- and 2-layer runs (a decoder's per-token cost is the per-layer cost × layers + embedding/LM
 * head), and the report marks them. float32 weights from 1.3B up do not fit the wasm backend's 4 GiB memory
 * (and float32 7B, 27 GB, not this 24 GiB machine).
 */
import { fork } from "node:child_process";
import { freemem } from "node:os";
import { fileURLToPath } from "node:url";
import type { Variant } from "@onebit/layers";
import { parameterCounts } from "@onebit/model";
import { type Provenance, provenance } from "../provenance";
import { readResults, writeResults } from "../results-cache";
import type { LatencyJob, LatencyMeasurement } from "./latency-child";
import { LLAMA_SHAPES, llamaSpec } from "./llama-shapes";

export interface LatencyResults {
  piece: "latency";
  provenance: Provenance;
  threads: 1;
  measurements: LatencyMeasurement[];
}

export const LATENCY_SHAPES = ["700M", "1.3B", "3B", "7B"] as const;
const PROMPT = 4;
const DECODE = 8;
const childModule = fileURLToPath(new URL("./latency-child.ts", import.meta.url));

function runChild(job: LatencyJob): Promise<LatencyMeasurement> {
  return new Promise((resolve, reject) => {
    let got: LatencyMeasurement | undefined;
    const c = fork(childModule, [], { execArgv: process.execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    c.on("message", (m) => {
      got = (m as { result: LatencyMeasurement }).result;
    });
    c.on("exit", (code) => (code === 0 && got ? resolve(got) : reject(new Error(`latency ${job.shape} ${job.variant} ${job.layers} layers: exited with ${code}`))));
    c.send({ job });
  });
}

/**
 * Whole models are measured when their weights fit the wasm backend's memory — it holds every projection and the
 * LM head in one 32-bit wasm address space, at most 4 GiB (the float32 1.3B model, 5.4 GB, fails to load) — and
 * take under 40 % of free RAM (the machine is shared).
 */
export const WASM_WEIGHT_LIMIT = 3.5 * 2 ** 30;
function fitsWhole(shape: string, variant: Variant): boolean {
  const s = LLAMA_SHAPES.find((x) => x.name === shape)!;
  const c = parameterCounts(llamaSpec(s, variant));
  const bytes = variant === "fp" ? c.total * 4 : (c.total - c.embedding - c.lm_head) / 4 + (c.embedding + c.lm_head) * 4;
  return bytes < WASM_WEIGHT_LIMIT && bytes < 0.4 * freemem();
}

export function latencyJobs(): LatencyJob[] {
  const jobs: LatencyJob[] = [];
  for (const shape of LATENCY_SHAPES)
    for (const variant of ["b1.58", "fp"] as Variant[]) {
      for (const layers of [1, 2]) jobs.push({ shape, variant, layers, promptTokens: PROMPT, decodeTokens: DECODE });
      const full = LLAMA_SHAPES.find((s) => s.name === shape)!.layers;
      if (fitsWhole(shape, variant)) jobs.push({ shape, variant, layers: full, promptTokens: PROMPT, decodeTokens: DECODE });
    }
  return jobs;
}

const key = (j: LatencyJob) => `${j.shape}/${j.variant}/${j.layers}`;

export async function runLatency(command: string, force = false): Promise<LatencyResults> {
  const results: LatencyResults = (!force && readResults<LatencyResults>("latency")) || { piece: "latency", provenance: provenance(command), threads: 1, measurements: [] };
  const done = new Set(results.measurements.map(key));
  for (const job of latencyJobs()) {
    if (done.has(key(job))) continue;
    console.error(`latency: ${job.shape} ${job.variant} ${job.layers} layer(s)`);
    const m = await runChild(job);
    console.error(`  decode ${m.decodeCpuMsMedian.toFixed(1)} CPU ms/token (${m.decodeMsMedian.toFixed(1)} wall), weights ${(m.weightBytes / 2 ** 30).toFixed(2)} GiB, RSS ${(m.rssBytes / 2 ** 30).toFixed(2)} GiB`);
    results.measurements.push(m);
    results.provenance = { ...provenance(command), date: results.provenance.date };
    writeResults("latency", results);
  }
  return results;
}

export interface LatencyRow {
  shape: string;
  variant: Variant;
  parameters: number;
  /** CPU ms per decode step (median) — the plotted latency; wall ms beside it */
  decodeCpuMs: number;
  decodeMs: number;
  weightBytes: number;
  rssBytes: number;
  /** "measured" (the whole model ran) or "extrapolated" (from its 1- and 2-layer runs) */
  source: "measured" | "extrapolated";
  /** the extrapolation, also where the whole model was measured (to check the method) */
  extrapolatedCpuMs: number;
}

/** Per (shape, variant): the whole-model number where measured, else t(L) = t(1) + (t(2) − t(1))·(L − 1). */
export function latencyRows(r: LatencyResults): LatencyRow[] {
  const rows: LatencyRow[] = [];
  for (const shape of LATENCY_SHAPES)
    for (const variant of ["b1.58", "fp"] as Variant[]) {
      const L = LLAMA_SHAPES.find((s) => s.name === shape)!.layers;
      const at = (layers: number) => r.measurements.find((m) => m.shape === shape && m.variant === variant && m.layers === layers);
      const [one, two, whole] = [at(1), at(2), at(L)];
      if (!one || !two) continue;
      const lin = (a: number, b: number) => a + (b - a) * (L - 1);
      const extrapolatedCpuMs = lin(one.decodeCpuMsMedian, two.decodeCpuMsMedian);
      const parameters = parameterCounts(llamaSpec(LLAMA_SHAPES.find((s) => s.name === shape)!, variant)).total;
      rows.push({
        shape,
        variant,
        parameters,
        decodeCpuMs: whole ? whole.decodeCpuMsMedian : extrapolatedCpuMs,
        decodeMs: whole ? whole.decodeMsMedian : lin(one.decodeMsMedian, two.decodeMsMedian),
        weightBytes: whole ? whole.weightBytes : lin(one.weightBytes, two.weightBytes),
        rssBytes: whole ? whole.rssBytes : lin(one.rssBytes, two.rssBytes),
        source: whole ? "measured" : "extrapolated",
        extrapolatedCpuMs,
      });
    }
  return rows;
}
