/**
 * Piece 4 measures the analysed models (ANALYSED_RUNS: the width-64 b1.58 and two-stage a4.8 runs of the scaling
 * piece) on the inference engine right after training them, and the report keeps only the measurements, not the
 * weights. When @onebit/kv gains a KV store the cached analyses lack (the 8-bit cache that a4.8's Table 3,
 * arXiv 2411.04965, compares its 4-bit and 3-bit settings with), `--only a48` brings them up to date: it retrains
 * those runs — same config, seed and batch order, so the same weights, which the validation perplexity checks
 * against the cached run — and replaces their results in scaling.json. A few minutes of training; nothing else in
 * the scaling piece is touched.
 */
import { provenance } from "../provenance";
import { readResults, writeResults } from "../results-cache";
import { type A48Analysis, kvBitsMeasured } from "../train/a48-inference";
import { runPool } from "../train/run-pool";
import type { RunConfig } from "../train/train-run";
import type { TrainingResults } from "../train/training-piece";
import { ANALYSED_RUNS } from "./scaling-runs";

/** Relative difference in validation perplexity above which a retrained run is not "the same model". */
const SAME_MODEL_TOLERANCE = 1e-4;

/** The analysed runs whose cached analysis lacks a KV width the cache now has (all of them with force). */
export function staleAnalyses(scaling: TrainingResults | undefined, force = false): RunConfig[] {
  if (!scaling) return [];
  const want = kvBitsMeasured();
  return ANALYSED_RUNS.map((id) => scaling.runs[id])
    .filter((run) => run !== undefined)
    .filter((run) => {
      const kv = (run.analysis as A48Analysis | undefined)?.kv ?? [];
      return force || want.some((bits) => !kv.some((k) => k.kvBits === bits && k.queryBits === undefined));
    })
    .map((run) => ({ ...run.config, inferenceAnalysis: true }));
}

export async function reanalyse(command: string, options: { force?: boolean; parallel?: number } = {}): Promise<void> {
  const todo = staleAnalyses(readResults<TrainingResults>("scaling"), options.force);
  if (!todo.length) {
    console.error(`a48: the analyses of ${ANALYSED_RUNS.join(", ")} are up to date (KV widths ${kvBitsMeasured().join(", ")})`);
    return;
  }
  console.error(`a48: re-measuring ${todo.map((c) => c.id).join(", ")} with KV widths ${kvBitsMeasured().join(", ")} (retrains each, same seed)`);
  await runPool(
    todo,
    (r) => {
      const scaling = readResults<TrainingResults>("scaling")!; // re-read: another process may have added runs meanwhile
      const before = scaling.runs[r.config.id];
      const drift = before ? Math.abs(r.validationPerplexity / before.validationPerplexity - 1) : 0;
      if (before && drift > SAME_MODEL_TOLERANCE)
        console.error(`a48: ${r.config.id} retrained to val ppl ${r.validationPerplexity.toFixed(4)}, cached ${before.validationPerplexity.toFixed(4)} (${(drift * 100).toFixed(3)} % apart): the new result replaces the old one whole, so the run and its analysis stay one model`);
      else if (before) console.error(`a48: ${r.config.id} retrained to the same model (val ppl ${r.validationPerplexity.toFixed(4)}, cached ${before.validationPerplexity.toFixed(4)})`);
      scaling.runs[r.config.id] = r;
      scaling.reanalysis = { provenance: provenance(command), runs: [...new Set([...(scaling.reanalysis?.runs ?? []), r.config.id])] };
      writeResults("scaling", scaling);
    },
    { parallel: options.parallel },
  );
}
