/** Section 3: arithmetic energy per token against model size (b1.58 arXiv 2402.17764 Figure 3). */
import type { TopLevelSpec } from "vega-lite";
import { captionLines, captionMarkdown } from "../figures/figure-caption";
import { B158_MATMUL_ENERGY_SAVING_7NM } from "../paper-numbers";
import type { EnergyResults } from "../pieces/energy";
import { markdownTable, type Section } from "./section";

const BUDGET = "arithmetic only: 1 token, MACs of the block projections (and of the LM head where named), pJ per op of BitNet arXiv 2310.11453 Table 2";

export function energySpec(r: EnergyResults): TopLevelSpec {
  const rows = r.rows.flatMap((x) => [
    { node: x.node, shape: x.shape, parameters: x.parameters, model: "FP16, block projections", joules: x.fp16J },
    { node: x.node, shape: x.shape, parameters: x.parameters, model: "b1.58 (INT8 adds), block projections", joules: x.onebitJ },
    { node: x.node, shape: x.shape, parameters: x.parameters, model: "FP16, with LM head", joules: x.fp16WithHeadJ },
    { node: x.node, shape: x.shape, parameters: x.parameters, model: "b1.58, with FP16 LM head", joules: x.onebitWithHeadJ },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Arithmetic energy per generated token (b1.58 paper Figure 3)", subtitle: captionLines({ provenance: r.provenance, budget: BUDGET, seeds: "none (a model, not a measurement)" }) },
    data: { values: rows },
    facet: { column: { field: "node", type: "nominal", title: "process node" } },
    spec: {
      width: 280,
      height: 260,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "parameters", type: "quantitative", scale: { type: "log" }, axis: { format: "~s" }, title: "parameters (log scale)" },
        y: { field: "joules", type: "quantitative", scale: { type: "log" }, title: "energy per token (J, log scale)" },
        color: { field: "model", type: "nominal", title: "model", legend: { orient: "bottom", columns: 2, labelLimit: 420 } },
        strokeDash: { field: "model", type: "nominal", legend: null },
      },
    },
  } as TopLevelSpec;
}

export function energySection(r: EnergyResults): Section {
  const table = markdownTable(
    ["size", "node", "MACs/token (block)", "FP16 J/token", "b1.58 J/token", "saving", "with LM head: FP16", "b1.58", "saving"],
    r.rows.map((x) => [x.shape, x.node, `${(x.macsPerToken / 1e9).toFixed(2)} G`, x.fp16J.toExponential(2), x.onebitJ.toExponential(2), `${(x.fp16J / x.onebitJ).toFixed(1)}×`, x.fp16WithHeadJ.toExponential(2), x.onebitWithHeadJ.toExponential(2), `${(x.fp16WithHeadJ / x.onebitWithHeadJ).toFixed(1)}×`]),
  );
  const caption = captionMarkdown({ provenance: r.provenance, budget: BUDGET, seeds: "none (a model, not a measurement)" });
  const at7 = r.rows.find((x) => x.node === "7nm")!;
  return {
    title: "3. Energy per token against model size",
    figures: [{ name: "energy", spec: energySpec(r) }],
    markdown: `{{figure:energy}}\n\n${caption}\n\nThe paper: "${B158_MATMUL_ENERGY_SAVING_7NM} times" less arithmetic energy for matrix multiplication at 7 nm (b1.58, arXiv 2402.17764, §3, Figure 3 left); its end-to-end energy (Figure 3 right) falls further behind FP16 as models grow. Ours, block projections only: ${(at7.fp16J / at7.onebitJ).toFixed(1)}× at every size (the ratio of the per-op energies, (0.16 + 0.34) / 0.007 pJ); with the LM head counted (FP16 in both models) the saving grows with size, the paper's trend, because the full-precision share shrinks.\n\n${table}`,
  };
}
