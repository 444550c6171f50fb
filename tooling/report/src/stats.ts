/** Mean and spread over seeds, and how a result with fewer than 3 seeds is marked in tables and figures. */
export interface SeedStats {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export function seedStats(values: number[]): SeedStats {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** "72.4 (70.1–74.0, 3 seeds)" or "72.4 (1 seed †)": † marks fewer than 3 seeds, as the issue asks. */
export function formatStats(s: SeedStats, digits = 1): string {
  if (s.n === 0) return "—";
  if (s.n === 1) return `${s.mean.toFixed(digits)} †`;
  return `${s.mean.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}, ${s.n} seeds)${s.n < 3 ? " †" : ""}`;
}

export const FEW_SEEDS_NOTE = "† fewer than 3 seeds.";

export function pct(x: number, digits = 1): string {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(digits)} %`;
}
