/**
 * The ε of the quantizer formulas, in the two conventions: the papers' γ + ε and the reference code's max(γ, 1e-5):
 * - "clamp" (default): the reference code's `clamp(stat, min=1e-5)` — a floor on the statistic;
 * - "add": the papers' `stat + ε`.
 */
export type EpsMode = "clamp" | "add";
export const DEFAULT_EPS = 1e-5;

export interface EpsOptions {
  eps?: number;
  epsMode?: EpsMode;
}

/** The guarded denominator, in float32. */
export function guard(stat: number, options: EpsOptions = {}): number {
  const eps = Math.fround(options.eps ?? DEFAULT_EPS);
  const mode = options.epsMode ?? "clamp";
  if (mode !== "clamp" && mode !== "add") throw new RangeError(`epsMode: expected "clamp" or "add", got ${JSON.stringify(mode)}`);
  if (!(eps >= 0)) throw new RangeError(`eps: expected a non-negative number, got ${options.eps}`);
  return mode === "clamp" ? Math.max(Math.fround(stat), eps) : Math.fround(stat + eps);
}
