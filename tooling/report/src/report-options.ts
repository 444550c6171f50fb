/**
 * `pnpm report -- [--only <piece>[,<piece>…]] [--seeds] [--heavy] [--force] [--parallel <n>]`:
 * - no flags: render docs/report/README.md and its figures from the cached JSON; run only the pieces whose JSON
 *   is missing (a fresh clone has them all, so this takes seconds);
 * - --only: run those pieces (a training piece trains only the runs its JSON lacks), then render;
 * - --seeds: add seeds 2 and 3 of the main scaling grid (fp and b1.58 at widths 32 / 64 / 128 under every
 *   learning-rate rule) — the runs that give section 1's gap a spread, without the rest of --heavy;
 * - --heavy: include every opt-in long run (--seeds, plus width 256, seeds 2 and 3 of BitNet and a4.8, the a4.8
 *   ablations left out by default);
 * - --force: retrain / remeasure the selected pieces from scratch;
 * - --parallel: how many training processes run at once (default 2, one per core of the 2-core machine the
 *   report was made on; 1 leaves a core to other work).
 */
export const PIECES = ["scaling", "latency", "energy", "a48", "groups"] as const;
export type Piece = (typeof PIECES)[number];

/** Which opt-in runs a piece adds: none, the scaling grid's extra seeds, or every opt-in run. */
export type RunLevel = "default" | "seeds" | "heavy";

export interface ReportOptions {
  only?: Piece[];
  level: RunLevel;
  force: boolean;
  parallel: number;
}

export const DEFAULT_PARALLEL = 2;

const USAGE = `usage: pnpm report -- [--only ${PIECES.join("|")}] [--seeds] [--heavy] [--force] [--parallel <n>]`;

export function parseReportArgs(argv: string[]): ReportOptions {
  const o: ReportOptions = { level: "default", force: false, parallel: DEFAULT_PARALLEL };
  const value = (a: string, name: string, i: number): [string | undefined, number] => (a === name ? [argv[i + 1], i + 1] : [a.slice(name.length + 1), i]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") continue;
    if (a === "--heavy") o.level = "heavy";
    else if (a === "--seeds") o.level = o.level === "heavy" ? "heavy" : "seeds";
    else if (a === "--force") o.force = true;
    else if (a === "--parallel" || a.startsWith("--parallel=")) {
      const [v, next] = value(a, "--parallel", i);
      i = next;
      const n = Number(v);
      if (!v || !Number.isInteger(n) || n < 1) throw new Error(`--parallel: give a whole number of training processes ≥ 1, got "${v ?? ""}"`);
      o.parallel = n;
    } else if (a === "--only" || a.startsWith("--only=")) {
      const [v, next] = value(a, "--only", i);
      i = next;
      if (!v) throw new Error(`--only: give a piece name (${PIECES.join(", ")})`);
      const names = v.split(",").map((s) => s.trim());
      for (const n of names) if (!(PIECES as readonly string[]).includes(n)) throw new Error(`--only: unknown piece "${n}"; pieces: ${PIECES.join(", ")}`);
      o.only = [...(o.only ?? []), ...(names as Piece[])];
    } else throw new Error(`unknown argument "${a}"; ${USAGE}`);
  }
  return o;
}

/** The flags that select a piece's runs, as the command line a result records. */
export function levelFlag(level: RunLevel): string {
  return level === "default" ? "" : ` --${level}`;
}
