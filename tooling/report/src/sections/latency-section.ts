/**
 * Section 2: decode latency and weight memory against model size, 1-bit against fp of the same LLaMA shape on
 * this machine, beside the b1.58 paper's Table 1 / Figure 2 ratios (arXiv 2402.17764).
 */
import type { TopLevelSpec } from "vega-lite";
import { captionLines, captionMarkdown } from "../figures/figure-caption";
import { B158_FIGURE2, B158_TABLE1 } from "../paper-numbers";
import { type LatencyResults, latencyRows } from "../pieces/latency-memory";
import { markdownTable, type Section } from "./section";

const BUDGET = "random weights, 4-token prompt, median of 8 decode steps, wasm backend on 1 thread, f32 LM head and KV cache";
const GIB = 2 ** 30;

function label(v: string): string {
  return v === "fp" ? "fp (float32 dense)" : "BitNet b1.58 (ternary, 2 bits/weight)";
}

const BILLIONS = { labelExpr: "format(datum.value / 1e9, '~g') + 'B'" };

export function latencySpec(r: LatencyResults): TopLevelSpec {
  const rows = latencyRows(r).map((x) => ({ model: label(x.variant), shape: x.shape, parameters: x.parameters, ms: x.decodeCpuMs, gib: x.weightBytes / GIB, source: x.source }));
  const panel = (field: "ms" | "gib", title: string) => ({
    width: 300,
    height: 260,
    layer: [
      { mark: { type: "line" }, encoding: { x: { field: "parameters", type: "quantitative", scale: { type: "log" }, axis: BILLIONS, title: "parameters (log scale)" }, y: { field, type: "quantitative", scale: { type: "log" }, title }, color: { field: "model", type: "nominal", title: "model", legend: { orient: "bottom", labelLimit: 400 } } } },
      {
        mark: { type: "point", size: 70, strokeWidth: 2, filled: true },
        encoding: { x: { field: "parameters", type: "quantitative" }, y: { field, type: "quantitative" }, color: { field: "model", type: "nominal" }, fillOpacity: { condition: { test: "datum.source === 'extrapolated'", value: 0.1 }, value: 1 } },
      },
      { mark: { type: "text", dy: -12, fontSize: 10 }, encoding: { x: { field: "parameters", type: "quantitative" }, y: { field, type: "quantitative" }, text: { field: "shape" }, color: { field: "model", type: "nominal" } } },
    ],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Decode latency and memory against model size (b1.58 paper Table 1 / Figure 2 shapes)", subtitle: captionLines({ provenance: r.provenance, budget: BUDGET, seeds: "one measurement per point; hollow = not run whole, extrapolated from the 1- and 2-layer models" }) },
    data: { values: rows },
    hconcat: [panel("ms", "decode CPU time per token (ms, log scale)"), panel("gib", "weight memory (GiB, log scale)")],
  } as TopLevelSpec;
}

export function latencyRatioSpec(r: LatencyResults): TopLevelSpec {
  const rows = latencyRows(r);
  const out: Array<{ shape: string; measure: string; source: string; ratio: number }> = [];
  for (const shape of [...new Set(rows.map((x) => x.shape))]) {
    const fp = rows.find((x) => x.shape === shape && x.variant === "fp");
    const one = rows.find((x) => x.shape === shape && x.variant === "b1.58");
    if (!fp || !one) continue;
    out.push({ shape, measure: "latency (fp ÷ 1-bit)", source: "ours: f32 vs ternary, CPU, 1 thread", ratio: fp.decodeCpuMs / one.decodeCpuMs });
    out.push({ shape, measure: "memory (fp ÷ 1-bit)", source: "ours: f32 vs ternary, CPU, 1 thread", ratio: fp.weightBytes / one.weightBytes });
    out.push({ shape, measure: "memory (fp ÷ 1-bit)", source: "ours as FP16 (fp bytes ÷ 2; not measured)", ratio: fp.weightBytes / 2 / one.weightBytes });
  }
  for (const p of B158_FIGURE2) {
    if (!rows.some((x) => x.shape === p.size)) continue;
    out.push({ shape: p.size, measure: "latency (fp ÷ 1-bit)", source: "paper: FP16 vs b1.58, GPU (Table 1 / Fig. 2)", ratio: p.latencySpeedup });
    out.push({ shape: p.size, measure: "memory (fp ÷ 1-bit)", source: "paper: FP16 vs b1.58, GPU (Table 1 / Fig. 2)", ratio: p.memoryReduction });
  }
  const t700 = B158_TABLE1[0];
  out.push({ shape: "700M", measure: "latency (fp ÷ 1-bit)", source: "paper: FP16 vs b1.58, GPU (Table 1 / Fig. 2)", ratio: t700.fpLatencyMs / t700.b158LatencyMs });
  out.push({ shape: "700M", measure: "memory (fp ÷ 1-bit)", source: "paper: FP16 vs b1.58, GPU (Table 1 / Fig. 2)", ratio: t700.fpMemoryGB / t700.b158MemoryGB });
  const order = ["700M", "1.3B", "3B", "7B"];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "How much faster and smaller the 1-bit model is, against the paper", subtitle: captionLines({ provenance: r.provenance, budget: BUDGET, seeds: "one measurement per point" }) },
    data: { values: out },
    facet: { column: { field: "measure", type: "nominal", title: null } },
    spec: {
      width: 260,
      height: 240,
      mark: { type: "bar" },
      encoding: {
        x: { field: "shape", type: "ordinal", sort: order, title: "model size" },
        xOffset: { field: "source" },
        y: { field: "ratio", type: "quantitative", title: "ratio fp ÷ 1-bit (×)" },
        color: { field: "source", type: "nominal", title: null, legend: { orient: "bottom", columns: 1, labelLimit: 400 } },
      },
    },
  } as TopLevelSpec;
}

export function latencySection(r: LatencyResults): Section {
  const rows = latencyRows(r);
  const table = markdownTable(
    ["size", "model", "parameters", "decode CPU ms/token", "decode wall ms/token", "weights GiB", "RSS GiB", "whole model", "CPU ms extrapolated from 1 and 2 layers"],
    rows.map((x) => [x.shape, label(x.variant), `${(x.parameters / 1e9).toFixed(2)} B`, x.decodeCpuMs.toFixed(1), x.source === "measured" ? x.decodeMs.toFixed(0) : "—", (x.weightBytes / GIB).toFixed(2), x.source === "measured" ? (x.rssBytes / GIB).toFixed(2) : "—", x.source, x.extrapolatedCpuMs.toFixed(1)]),
  );
  const ratios = [...new Set(rows.map((x) => x.shape))].map((shape) => {
    const fp = rows.find((x) => x.shape === shape && x.variant === "fp");
    const one = rows.find((x) => x.shape === shape && x.variant === "b1.58");
    const paper = B158_FIGURE2.find((p) => p.size === shape);
    const t = B158_TABLE1.find((p) => p.size === shape);
    const pl = paper?.latencySpeedup ?? (t ? t.fpLatencyMs / t.b158LatencyMs : undefined);
    const pm = paper?.memoryReduction ?? (t ? t.fpMemoryGB / t.b158MemoryGB : undefined);
    return [shape, fp && one ? `${(fp.decodeCpuMs / one.decodeCpuMs).toFixed(2)}×` : "—", fp && one ? `${(fp.weightBytes / one.weightBytes).toFixed(2)}× (as FP16: ${(fp.weightBytes / 2 / one.weightBytes).toFixed(2)}×)` : "—", pl ? `${pl.toFixed(2)}×` : "—", pm ? `${pm.toFixed(2)}×` : "—"];
  });
  const caption = captionMarkdown({ provenance: r.provenance, budget: BUDGET, seeds: "one measurement per point" });
  return {
    title: "2. Latency and memory against model size",
    figures: [
      { name: "latency-memory", spec: latencySpec(r) },
      { name: "latency-memory-ratios", spec: latencyRatioSpec(r) },
    ],
    markdown: `{{figure:latency-memory}}\n\n${caption}\n\n${table}\n\n{{figure:latency-memory-ratios}}\n\n${caption}\n\n${markdownTable(["size", "ours: latency fp ÷ 1-bit", "ours: weights fp ÷ 1-bit", "paper: latency (Table 1 / Fig. 2)", "paper: memory (Table 1 / Fig. 2)"], ratios)}\n\n{{findings:latency}}`,
  };
}
