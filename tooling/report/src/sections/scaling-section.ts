/**
 * Section 1: perplexity against model size for fp, BitNet b1.58, BitNet and a4.8 at one token budget, under the
 * papers' learning-rate rule, μP's, and μP with the 1-bit base rate lowered to fp's, the 1-bit gap against size
 * (paired by seed, with its spread) beside b1.58's Table 1 (arXiv 2402.17764), and every run's loss curve.
 */
import type { Variant } from "@onebit/layers";
import type { TopLevelSpec } from "vega-lite";
import { captionLines, captionMarkdown } from "../figures/figure-caption";
import { B158_TABLE1 } from "../paper-numbers";
import { BASE_WIDTH, blockControlId, lrProbeConfigs, RULES, SCALING_BUDGET, scalingRunId } from "../pieces/scaling-runs";
import { FEW_SEEDS_NOTE, formatGap, formatStats, pct, type SeedStats, seedStats } from "../stats";
import type { LrRule, RunResult } from "../train/train-run";
import type { TrainingResults } from "../train/training-piece";
import { MAX_SEED, pairedGap, pairedRatio } from "./paired-gap";
import { markdownTable, type Section } from "./section";

export const VARIANT_LABEL: Record<string, string> = { fp: "fp (LLaMA block)", "b1.58": "BitNet b1.58", bitnet: "BitNet (binary)", "a4.8": "BitNet a4.8" };
export const RULE_LABEL: Record<LrRule, string> = { constant: "papers' rule: one peak lr per variant", mup: "μP: hidden-matrix lr ∝ 1/width", "mup-low": "μP, 1-bit base lr = fp's (3e-3)" };
export const RULE_SHORT: Record<LrRule, string> = { constant: "papers' rule", mup: "μP", "mup-low": "μP, 1-bit at fp's lr" };
const VARIANTS: Variant[] = ["fp", "b1.58", "bitnet", "a4.8"];
export const BLOCK_CONTROL_LABEL = "fp in b1.58's block (ReLU², SubLN)";

export function scalingBudgetText(): string {
  const b = SCALING_BUDGET;
  return `${b.steps} steps × ${b.batchSize} × ${b.seqLen} tokens = ${b.steps * b.batchSize * b.seqLen} tokens per model (Brown corpus, 1024-token BPE), AdamW, b1.58 two-stage schedule, peak lr at width ${BASE_WIDTH}: fp 3e-3, 1-bit 5e-3 (3e-3 under "μP, 1-bit at fp's lr")`;
}

/** The runs of (rule, variant, width), every seed: runs two rules share (canonicalRule) appear under both. */
export function runsOf(r: TrainingResults, rule: LrRule, variant: Variant, width: number): RunResult[] {
  return Array.from({ length: MAX_SEED }, (_, i) => r.runs[scalingRunId(rule, variant, width, i + 1)]).filter((x): x is RunResult => x !== undefined);
}

export function scalingWidths(r: TrainingResults): number[] {
  return [...new Set(Object.values(r.runs).map((x) => x.config.width))].sort((a, b) => a - b);
}

export interface ScalingPoint {
  rule: LrRule;
  variant: Variant;
  width: number;
  parameters: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  seeds: number;
}

export function scalingPoints(r: TrainingResults): ScalingPoint[] {
  const out: ScalingPoint[] = [];
  for (const rule of RULES)
    for (const variant of VARIANTS)
      for (const width of scalingWidths(r)) {
        const runs = runsOf(r, rule, variant, width).filter((x) => x.divergedAtStep === undefined);
        if (runs.length === 0) continue;
        const s = seedStats(runs.map((x) => x.validationPerplexity));
        out.push({ rule, variant, width, parameters: runs[0]!.nonEmbeddingParameters, mean: s.mean, std: s.std, min: s.min, max: s.max, seeds: s.n });
      }
  return out;
}

function seedsText(seeds: number[]): string {
  const n = [...new Set(seeds)].sort();
  return `${n.join(" or ")} per point (mean; bars min–max over seeds); points with fewer than 3 seeds are drawn hollow (†)`;
}

export function scalingPerplexitySpec(r: TrainingResults): TopLevelSpec {
  const all = scalingPoints(r);
  const points = all.map((p) => ({ ...p, ruleLabel: RULE_LABEL[p.rule], variantLabel: VARIANT_LABEL[p.variant], fewSeeds: p.seeds < 3 }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Validation perplexity against model size at one token budget", subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: seedsText(all.map((p) => p.seeds)) }) },
    data: { values: points },
    facet: { column: { field: "ruleLabel", type: "nominal", title: "learning-rate rule", sort: RULES.map((x) => RULE_LABEL[x]) } },
    spec: {
      width: 250,
      height: 260,
      layer: [
        { mark: { type: "line" }, encoding: { x: { field: "parameters", type: "quantitative", scale: { type: "log" }, axis: { format: "~s" }, title: "non-embedding parameters (log scale)" }, y: { field: "mean", type: "quantitative", scale: { type: "log" }, title: "validation perplexity (log scale)" }, color: { field: "variantLabel", type: "nominal", title: "model" } } },
        { mark: { type: "rule" }, encoding: { x: { field: "parameters", type: "quantitative" }, y: { field: "min", type: "quantitative" }, y2: { field: "max" }, color: { field: "variantLabel", type: "nominal" } } },
        {
          // hollow (stroke only) where fewer than 3 seeds: color is the stroke, fill the same hue unless fewSeeds
          mark: { type: "point", size: 60, strokeWidth: 2, filled: false },
          encoding: {
            x: { field: "parameters", type: "quantitative" },
            y: { field: "mean", type: "quantitative" },
            color: { field: "variantLabel", type: "nominal" },
            fill: { field: "variantLabel", type: "nominal" },
            fillOpacity: { condition: { test: "datum.fewSeeds", value: 0 }, value: 1 },
            tooltip: [{ field: "variantLabel" }, { field: "width" }, { field: "mean", format: ".2f" }, { field: "std", format: ".2f" }, { field: "seeds" }],
          },
        },
      ],
    },
  } as TopLevelSpec;
}

export interface GapPoint {
  series: string;
  /** line style: the b1.58 gap under a rule, the block / quantization split, a single probe or other variant, the paper */
  kind: "b1.58 vs fp, per rule" | "block / quantization split" | "single points" | "the paper";
  parameters: number;
  width?: number;
  /** mean of the per-seed gaps (paired by seed); the paper's single number */
  gap: number;
  std: number;
  min: number;
  max: number;
  seeds: number;
  fewSeeds: boolean;
}

/** Which 1-bit variants the gap figure draws under each rule (BitNet and a4.8 ran under the papers' rule only). */
const GAP_VARIANTS: Record<LrRule, Variant[]> = { constant: ["b1.58", "bitnet", "a4.8"], mup: ["b1.58"], "mup-low": ["b1.58"] };

export function gapSeriesLabel(rule: LrRule, variant: Variant): string {
  return `ours: ${VARIANT_LABEL[variant]} vs fp, ${RULE_SHORT[rule]}`;
}

export interface BlockSplit {
  width: number;
  parameters: number;
  fp: SeedStats;
  control: SeedStats;
  b158: SeedStats;
  /** fp with the b1.58 block against fp with its own: the block alone */
  block: SeedStats;
  /** b1.58 against fp with the b1.58 block: the weight and activation quantization alone */
  quantization: SeedStats;
  /** b1.58 against fp: both (the "mup-low" gap) */
  total: SeedStats;
}

/** The 1-bit gap under μP at 3e-3 split into block and quantization (pieces/scaling-runs.ts blockControlConfig), paired by seed. */
export function blockSplit(r: TrainingResults): BlockSplit[] {
  const ppl = (ids: (s: number) => string) => seedStats(Array.from({ length: MAX_SEED }, (_, i) => r.runs[ids(i + 1)]?.validationPerplexity).filter((x): x is number => x !== undefined));
  return scalingWidths(r)
    .map((w) => {
      const fp = (s: number) => scalingRunId("mup", "fp", w, s);
      const ctl = (s: number) => blockControlId(w, s);
      const b = (s: number) => scalingRunId("mup-low", "b1.58", w, s);
      return { width: w, parameters: r.runs[ctl(1)]?.nonEmbeddingParameters ?? 0, fp: ppl(fp), control: ppl(ctl), b158: ppl(b), block: pairedRatio(r, ctl, fp), quantization: pairedRatio(r, b, ctl), total: pairedRatio(r, b, fp) };
    })
    .filter((x) => x.control.n > 0);
}

export function gapPoints(r: TrainingResults): GapPoint[] {
  const out: GapPoint[] = [];
  for (const rule of RULES)
    for (const variant of GAP_VARIANTS[rule])
      for (const width of scalingWidths(r)) {
        const g = pairedGap(r, rule, variant, width);
        if (g.n === 0) continue;
        const parameters = runsOf(r, rule, variant, width)[0]!.nonEmbeddingParameters;
        out.push({ series: gapSeriesLabel(rule, variant), kind: variant === "b1.58" ? "b1.58 vs fp, per rule" : "single points", parameters, width, gap: g.mean, std: g.std, min: g.min, max: g.max, seeds: g.n, fewSeeds: g.n < 3 });
      }
  for (const x of blockSplit(r))
    for (const [series, g] of [
      ["ours: quantization alone (b1.58 vs fp in b1.58's block), μP 3e-3", x.quantization],
      ["ours: block alone (fp in b1.58's block vs fp), μP 3e-3", x.block],
    ] as const)
      if (g.n) out.push({ series, kind: "block / quantization split", parameters: x.parameters, width: x.width, gap: g.mean, std: g.std, min: g.min, max: g.max, seeds: g.n, fewSeeds: g.n < 3 });
  for (const c of lrProbeConfigs()) {
    const run = r.runs[c.id];
    const fp = r.runs[scalingRunId("constant", "fp", c.width, c.seed)];
    if (!run || !fp) continue;
    const gap = run.validationPerplexity / fp.validationPerplexity - 1;
    out.push({ series: `ours: b1.58 at ${c.lr.toExponential(1)} (rate probe) vs fp`, kind: "single points", parameters: run.nonEmbeddingParameters, width: c.width, gap, std: 0, min: gap, max: gap, seeds: 1, fewSeeds: true });
  }
  for (const t of B158_TABLE1) {
    const gap = t.b158Ppl / t.fpPpl - 1;
    out.push({ series: "b1.58 paper, Table 1 (arXiv 2402.17764), 100B tokens", kind: "the paper", parameters: t.parameters, gap, std: 0, min: gap, max: gap, seeds: 1, fewSeeds: false });
  }
  return out;
}

function dodge(points: GapPoint[]): Array<GapPoint & { plotAt: number }> {
  const ours = [...new Set(points.filter((p) => p.series.startsWith("ours")).map((p) => p.series))];
  const step = ours.length > 1 ? 0.24 / (ours.length - 1) : 0;
  return points.map((p) => {
    const i = ours.indexOf(p.series);
    return { ...p, plotAt: i < 0 ? p.parameters : p.parameters * (0.88 + i * step) };
  });
}

export function scalingGapSpec(r: TrainingResults): TopLevelSpec {
  const color = { field: "series", type: "nominal", title: null, legend: { orient: "bottom", columns: 1, labelLimit: 700 } } as const;
  const y = { field: "gap", type: "quantitative", axis: { format: "+.0%" }, title: "validation perplexity vs fp (%)" } as const;
  const layers = (xTitle: string) => {
    const x = { field: "plotAt", type: "quantitative", scale: { type: "log" }, axis: { labelExpr: "datum.value >= 1e9 ? format(datum.value / 1e9, '~g') + 'B' : format(datum.value, '~s')" }, title: xTitle } as const;
    return [
      { mark: { type: "rule", color: "#888", strokeDash: [4, 4] }, encoding: { y: { datum: 0 } } },
      { mark: { type: "line" }, encoding: { x, y, color, strokeDash: { field: "kind", type: "nominal", title: null, legend: { orient: "bottom", labelLimit: 300 } } } },
      { mark: { type: "rule", strokeWidth: 1.5 }, encoding: { x: { field: "plotAt", type: "quantitative" }, y: { field: "min", type: "quantitative" }, y2: { field: "max" }, color } },
      {
        mark: { type: "point", size: 70, strokeWidth: 2, filled: false },
        encoding: {
          x: { field: "plotAt", type: "quantitative" },
          y: { field: "gap", type: "quantitative" },
          color,
          fill: { field: "series", type: "nominal" },
          fillOpacity: { condition: { test: "datum.fewSeeds", value: 0 }, value: 1 },
          tooltip: [{ field: "series" }, { field: "width" }, { field: "parameters", format: "~s" }, { field: "gap", format: "+.1%" }, { field: "std", format: ".1%" }, { field: "seeds" }],
        },
      },
    ];
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "The 1-bit gap: perplexity relative to fp of the same size",
      subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: "ours: mean of the per-seed gaps, each against the fp run of the same seed; bars min–max; hollow: fewer than 3 seeds (†); the paper's runs are single" }),
    },
    // our series sit at the same few sizes: each is drawn slightly apart (× 0.88–1.12 on the log axis) so the bars do not hide each other
    data: { values: dodge(gapPoints(r)) },
    hconcat: [
      { width: 430, height: 320, transform: [{ filter: "datum.kind !== 'the paper'" }], layer: layers("ours: non-embedding parameters (log scale)") },
      { width: 150, height: 320, transform: [{ filter: "datum.kind === 'the paper'" }], layer: layers("the paper: parameters (log scale)") },
    ],
    resolve: { scale: { y: "shared", color: "shared", x: "independent" } },
  } as TopLevelSpec;
}

export function lossCurvesSpec(r: TrainingResults): TopLevelSpec {
  const rows: Array<{ rule: string; width: string; variant: string; seed: number; step: number; loss: number; kind: string }> = [];
  const widths = scalingWidths(r);
  for (const rule of RULES)
    for (const variant of VARIANTS)
      for (const w of widths)
        for (const run of runsOf(r, rule, variant, w))
          for (const p of run.curve) {
            const base = { rule: RULE_SHORT[rule], width: `width ${w}`, variant: VARIANT_LABEL[variant]!, seed: run.config.seed, step: p.step };
            rows.push({ ...base, loss: p.loss, kind: "training (10-step mean)" });
            if (p.validationLoss !== undefined) rows.push({ ...base, loss: p.validationLoss, kind: "validation" });
          }
  // the block control beside the runs whose rates it shares (pieces/scaling-runs.ts blockControlConfig)
  for (const w of widths)
    for (let seed = 1; seed <= MAX_SEED; seed++)
      for (const p of r.runs[blockControlId(w, seed)]?.curve ?? []) {
        const base = { rule: RULE_SHORT["mup-low"], width: `width ${w}`, variant: BLOCK_CONTROL_LABEL, seed, step: p.step };
        rows.push({ ...base, loss: p.loss, kind: "training (10-step mean)" });
        if (p.validationLoss !== undefined) rows.push({ ...base, loss: p.validationLoss, kind: "validation" });
      }
  const seeds = [...new Set(rows.map((x) => x.seed))].sort();
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Loss curves of every run", subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: `seeds ${seeds.join(", ")} where run, one line each (runs shared by two rules appear in both rows)` }) },
    data: { values: rows },
    facet: { row: { field: "rule", type: "nominal", title: "learning-rate rule", sort: RULES.map((x) => RULE_SHORT[x]) }, column: { field: "width", type: "nominal", title: null, sort: widths.map((w) => `width ${w}`) } },
    spec: {
      width: 220,
      height: 180,
      layer: [
        { transform: [{ filter: "datum.kind !== 'validation'" }], mark: { type: "line", strokeWidth: 1, opacity: 0.8 }, encoding: { x: { field: "step", type: "quantitative", title: "training step" }, y: { field: "loss", type: "quantitative", scale: { zero: false, domain: [4.5, 7.5], clamp: true }, title: "cross-entropy (nats/token)" }, color: { field: "variant", type: "nominal", title: "model" }, detail: { field: "seed", type: "nominal" } } },
        { transform: [{ filter: "datum.kind === 'validation'" }], mark: { type: "point", filled: true, size: 22 }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative" }, color: { field: "variant", type: "nominal" }, shape: { field: "kind", type: "nominal", title: "points" } } },
      ],
    },
    resolve: { scale: { y: "shared" } },
  } as TopLevelSpec;
}

/** fp and b1.58 at each width grouped by the peak rates they trained at (hidden matrices; the rest where μP sets them apart): the rules' runs and the probes. */
function rateTable(r: TrainingResults, widths: number[]): string | undefined {
  const rows: string[][] = [];
  for (const width of widths) {
    const runs = Object.values(r.runs).filter((x) => x.config.width === width && (x.config.variant === "fp" || x.config.variant === "b1.58") && !x.config.groups && !x.config.subNorm && !x.config.hiddenAct && x.divergedAtStep === undefined);
    const fp = seedStats(runsOf(r, "constant", "fp", width).map((x) => x.validationPerplexity));
    const groups = new Map<string, RunResult[]>();
    for (const x of runs) {
      const hidden = x.config.rule === "constant" ? x.config.lr : (x.config.lr * (x.config.baseWidth ?? BASE_WIDTH)) / width;
      const key = `${x.config.variant}@${hidden.toPrecision(3)}@${x.config.lr.toPrecision(3)}`;
      groups.set(key, [...(groups.get(key) ?? []), x]);
    }
    const order = (key: string) => key.split("@") as [string, string, string];
    const sorted = [...groups.entries()].sort(([a], [b]) => {
      const [va, ha, ra] = order(a);
      const [vb, hb, rb] = order(b);
      return va.localeCompare(vb) || Number(ha) - Number(hb) || Number(ra) - Number(rb);
    });
    for (const [key, xs] of sorted) {
      const [v, lr, rest] = key.split("@") as [Variant, string, string];
      const st = seedStats(xs.map((x) => x.validationPerplexity));
      const ids = [...new Set(xs.map((x) => x.config.id.replace(/-s\d+$/, "")))].map((id) => `\`${id}\``);
      const rate = Number(lr) === Number(rest) ? Number(lr).toExponential(1) : `${Number(lr).toExponential(1)} (rest ${Number(rest).toExponential(1)})`;
      rows.push([String(width), VARIANT_LABEL[v]!, rate, ids.join(", "), formatStats(st), v === "fp" && xs.some((x) => x.config.rule === "constant") ? "—" : pct(st.mean / fp.mean - 1)]);
    }
  }
  if (rows.length === 0) return undefined;
  return markdownTable(["width", "model", "peak lr: hidden matrices (rest)", "runs", "val ppl", "vs fp at 3.0e-3"], rows);
}

const RULE_NOTE: Record<LrRule, string> = {
  constant: "",
  mup: ` (width ${BASE_WIDTH} is the base width: the same runs as the papers' rule)`,
  "mup-low": ` (the fp runs are μP's — fp's base rate is already 3e-3; b1.58's base rate is lowered from 5e-3 to 3e-3, so its hidden matrices train at 3e-3 × ${BASE_WIDTH}/width)`,
};

export function scalingSection(r: TrainingResults): Section {
  const points = scalingPoints(r);
  const widths = scalingWidths(r);
  const tables = RULES.map((rule) => {
    const rows = widths.map((w) => {
      const get = (v: Variant) => runsOf(r, rule, v, w).filter((x) => x.divergedAtStep === undefined);
      const cells = VARIANTS.map((v) => {
        const x = seedStats(get(v).map((y) => y.validationPerplexity));
        return v === "fp" || x.n === 0 ? formatStats(x) : `${formatStats(x)} (${formatGap(pairedGap(r, rule, v, w))})`;
      });
      const any = get("fp")[0] ?? get("b1.58")[0];
      return [String(w), any ? `${(any.nonEmbeddingParameters / 1e3).toFixed(0)} k` : "—", ...cells];
    });
    const used = VARIANTS.filter((v) => widths.some((w) => runsOf(r, rule, v, w).length > 0));
    return `**${RULE_LABEL[rule]}**${RULE_NOTE[rule]}\n\n${markdownTable(["width", "non-embedding params", ...used.map((v) => VARIANT_LABEL[v]!)], rows.map((row) => [row[0]!, row[1]!, ...used.map((v) => row[2 + VARIANTS.indexOf(v)]!)]))}`;
  });
  const gapTable = markdownTable(
    ["width", ...RULES.map((rule) => `b1.58 vs fp, ${RULE_SHORT[rule]}`)],
    widths.map((w) => [String(w), ...RULES.map((rule) => formatGap(pairedGap(r, rule, "b1.58", w)))]),
  );
  const paper = markdownTable(
    ["size", "LLaMA (FP16) ppl", "BitNet b1.58 ppl", "gap"],
    B158_TABLE1.map((t) => [t.size, t.fpPpl.toFixed(2), t.b158Ppl.toFixed(2), pct(t.b158Ppl / t.fpPpl - 1)]),
  );
  const caption = captionMarkdown({ provenance: r.provenance, budget: scalingBudgetText(), seeds: seedsText(points.map((p) => p.seeds)) });
  const split = blockSplit(r);
  const splitTable = split.length
    ? `\n\n**The gap split into block and quantization** (every model under μP at 3e-3: fp with LLaMA's block — SwiGLU, no SubLN —, fp with b1.58's block — ReLU²GLU and SubLN, as 2B4T arXiv 2504.12285 §2 —, and b1.58; ratios paired by seed):\n\n${markdownTable(
        ["width", "fp (LLaMA block)", "fp (b1.58 block)", "BitNet b1.58", "block alone", "quantization alone", "b1.58 vs fp"],
        split.map((x) => [String(x.width), formatStats(x.fp), formatStats(x.control), formatStats(x.b158), formatGap(x.block), formatGap(x.quantization), formatGap(x.total)]),
      )}`
    : "";
  const rates = rateTable(r, widths);
  const probeTable = rates ? `\n\n**Every peak rate tried** (the rules' runs and the probe grouped by the rates they trained at: the hidden matrices' and, where μP sets them apart, the embedding's and norm gains'):\n\n${rates}` : "";
  return {
    title: "1. Perplexity against model size, and the 1-bit gap",
    figures: [
      { name: "scaling-perplexity", spec: scalingPerplexitySpec(r) },
      { name: "scaling-gap", spec: scalingGapSpec(r) },
      { name: "scaling-loss-curves", spec: lossCurvesSpec(r) },
    ],
    markdown: `{{figure:scaling-perplexity}}\n\n${caption}\n\n${tables.join("\n\n")}\n\n${FEW_SEEDS_NOTE} The last brackets hold the gap against fp under the same rule and width: the mean over seeds of each seed's ratio to the fp run of the same seed (same initialisation seed and batch order), ± their sample standard deviation.\n\n**The b1.58 gap per rule** (the series of the gap figure below):\n\n${gapTable}${splitTable}\n\nThe paper (b1.58, arXiv 2402.17764, Table 1; 100B tokens, total parameters):\n\n${paper}${probeTable}\n\n{{figure:scaling-gap}}\n\n${caption}\n\n{{figure:scaling-loss-curves}}\n\n${caption}\n\n{{findings:scaling}}`,
  };
}
