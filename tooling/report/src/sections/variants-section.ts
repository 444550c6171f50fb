/**
 * Section 5: BitNet (binary weights, arXiv 2310.11453) against BitNet b1.58 (ternary, arXiv 2402.17764), a4.8 and
 * fp at one budget, and what group quantization (BitNet §2.3: statistics per group of G, for model parallelism)
 * costs in perplexity.
 */
import type { Variant } from "@onebit/layers";
import type { TopLevelSpec } from "vega-lite";
import { captionLines, captionMarkdown } from "../figures/figure-caption";
import { GROUPS_WIDTH, groupsConfigs } from "../pieces/groups-runs";
import { scalingRunId } from "../pieces/scaling-runs";
import { FEW_SEEDS_NOTE, formatStats, pct, seedStats } from "../stats";
import type { RunResult } from "../train/train-run";
import type { TrainingResults } from "../train/training-piece";
import { runsOf, scalingBudgetText, VARIANT_LABEL } from "./scaling-section";
import { markdownTable, type Section } from "./section";

const VARIANTS: Variant[] = ["fp", "b1.58", "a4.8", "bitnet"];

/** Widths where fp, b1.58 and BitNet all ran (a4.8 is shown where it ran too). */
function widthsWithAll(r: TrainingResults): number[] {
  return [...new Set(Object.values(r.runs).map((x) => x.config.width))].filter((w) => (["fp", "b1.58", "bitnet"] as Variant[]).every((v) => runsOf(r, "constant", v, w).length > 0)).sort((a, b) => a - b);
}

export function variantsSpec(r: TrainingResults): TopLevelSpec {
  const rows = widthsWithAll(r).flatMap((w) =>
    VARIANTS.flatMap((v) => runsOf(r, "constant", v, w).map((run) => ({ width: `width ${w}`, model: VARIANT_LABEL[v], seed: run.config.seed, perplexity: run.validationPerplexity }))),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "fp, BitNet b1.58, a4.8 and BitNet (binary) at one budget", subtitle: captionLines({ provenance: r.provenance, budget: scalingBudgetText(), seeds: "bars: mean; dots: each seed" }) },
    data: { values: rows },
    facet: { column: { field: "width", type: "nominal", title: null } },
    spec: {
      width: 240,
      height: 230,
      layer: [
        { mark: { type: "bar", opacity: 0.75 }, encoding: { x: { field: "model", type: "nominal", sort: VARIANTS.map((v) => VARIANT_LABEL[v]), title: null, axis: { labelAngle: -30 } }, y: { aggregate: "mean", field: "perplexity", type: "quantitative", title: "validation perplexity" }, color: { field: "model", type: "nominal", legend: null } } },
        { mark: { type: "point", filled: true, color: "black", size: 25 }, encoding: { x: { field: "model", type: "nominal", sort: VARIANTS.map((v) => VARIANT_LABEL[v]) }, y: { field: "perplexity", type: "quantitative" } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

function groupRuns(groups: TrainingResults, scaling: TrainingResults): Array<{ g: number; run: RunResult }> {
  const g1 = scaling.runs[scalingRunId("constant", "b1.58", GROUPS_WIDTH, 1)];
  const out = g1 ? [{ g: 1, run: g1 }] : [];
  for (const c of groupsConfigs()) {
    const run = groups.runs[c.id];
    if (run) out.push({ g: c.groups!, run });
  }
  return out;
}

export function groupsSpec(groups: TrainingResults, scaling: TrainingResults): TopLevelSpec {
  const rows = groupRuns(groups, scaling).map(({ g, run }) => ({ groups: `G = ${g}`, perplexity: run.validationPerplexity }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "What group quantization costs (BitNet §2.3)", subtitle: captionLines({ provenance: groups.provenance, budget: `${scalingBudgetText()}; b1.58 at width ${GROUPS_WIDTH}`, seeds: "seed 1 (one run each †)" }) },
    data: { values: rows },
    width: 300,
    height: 220,
    mark: { type: "bar" },
    encoding: { x: { field: "groups", type: "ordinal", title: "quantization groups G (weights, activations, sub-norms)" }, y: { field: "perplexity", type: "quantitative", title: "validation perplexity" }, color: { field: "groups", type: "nominal", legend: null } },
  } as TopLevelSpec;
}

export function variantsSection(scaling: TrainingResults, groups: TrainingResults | undefined): Section {
  const widths = widthsWithAll(scaling);
  const rows = widths.flatMap((w) => {
    const fp = seedStats(runsOf(scaling, "constant", "fp", w).map((x) => x.validationPerplexity));
    return VARIANTS.filter((v) => runsOf(scaling, "constant", v, w).length > 0).map((v) => {
      const s = seedStats(runsOf(scaling, "constant", v, w).map((x) => x.validationPerplexity));
      const tps = seedStats(runsOf(scaling, "constant", v, w).map((x) => x.tokensPerSecond));
      return [String(w), VARIANT_LABEL[v]!, formatStats(s, 2), v === "fp" ? "—" : pct(s.mean / fp.mean - 1), tps.mean.toFixed(0)];
    });
  });
  const figures: Section["figures"] = [{ name: "variants-one-budget", spec: variantsSpec(scaling) }];
  const parts = [
    `{{figure:variants-one-budget}}\n\n${captionMarkdown({ provenance: scaling.provenance, budget: scalingBudgetText(), seeds: "see the table" })}\n\n${markdownTable(["width", "model", "val ppl", "vs fp", "train tok/s (wall, shared machine)"], rows)}\n\n${FEW_SEEDS_NOTE} The papers at scale: BitNet b1.58 matches FP16 LLaMA perplexity from 3B (arXiv 2402.17764 Table 1: 3B 9.91 vs 10.04) and is stronger than binary BitNet ("stronger modeling capability" from the explicit 0, §2); a4.8 ≈ b1.58 (arXiv 2411.04965 Table 1).\n\n{{findings:variants}}`,
  ];
  if (groups) {
    figures.push({ name: "groups-cost", spec: groupsSpec(groups, scaling) });
    const g = groupRuns(groups, scaling);
    const base = g.find((x) => x.g === 1)?.run.validationPerplexity;
    parts.push(
      `### Group quantization\n\n{{figure:groups-cost}}\n\n${captionMarkdown({ provenance: groups.provenance, budget: `${scalingBudgetText()}; b1.58 at width ${GROUPS_WIDTH}`, seeds: "seed 1 (one run each †)" })}\n\n${markdownTable(["G", "val ppl", "vs G = 1", "train tok/s (wall)"], g.map(({ g: n, run }) => [String(n), run.validationPerplexity.toFixed(2), base ? pct(run.validationPerplexity / base - 1) : "—", run.tokensPerSecond.toFixed(0)]))}\n\nThe BitNet paper (arXiv 2310.11453 §2.3) introduces group quantization and group normalization for model parallelism and reports no accuracy number for it; BENCHMARKS.md "Group-quantized parallel training" measures its speed.\n\n{{findings:groups}}`,
    );
  }
  return { title: "5. BitNet vs b1.58 vs fp at one budget; group quantization", figures, markdown: parts.join("\n\n") };
}
