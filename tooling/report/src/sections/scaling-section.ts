/**
 * Section 1: perplexity against model size for fp, BitNet b1.58, BitNet and a4.8 at one token budget, under the
 * papers' learning-rate rule and μP's, the 1-bit gap against size beside b1.58's Table 1 (arXiv 2402.17764), and
 * every run's loss curve.
 */
import type { Variant } from "@onebit/layers";
import type { TopLevelSpec } from "vega-lite";
import { captionLines, captionMarkdown } from "../figures/figure-caption";
import { B158_TABLE1 } from "../paper-numbers";
import { BASE_WIDTH, lrProbeConfigs, SCALING_BUDGET, SCALING_WIDTHS, scalingRunId } from "../pieces/scaling-runs";
import { FEW_SEEDS_NOTE, formatStats, pct, seedStats } from "../stats";
import type { TrainingResults } from "../train/training-piece";
import type { LrRule, RunResult } from "../train/train-run";
import { markdownTable, type Section } from "./section";

export const VARIANT_LABEL: Record<string, string> = { fp: "fp (LLaMA block)", "b1.58": "BitNet b1.58", bitnet: "BitNet (binary)", "a4.8": "BitNet a4.8" };
export const RULE_LABEL: Record<LrRule, string> = { constant: "papers' rule: one peak lr per variant", mup: "μP: hidden-matrix lr ∝ 1/width" };
const RULE_SHORT: Record<LrRule, string> = { constant: "papers' rule", mup: "μP" };
const VARIANTS: Variant[] = ["fp", "b1.58", "bitnet", "a4.8"];

export function scalingBudgetText(): string {
  const b = SCALING_BUDGET;
  return `${b.steps} steps × ${b.batchSize} × ${b.seqLen} tokens = ${b.steps * b.batchSize * b.seqLen} tokens per model (Brown corpus, 1024-token BPE), AdamW, b1.58 two-stage schedule, peak lr fp 3e-3 / 1-bit 5e-3 at width ${BASE_WIDTH}`;
}

/** The runs of (rule, variant, width): at the base width both rules are the same runs. */
export function runsOf(r: TrainingResults, rule: LrRule, variant: Variant, width: number): RunResult[] {
  return [1, 2, 3, 4, 5].map((s) => r.runs[scalingRunId(rule, variant, width, s)]).filter((x): x is RunResult => x !== undefined);
}

export interface ScalingPoint {
  rule: LrRule;
  variant: Variant;
  width: number;
  parameters: number;
  mean: number;
  min: number;
  max: number;
  seeds: number;
}

export function scalingPoints(r: TrainingResults): ScalingPoint[] {
  const out: ScalingPoint[] = [];
  const widths = [...new Set(Object.values(r.runs).map((x) => x.config.width))].sort((a, b) => a - b);
  for (const rule of ["constant", "mup"] as LrRule[])
    for (const variant of VARIANTS)
      for (const width of widths) {
        const runs = runsOf(r, rule, variant, width).filter((x) => x.divergedAtStep === undefined);
        if (runs.length === 0) continue;
        const s = seedStats(runs.map((x) => x.validationPerplexity));
        out.push({ rule, variant, width, parameters: runs[0]!.nonEmbeddingParameters, mean: s.mean, min: s.min, max: s.max, seeds: s.n });
      }
  return out;
}

function seedsText(points: ScalingPoint[]): string {
  const n = [...new Set(points.map((p) => p.seeds))].sort();
  return `${n.join(" or ")} per point (mean; bars min–max); points with fewer than 3 seeds are drawn hollow (†)`;
}

export function scalingPerplexitySpec(r: TrainingResults): TopLevelSpec {
  const points = scalingPoints(r).map((p) => ({ ...p, ruleLabel: RULE_LABEL[p.rule], variantLabel: VARIANT_LABEL[p.variant], fewSeeds: p.seeds < 3 }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Validation perplexity against model size at one token budget", subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: seedsText(scalingPoints(r)) }) },
    data: { values: points },
    facet: { column: { field: "ruleLabel", type: "nominal", title: "learning-rate rule", sort: Object.values(RULE_LABEL) } },
    spec: {
      width: 300,
      height: 260,
      layer: [
        { mark: { type: "line" }, encoding: { x: { field: "parameters", type: "quantitative", scale: { type: "log" }, axis: { format: "~s" }, title: "non-embedding parameters (log scale)" }, y: { field: "mean", type: "quantitative", scale: { type: "log", zero: false }, title: "validation perplexity (log scale)" }, color: { field: "variantLabel", type: "nominal", title: "model" } } },
        { mark: { type: "rule" }, encoding: { x: { field: "parameters", type: "quantitative" }, y: { field: "min", type: "quantitative" }, y2: { field: "max" }, color: { field: "variantLabel", type: "nominal" } } },
        {
          mark: { type: "point", size: 60, strokeWidth: 2, filled: true },
          encoding: {
            x: { field: "parameters", type: "quantitative" },
            y: { field: "mean", type: "quantitative" },
            color: { field: "variantLabel", type: "nominal" },
            fillOpacity: { condition: { test: "datum.fewSeeds", value: 0.15 }, value: 1 },
            tooltip: [{ field: "variantLabel" }, { field: "width" }, { field: "mean", format: ".2f" }, { field: "seeds" }],
          },
        },
      ],
    },
  } as TopLevelSpec;
}

export interface GapPoint {
  series: string;
  parameters: number;
  gap: number;
  seeds: number;
}

export function gapPoints(r: TrainingResults): GapPoint[] {
  const points = scalingPoints(r);
  const out: GapPoint[] = [];
  for (const p of points) {
    if (p.variant === "fp") continue;
    const fp = points.find((q) => q.rule === p.rule && q.variant === "fp" && q.width === p.width);
    if (!fp) continue;
    if (p.rule === "mup" && p.variant !== "b1.58") continue;
    out.push({ series: `ours: ${VARIANT_LABEL[p.variant]} vs fp, ${p.rule === "constant" ? "papers' rule" : "μP"}`, parameters: p.parameters, gap: p.mean / fp.mean - 1, seeds: Math.min(p.seeds, fp.seeds) });
  }
  for (const c of lrProbeConfigs()) {
    const run = r.runs[c.id];
    const fp = r.runs[scalingRunId("constant", "fp", c.width, c.seed)];
    if (run && fp) out.push({ series: `ours: b1.58 at ${c.lr.toExponential(1)} (rate probe) vs fp`, parameters: run.nonEmbeddingParameters, gap: run.validationPerplexity / fp.validationPerplexity - 1, seeds: 1 });
  }
  for (const t of B158_TABLE1) out.push({ series: "b1.58 paper, Table 1 (arXiv 2402.17764), 100B tokens", parameters: t.parameters, gap: t.b158Ppl / t.fpPpl - 1, seeds: 1 });
  return out;
}

export function scalingGapSpec(r: TrainingResults): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "The 1-bit gap: perplexity relative to fp of the same size", subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: "gap of the seed means (ours); the paper's runs are single" }) },
    data: { values: gapPoints(r) },
    width: 560,
    height: 300,
    layer: [
      { mark: { type: "rule", color: "#888", strokeDash: [4, 4] }, encoding: { y: { datum: 0 } } },
      {
        mark: { type: "line", point: { size: 70 } },
        encoding: {
          x: { field: "parameters", type: "quantitative", scale: { type: "log" }, axis: { labelExpr: "datum.value >= 1e9 ? format(datum.value / 1e9, '~g') + 'B' : format(datum.value, '~s')" }, title: "parameters (log scale; ours non-embedding, the paper’s total)" },
          y: { field: "gap", type: "quantitative", axis: { format: "+.0%" }, title: "validation perplexity vs fp (%)" },
          color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom", columns: 1, labelLimit: 520 } },
        },
      },
    ],
  } as TopLevelSpec;
}

export function lossCurvesSpec(r: TrainingResults): TopLevelSpec {
  const rows: Array<{ rule: string; width: string; variant: string; step: number; loss: number; kind: string }> = [];
  for (const run of Object.values(r.runs)) {
    if (run.config.seed !== 1) continue;
    const rules: LrRule[] = run.config.width === BASE_WIDTH ? ["constant", "mup"] : [run.config.rule];
    for (const rule of rules)
      for (const p of run.curve) {
        const base = { rule: RULE_SHORT[rule], width: `width ${run.config.width}`, variant: VARIANT_LABEL[run.config.variant]!, step: p.step };
        rows.push({ ...base, loss: p.loss, kind: "training (10-step mean)" });
        if (p.validationLoss !== undefined) rows.push({ ...base, loss: p.validationLoss, kind: "validation" });
      }
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Loss curves of every seed-1 run", subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: "seed 1 of each configuration" }) },
    data: { values: rows },
    facet: { row: { field: "rule", type: "nominal", title: "learning-rate rule", sort: Object.values(RULE_SHORT) }, column: { field: "width", type: "nominal", title: null, sort: SCALING_WIDTHS.map((w) => `width ${w}`) } },
    spec: {
      width: 220,
      height: 180,
      layer: [
        { transform: [{ filter: "datum.kind !== 'validation'" }], mark: { type: "line", strokeWidth: 1.3 }, encoding: { x: { field: "step", type: "quantitative", title: "training step" }, y: { field: "loss", type: "quantitative", scale: { zero: false, domain: [4.5, 7.5], clamp: true }, title: "cross-entropy (nats/token)" }, color: { field: "variant", type: "nominal", title: "model" } } },
        { transform: [{ filter: "datum.kind === 'validation'" }], mark: { type: "point", filled: true, size: 30 }, encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative" }, color: { field: "variant", type: "nominal" }, shape: { field: "kind", type: "nominal", title: "points" } } },
      ],
    },
    resolve: { scale: { y: "shared" } },
  } as TopLevelSpec;
}

export function scalingSection(r: TrainingResults): Section {
  const points = scalingPoints(r);
  const widths = [...new Set(points.map((p) => p.width))].sort((a, b) => a - b);
  const tables = (["constant", "mup"] as LrRule[]).map((rule) => {
    const rows = widths.map((w) => {
      const get = (v: Variant) => runsOf(r, rule, v, w).filter((x) => x.divergedAtStep === undefined);
      const s = (v: Variant) => seedStats(get(v).map((x) => x.validationPerplexity));
      const fp = s("fp");
      const cells = VARIANTS.map((v) => {
        const x = s(v);
        return v === "fp" || x.n === 0 ? formatStats(x) : `${formatStats(x)} (${pct(x.mean / fp.mean - 1)})`;
      });
      const any = get("fp")[0] ?? get("b1.58")[0];
      return [String(w), any ? `${(any.nonEmbeddingParameters / 1e3).toFixed(0)} k` : "—", ...cells];
    });
    return `**${RULE_LABEL[rule]}**${rule === "mup" ? ` (width ${BASE_WIDTH} is the base width: the same runs as the papers' rule)` : ""}\n\n${markdownTable(["width", "non-embedding params", ...VARIANTS.map((v) => VARIANT_LABEL[v]!)], rows)}`;
  });
  const paper = markdownTable(
    ["size", "LLaMA (FP16) ppl", "BitNet b1.58 ppl", "gap"],
    B158_TABLE1.map((t) => [t.size, t.fpPpl.toFixed(2), t.b158Ppl.toFixed(2), pct(t.b158Ppl / t.fpPpl - 1)]),
  );
  const caption = captionMarkdown({ provenance: r.provenance, budget: scalingBudgetText(), seeds: seedsText(points) });
  const probes = lrProbeConfigs()
    .map((c) => ({ c, run: r.runs[c.id], ref: r.runs[scalingRunId("constant", c.variant, c.width, c.seed)], fp: r.runs[scalingRunId("constant", "fp", c.width, c.seed)] }))
    .filter((x) => x.run);
  const probeTable = probes.length
    ? `\n\n**Learning-rate probe** (one seed †): ${markdownTable(
        ["model", "width", "peak lr", "val ppl", "vs fp (3e-3)"],
        probes.flatMap(({ c, run, ref, fp }) => [
          ...(fp ? [[VARIANT_LABEL.fp!, String(c.width), fp.config.lr.toExponential(1), fp.validationPerplexity.toFixed(2), "—"]] : []),
          ...(ref ? [[VARIANT_LABEL[c.variant]!, String(c.width), ref.config.lr.toExponential(1), ref.validationPerplexity.toFixed(2), fp ? pct(ref.validationPerplexity / fp.validationPerplexity - 1) : "—"]] : []),
          [VARIANT_LABEL[c.variant]!, String(c.width), c.lr.toExponential(1), run!.validationPerplexity.toFixed(2), fp ? pct(run!.validationPerplexity / fp.validationPerplexity - 1) : "—"],
        ]),
      ).replace(/^/, "\n\n")}`
    : "";
  return {
    title: "1. Perplexity against model size, and the 1-bit gap",
    figures: [
      { name: "scaling-perplexity", spec: scalingPerplexitySpec(r) },
      { name: "scaling-gap", spec: scalingGapSpec(r) },
      { name: "scaling-loss-curves", spec: lossCurvesSpec(r) },
    ],
    markdown: `{{figure:scaling-perplexity}}\n\n${caption}\n\n${tables.join("\n\n")}\n\n${FEW_SEEDS_NOTE} Gaps in brackets are against fp under the same rule and width.\n\nThe paper (b1.58, arXiv 2402.17764, Table 1; 100B tokens, total parameters):\n\n${paper}${probeTable}\n\n{{figure:scaling-gap}}\n\n${caption}\n\n{{figure:scaling-loss-curves}}\n\n${caption}\n\n{{findings:scaling}}`,
  };
}
