/**
 * Section 1's findings, computed from scaling.json like its figures: the b1.58 gap per width under each
 * learning-rate rule with its spread over seeds (and whether the change across widths stands out of that spread),
 * what each rule changes, the rates tried at each width, and the reading — which sentence is printed is chosen
 * by the numbers, so a re-run with other results rewrites it.
 */
import type { Variant } from "@onebit/layers";
import { B158_TABLE1 } from "./paper-numbers";
import { BASE_WIDTH, baseLr, RULES, SCALING_BUDGET } from "./pieces/scaling-runs";
import { pairedGap } from "./sections/paired-gap";
import { blockSplit, RULE_LABEL, RULE_SHORT, runsOf, scalingWidths } from "./sections/scaling-section";
import { formatGap, pct, type SeedStats, seedStats } from "./stats";
import type { LrRule, RunConfig, RunResult } from "./train/train-run";
import type { TrainingResults } from "./train/training-piece";

export const trend = (xs: number[]) => (xs.every((x, i) => i === 0 || x > xs[i - 1]!) ? "grows" : xs.every((x, i) => i === 0 || x < xs[i - 1]!) ? "shrinks" : "is not monotonic");

/** The peak rate a run's hidden matrices trained at (μP's multiplier applied below and above the base width). */
export function hiddenLr(c: RunConfig): number {
  return c.rule === "constant" ? c.lr : (c.lr * (c.baseWidth ?? BASE_WIDTH)) / c.width;
}

/** percentage points */
const pp = (x: number) => `${(x * 100).toFixed(1)} points`;

interface WidthGap {
  w: number;
  g: SeedStats;
}

function gapsOf(r: TrainingResults, rule: LrRule): WidthGap[] {
  return scalingWidths(r)
    .map((w) => ({ w, g: pairedGap(r, rule, "b1.58", w) }))
    .filter((x) => x.g.n > 0);
}

/** Does the gap's change from the narrowest to the widest width stand out of the seed spread (> 2 standard errors)? */
function spreadVerdict(g: WidthGap[]): { text: string; resolved: boolean } {
  const a = g[0]!;
  const b = g.at(-1)!;
  if (a.g.n < 2 || b.g.n < 2) return { text: "one seed at an end: the spread is not measured (†)", resolved: false };
  const diff = b.g.mean - a.g.mean;
  const se = Math.sqrt(a.g.std ** 2 / a.g.n + b.g.std ** 2 / b.g.n);
  const resolved = Math.abs(diff) > 2 * se;
  return { text: `from width ${a.w} to ${b.w} it moves ${diff >= 0 ? "up" : "down"} ${pp(Math.abs(diff))}, ${resolved ? "beyond" : "within"} twice its standard error over seeds (2 × ${pp(se)})`, resolved };
}

/**
 * fp or b1.58 runs at one width grouped by the rates they trained at — the hidden matrices' and the rest's
 * (embedding, norm gains: the base rate under every rule) — rules and probes together.
 */
function byRate(r: TrainingResults, variant: Variant, width: number): Array<{ lr: number; otherLr: number; label: string; s: SeedStats; runs: RunResult[] }> {
  const groups = new Map<string, RunResult[]>();
  for (const x of Object.values(r.runs))
    if (x.config.variant === variant && x.config.width === width && !x.config.groups && !x.config.subNorm && !x.config.hiddenAct && x.divergedAtStep === undefined) {
      const key = `${hiddenLr(x.config).toPrecision(3)}/${x.config.lr.toPrecision(3)}`;
      groups.set(key, [...(groups.get(key) ?? []), x]);
    }
  return [...groups.entries()]
    .map(([key, runs]) => {
      const [lr, otherLr] = key.split("/").map(Number) as [number, number];
      return { lr, otherLr, label: rateLabel(lr, otherLr), runs, s: seedStats(runs.map((x) => x.validationPerplexity)) };
    })
    .sort((a, b) => a.lr - b.lr || a.otherLr - b.otherLr);
}

/** "5.0e-3" when every parameter trained at one rate, "6.0e-3 (rest 3.0e-3)" when μP set the hidden matrices apart. */
export function rateLabel(hidden: number, other: number): string {
  return Math.abs(hidden / other - 1) < 1e-6 ? hidden.toExponential(1) : `${hidden.toExponential(1)} (rest ${other.toExponential(1)})`;
}

const seedsNote = (s: SeedStats) => (s.n >= 3 ? "" : ` (${s.n} seed${s.n === 1 ? "" : "s"} †)`);

export function scalingFindings(r: TrainingResults): string {
  const out: string[] = [];
  const widths = scalingWidths(r);
  const verdicts = new Map<LrRule, { g: WidthGap[]; t: string; resolved: boolean }>();
  for (const rule of RULES) {
    const g = gapsOf(r, rule);
    if (g.length < 2) continue;
    const t = trend(g.map((x) => x.g.mean));
    const v = spreadVerdict(g);
    verdicts.set(rule, { g, t, resolved: v.resolved });
    out.push(`- **${RULE_LABEL[rule]}:** b1.58 vs fp ${g.map((x) => `${formatGap(x.g)} at width ${x.w}`).join(", ")} — the gap ${t} with width; ${v.text}.`);
  }
  const split = blockSplit(r).filter((x) => x.quantization.n > 0 && x.block.n > 0);
  if (split.length) {
    const q = split.map((x) => ({ w: x.width, g: x.quantization }));
    const qv = q.length >= 2 ? spreadVerdict(q) : undefined;
    const first = split[0]!;
    const last = split.at(-1)!;
    // does the control itself move with width (the block's cost on fp weights), rather than b1.58?
    const blockMoves = split.length >= 2 ? spreadVerdict(split.map((x) => ({ w: x.width, g: x.block }))) : undefined;
    const lowV = verdicts.get("mup-low");
    const controlDrives = qv?.resolved && blockMoves?.resolved && lowV && !lowV.resolved && Math.sign(last.block.mean - first.block.mean) === -Math.sign(last.quantization.mean - first.quantization.mean);
    out.push(
      `- **Block against quantization** (every model under μP at 3e-3; the control is fp weights in b1.58's ReLU²GLU + SubLN block): ${split.map((x) => `width ${x.width}: the block alone ${formatGap(x.block)}, the quantization alone ${formatGap(x.quantization)}`).join("; ")}${qv ? ` — against the control, the quantization's cost ${trend(q.map((x) => x.g.mean))} with width (${qv.text})` : ""}.${
        controlDrives
          ? ` But it is the control that moves: on fp weights b1.58's block goes from ${formatGap(first.block)} at width ${first.width} to ${formatGap(last.block)} at width ${last.width} against LLaMA's block at the same rates (the control, ${last.control.mean.toFixed(1)} at width ${last.width}, is behind both fp ${last.fp.mean.toFixed(1)} and b1.58 ${last.b158.mean.toFixed(1)}), while b1.58 against LLaMA-block fp moves only within the seed spread (${formatGap(first.total)} → ${formatGap(last.total)}). So the ternary weights tolerate that block at this rate where fp weights do not; b1.58 does not catch up with fp. The control's rate was not tuned, so this splits the gap at one rate, not at each model's best.`
          : ""
      }`,
    );
  }
  // what each rule does to each model at the narrow widths
  const mean = (rule: LrRule, v: Variant, w: number) => seedStats(runsOf(r, rule, v, w).map((x) => x.validationPerplexity));
  const deltas = widths
    .filter((w) => w !== BASE_WIDTH)
    .flatMap((w) =>
      (["fp", "b1.58"] as Variant[]).map((v) => {
        const c = mean("constant", v, w);
        const m = mean("mup", v, w);
        return c.n && m.n ? `${v} ${pct(m.mean / c.mean - 1)} at width ${w}` : "";
      }),
    )
    .filter(Boolean);
  if (deltas.length) out.push(`- **μP against the papers' rule** (perplexity change, seed means, from μP's higher hidden-matrix rate below width ${BASE_WIDTH}): ${deltas.join(", ")}.`);
  // the rates tried at each width, and the best of each model
  const rates = widths
    .map((w) => {
      const f = byRate(r, "fp", w);
      const b = byRate(r, "b1.58", w);
      if (b.length < 2) return "";
      const fmt = (xs: typeof f) => xs.map((x) => `${x.label} → ${x.s.mean.toFixed(1)}${seedsNote(x.s)}`).join(", ");
      return `width ${w}: b1.58 ${fmt(b)}; fp ${fmt(f)}`;
    })
    .filter(Boolean);
  if (rates.length) out.push(`- **Peak rate of the hidden matrices (and of the embedding and norm gains, where μP sets them apart) → validation perplexity** (seed means; every rule and probe): ${rates.join(". ")}.`);
  // the best of the rates with the most seeds (a one-seed probe is not set against three-seed means)
  const best = (v: Variant, w: number) => {
    const xs = byRate(r, v, w);
    const most = Math.max(...xs.map((x) => x.s.n));
    return xs.filter((x) => x.s.n === most).reduce<(typeof xs)[number] | undefined>((a, x) => (!a || x.s.mean < a.s.mean ? x : a), undefined);
  };
  const tuned = widths.map((w) => ({ w, fp: best("fp", w), b: best("b1.58", w) })).filter((x) => x.fp && x.b);
  const tunedGaps = tuned.map((x) => x.b!.s.mean / x.fp!.s.mean - 1);
  if (tuned.length >= 2)
    out.push(
      `- **Each model at the best rate tried at its width** (among the rates run with the most seeds): ${tuned.map((x, i) => `width ${x.w}: b1.58 ${x.b!.s.mean.toFixed(1)} at ${x.b!.label} vs fp ${x.fp!.s.mean.toFixed(1)} at ${x.fp!.label} (${pct(tunedGaps[i]!)}${seedsNote(x.b!.s)})`).join("; ")} — the gap ${trend(tunedGaps)} with width. Only two or three rates per model and width were tried, so "best tried" is not "optimal".`,
    );
  out.push(reading(r, verdicts));
  // where in the run the 1-bit model falls behind at the base width (seed means of the validation evaluations)
  const fpRuns = runsOf(r, "constant", "fp", BASE_WIDTH);
  for (const rule of ["constant", "mup-low"] as LrRule[]) {
    const bRuns = runsOf(r, rule, "b1.58", BASE_WIDTH);
    if (!fpRuns.length || !bRuns.length) continue;
    const val = (runs: RunResult[], step: number) => seedStats(runs.map((x) => x.curve.find((p) => p.step === step)?.validationLoss).filter((x): x is number => x !== undefined).map(Math.exp)).mean;
    const steps = fpRuns[0]!.curve.filter((p) => p.validationLoss !== undefined).map((p) => p.step);
    out.push(`- **During the run** (width ${BASE_WIDTH}, b1.58 at ${baseLr("b1.58", rule).toExponential(1)} vs fp at ${baseLr("fp", rule).toExponential(1)}, validation perplexity of the seed means): ${steps.map((s) => `step ${s}: ${pct(val(bRuns, s) / val(fpRuns, s) - 1)}`).join(", ")} — the two-stage schedule's second stage (lower rate, no weight decay, b1.58 arXiv 2402.17764 §2) starts at step ${SCALING_BUDGET.steps / 2}.`);
  }
  const paper = B158_TABLE1.map((t) => `${t.size} ${pct(t.b158Ppl / t.fpPpl - 1)}`).join(", ");
  out.push(`- **The paper** (b1.58 Table 1): ${paper} — the gap closes between 700M and 3B parameters at 100B tokens, 3–4 orders of magnitude above these models and 6 above their token budget.`);
  return out.join("\n");
}

/** A rule's name inside a sentence. */
const RULE_NAME: Record<LrRule, string> = { constant: "the papers' rule", mup: "μP", "mup-low": "μP at fp's rate" };

/** Is a gap consistent with zero: within twice its standard error over seeds? */
const level = (g: SeedStats) => g.n >= 2 && Math.abs(g.mean) <= (2 * g.std) / Math.sqrt(g.n);

/** "level with fp", "ahead of fp" or "behind fp" at one width, by the seed spread. */
function standing(x: WidthGap): string {
  if (x.g.n < 2) return `${x.g.mean < 0 ? "ahead of" : "behind"} fp on one seed † at width ${x.w}`;
  return level(x.g) ? `level with fp at width ${x.w}` : `${x.g.mean < 0 ? "ahead of" : "behind"} fp at width ${x.w} (${formatGap(x.g)})`;
}

/** The reading of the three rules together: does any make the gap shrink with width, beyond the seed spread — and if not, why. */
function reading(r: TrainingResults, verdicts: Map<LrRule, { g: WidthGap[]; t: string; resolved: boolean }>): string {
  const low = verdicts.get("mup-low");
  const papers = verdicts.get("constant");
  if (!low || !papers) return "";
  const shrinking = [...verdicts.entries()].filter(([, v]) => v.t === "shrinks");
  const growing = [...verdicts.entries()].filter(([, v]) => v.t === "grows" || (v.resolved && v.g.at(-1)!.g.mean > v.g[0]!.g.mean));
  const at = (v: { g: WidthGap[] }, w: number) => v.g.find((x) => x.w === w)?.g;
  const parts: string[] = [];
  parts.push(
    shrinking.some(([, v]) => v.resolved)
      ? `The gap shrinks with width, beyond the seed spread, under ${shrinking.filter(([, v]) => v.resolved).map(([k]) => RULE_SHORT[k]).join(" and ")}.`
      : shrinking.length
        ? `The gap shrinks with width in the means under ${shrinking.map(([k]) => RULE_SHORT[k]).join(" and ")}, but not beyond the seed spread.`
        : "No rule tried makes the gap shrink with width at this scale.",
  );
  if (growing.length) {
    const delta = (v: Variant, w: number) => {
      const c = seedStats(runsOf(r, "constant", v, w).map((x) => x.validationPerplexity));
      const m = seedStats(runsOf(r, "mup", v, w).map((x) => x.validationPerplexity));
      return c.n && m.n ? pct(m.mean / c.mean - 1) : "—";
    };
    const narrow = papers.g.filter((x) => x.w !== BASE_WIDTH);
    parts.push(
      `Under ${growing.map(([k]) => RULE_NAME[k]).join(" and ")} it rises from the narrowest to the widest width, beyond the seed spread: both train b1.58 at 5e-3 at width ${BASE_WIDTH}, too high a rate for it there (${formatGap(at(papers, BASE_WIDTH) ?? seedStats([]))}); below, the papers' rule's b1.58 at 5e-3 is far ahead of fp at 3e-3 (${narrow.map((x) => formatGap(x.g)).join(", ")} at widths ${narrow.map((x) => x.w).join(", ")}), and μP's higher hidden-matrix rates cost b1.58 ${narrow.map((x) => delta("b1.58", x.w)).join(" / ")} in perplexity while they help fp (${narrow.map((x) => delta("fp", x.w)).join(" / ")}).`,
    );
  }
  // the rule the first two pointed to: one μP recipe, the 1-bit rate at fp's
  const lowEnds = spreadVerdict(low.g);
  parts.push(
    `Under μP with the 1-bit base rate at fp's — one recipe for both models — b1.58 is ${low.g.map(standing).join(", ")}; ${lowEnds.text}. ${
      lowEnds.resolved
        ? low.g.at(-1)!.g.mean > low.g[0]!.g.mean
          ? "So under this rule too the gap grows with width."
          : "So under this rule the gap shrinks with width."
        : "So this rule keeps the gap from growing with width, but it does not make it shrink: no trend either way stands out of the seed spread of three widths."
    }`,
  );
  const fp = seedStats(runsOf(r, "constant", "fp", BASE_WIDTH).map((x) => x.validationPerplexity));
  const lowBase = at(low, BASE_WIDTH);
  if (lowBase && fp.n >= 2)
    parts.push(`The widest point is the noisiest: fp alone spans ${fp.min.toFixed(1)}–${fp.max.toFixed(1)} over its ${fp.n} seeds at width ${BASE_WIDTH}, so the paired gap there is ${formatGap(lowBase)}.`);
  // where the narrow 1-bit lead comes from (papers' rule) and what the rate does at the widest width
  const pNarrow = papers.g[0]!;
  const pBase = at(papers, BASE_WIDTH);
  if (pBase && lowBase)
    parts.push(
      `The rates decide the gap more than the width does: at width ${pNarrow.w} it is ${formatGap(pNarrow.g)} under the papers' rule and ${formatGap(low.g[0]!.g)} under μP at fp's rate; at width ${BASE_WIDTH}, b1.58 at 5e-3 gives ${formatGap(pBase)} and at 3e-3 ${formatGap(lowBase)}.`,
    );
  const seeds = Math.min(...[...verdicts.values()].flatMap((v) => v.g.map((x) => x.g.n)));
  parts.push(seeds >= 3 ? `${seeds} or more seeds per point; ± is the sample standard deviation of the gaps paired by seed, "beyond the spread" means more than twice the standard error.` : "Some points have fewer than 3 seeds (†).");
  return `- **Reading.** ${parts.join(" ")}`;
}
