/**
 * The results cache: one JSON file per piece under docs/report/results/. Written atomically (tmp + rename) after
 * every finished run, so an interrupted piece resumes where it stopped instead of starting over.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR } from "./paths";

export function resultsPath(name: string, dir = RESULTS_DIR): string {
  return join(dir, `${name}.json`);
}

export function readResults<T>(name: string, dir = RESULTS_DIR): T | undefined {
  const p = resultsPath(name, dir);
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as T) : undefined;
}

export function writeResults(name: string, value: unknown, dir = RESULTS_DIR): void {
  mkdirSync(dir, { recursive: true });
  const p = resultsPath(name, dir);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(`${p}.tmp`, p);
}
