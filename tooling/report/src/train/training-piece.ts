/**
 * A piece of the report made of training runs: its configs, the cached results (one JSON per piece, keyed by run
 * id) and the runs still missing. Re-running a piece trains only what its JSON lacks, so an interrupted piece
 * resumes and `--force` is the only way to retrain what is cached.
 */
import { type Provenance, provenance } from "../provenance";
import { readResults, writeResults } from "../results-cache";
import { runPool } from "./run-pool";
import type { RunConfig, RunResult } from "./train-run";

export interface TrainingResults {
  piece: string;
  provenance: Provenance;
  runs: Record<string, RunResult>;
  /** Set when some runs' inference analyses were measured again later (pieces/a48-reanalysis.ts): by what, which runs. */
  reanalysis?: { provenance: Provenance; runs: string[] };
}

/** "2026-11-30 11:03 – 14:49 UTC": when a piece's runs were made, from its first run to its latest. */
export function dateSpan(first: string, latest: string): string {
  const start = first.split(" – ")[0]!.replace(/ UTC$/, "");
  const end = latest.replace(/ UTC$/, "");
  if (start === end) return `${start} UTC`;
  return start.slice(0, 10) === end.slice(0, 10) ? `${start} – ${end.slice(11)} UTC` : `${start} – ${end} UTC`;
}

export function missingRuns(name: string, configs: RunConfig[]): RunConfig[] {
  const cached = readResults<TrainingResults>(name)?.runs ?? {};
  return configs.filter((c) => !cached[c.id]);
}

export async function runTrainingPiece(name: string, configs: RunConfig[], command: string, options: { force?: boolean; parallel?: number } = {}): Promise<TrainingResults> {
  const existing = options.force ? undefined : readResults<TrainingResults>(name);
  const results: TrainingResults = existing ?? { piece: name, provenance: provenance(command), runs: {} };
  const todo = configs.filter((c) => !results.runs[c.id]);
  if (todo.length) console.error(`${name}: ${todo.length} of ${configs.length} runs to train`);
  await runPool(
    todo,
    (r) => {
      // re-read before writing: another process may have added runs to the same piece meanwhile
      const latest = (options.force ? undefined : readResults<TrainingResults>(name)) ?? results;
      latest.runs = { ...results.runs, ...latest.runs, [r.config.id]: r };
      latest.provenance = { ...provenance(command), date: dateSpan(results.provenance.date, provenance(command).date) };
      Object.assign(results, latest);
      writeResults(name, latest);
    },
    { parallel: options.parallel },
  );
  return results;
}
