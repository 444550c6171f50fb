/**
 * What every cached result records about where it came from: the command, the machine, the commit of the code
 * that produced it and when — the report prints these under each figure.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { machineLine } from "./machine";
import { REPO_ROOT } from "./paths";

export interface Provenance {
  command: string;
  machine: string;
  commit: string;
  date: string;
}

export function currentCommit(): string {
  const snapshot = join(REPO_ROOT, ".snapshot-commit"); // a `git archive` copy has no .git
  if (existsSync(snapshot)) return readFileSync(snapshot, "utf8").trim().slice(0, 12);
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

export function provenance(command: string): Provenance {
  return { command, machine: machineLine(), commit: currentCommit(), date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC` };
}
