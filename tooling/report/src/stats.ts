/** Mean and spread over seeds, and how a result with fewer than 3 seeds is marked in tables and figures. */
export interface SeedStats {
  mean: number;
  /** sample standard deviation (n − 1); 0 for one seed */
  std: number;
  min: number;
  max: number;
  n: number;
}

export function seedStats(values: number[]): SeedStats {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** "72.4 ± 1.6 (70.1–74.0)" for 3 or more seeds, "72.4 ± 0.8 (2 seeds †)" or "72.4 †": † marks fewer than 3 seeds, as the issue asks. */
export function formatStats(s: SeedStats, digits = 1): string {
  if (s.n === 0) return "—";
  if (s.n === 1) return `${s.mean.toFixed(digits)} †`;
  if (s.n < 3) return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)} (${s.n} seeds †)`;
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/** A relative gap over seeds: "+19.3 %" for one seed (†), "+19.3 ± 1.2 %" otherwise (sample std). */
export function formatGap(s: SeedStats, digits = 1): string {
  if (s.n === 0) return "—";
  if (s.n === 1) return `${pct(s.mean, digits)} †`;
  return `${pct(s.mean, digits).replace(" %", "")} ± ${(s.std * 100).toFixed(digits)} %${s.n < 3 ? " †" : ""}`;
}

export const FEW_SEEDS_NOTE = "± is the sample standard deviation over seeds, followed by the min–max range; † fewer than 3 seeds.";

export function pct(x: number, digits = 1): string {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(digits)} %`;
}
