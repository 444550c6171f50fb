/**
 * `pnpm report -- [--only <piece>[,<piece>…]] [--heavy] [--force]`:
 * - no flags: render docs/report/README.md and its figures from the cached JSON; run only the pieces whose JSON
 *   is missing (a fresh clone has them all, so this takes seconds);
 * - --only: run those pieces (a training piece trains only the runs its JSON lacks), then render;
 * - --heavy: include the opt-in long runs (wider models, more seeds) in the pieces that run;
 * - --force: retrain / remeasure the selected pieces from scratch.
 */
export const PIECES = ["scaling", "latency", "energy", "a48", "groups"] as const;
export type Piece = (typeof PIECES)[number];

export interface ReportOptions {
  only?: Piece[];
  heavy: boolean;
  force: boolean;
}

export function parseReportArgs(argv: string[]): ReportOptions {
  const o: ReportOptions = { heavy: false, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") continue;
    if (a === "--heavy") o.heavy = true;
    else if (a === "--force") o.force = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a === "--only" ? argv[++i] : a.slice("--only=".length);
      if (!v) throw new Error("--only: give a piece name");
      const names = v.split(",").map((s) => s.trim());
      for (const n of names) if (!(PIECES as readonly string[]).includes(n)) throw new Error(`--only: unknown piece "${n}"; pieces: ${PIECES.join(", ")}`);
      o.only = [...(o.only ?? []), ...(names as Piece[])];
    } else throw new Error(`unknown argument "${a}"; usage: pnpm report -- [--only ${PIECES.join("|")}] [--heavy] [--force]`);
  }
  return o;
}
