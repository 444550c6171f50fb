/**
 * Section 4: BitNet a4.8 (arXiv 2411.04965) at small scale — the inputs each projection sees (Fig. 2) and how
 * each quantizer handles them (Fig. 3), sparsity per layer and projection (Table 2), the activation-scheme
 * ablations (Fig. 4, Fig. 5, Table 4) trained from scratch, low-bit KV caches and queries (Table 3), and schemes
 * swapped in at inference.
 */
import type { TopLevelSpec } from "vega-lite";
import { captionLines, captionMarkdown } from "../figures/figure-caption";
import { A48_CLAIMS, A48_SPARSITY_7B } from "../paper-numbers";
import { A48_WIDTH, a48Configs } from "../pieces/a48-runs";
import { ANALYSED_RUNS, scalingRunId } from "../pieces/scaling-runs";
import { pct } from "../stats";
import { type A48Analysis, type InputKind, kvBaseline, kvRowsBaselineFirst } from "../train/a48-inference";
import type { RunResult } from "../train/train-run";
import type { TrainingResults } from "../train/training-piece";
import { scalingBudgetText, VARIANT_LABEL } from "./scaling-section";
import { markdownTable, type Section } from "./section";

const KIND_LABEL: Record<InputKind, string> = { qkv: "q/k/v input (attention input)", o: "o_proj input (attention output)", gateUp: "gate/up input (FFN input)", down: "down_proj input (FFN intermediate)" };
const ABLATION_LABEL: Record<string, string> = {
  "scratch-hybrid": "hybrid: INT4 in, Top-K 50 % + INT8 o, INT8 down",
  "scratch-full-int4": "full INT4 (every input)",
  "scratch-full-fp4": "full FP4 E2M1 (every input)",
  "scratch-topk-0.25": "hybrid, Top-K 25 % on o",
  "scratch-topk-1": "hybrid, no Top-K (INT8 on o)",
  "scratch-hybrid-swiglu": "hybrid with SwiGLU (not ReLU²GLU)",
  reference: "W1.58A8 (b1.58, INT8 every input)",
};

function analysed(scaling: TrainingResults): Array<{ label: string; run: RunResult; analysis: A48Analysis }> {
  return ANALYSED_RUNS.map((id) => scaling.runs[id])
    .filter((r): r is RunResult => r?.analysis !== undefined)
    .map((run) => ({ label: `${VARIANT_LABEL[run.config.variant]} (width ${run.config.width}${run.config.variant === "a4.8" ? ", stage 2" : ""})`, run, analysis: run.analysis as A48Analysis }));
}

export function distributionsSpec(scaling: TrainingResults): TopLevelSpec {
  const rows = analysed(scaling).flatMap(({ label, analysis }) =>
    analysis.distributions.flatMap((d) => d.counts.map((c, i) => ({ model: label, kind: KIND_LABEL[d.kind], layer: `layer ${d.layer}`, x: (d.edges[i]! + d.edges[i + 1]!) / 2, count: c + 1 }))),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "What each projection's input looks like (a4.8 paper Figure 2)", subtitle: captionLines({ provenance: analysisProvenance(scaling), budget: `${scalingBudgetText()}; histograms over 64 validation rows × 64 tokens, 61 bins over ±max|x|`, seeds: "seed 1 (one model each †)" }) },
    data: { values: rows },
    facet: { row: { field: "model", type: "nominal", title: null }, column: { field: "kind", type: "nominal", title: null, sort: Object.values(KIND_LABEL) } },
    spec: {
      width: 190,
      height: 150,
      mark: { type: "line", interpolate: "step", strokeWidth: 1.2 },
      encoding: {
        x: { field: "x", type: "quantitative", title: "input value (float, before quantization)" },
        y: { field: "count", type: "quantitative", scale: { type: "log" }, title: "count + 1 (log scale)" },
        color: { field: "layer", type: "nominal", title: "layer" },
      },
    },
    resolve: { scale: { x: "independent" } },
  } as TopLevelSpec;
}

export function quantErrorSpec(scaling: TrainingResults): TopLevelSpec {
  const rows = analysed(scaling).flatMap(({ label, analysis }) =>
    (["qkv", "o", "gateUp", "down"] as InputKind[]).flatMap((kind) => {
      const ds = analysis.distributions.filter((d) => d.kind === kind);
      const mean = (f: (d: (typeof ds)[number]) => number) => ds.reduce((a, d) => a + f(d), 0) / ds.length;
      return [
        { model: label, kind: KIND_LABEL[kind], quantizer: "INT8 absmax", error: mean((d) => d.quantError.int8) },
        { model: label, kind: KIND_LABEL[kind], quantizer: "INT4 absmean", error: mean((d) => d.quantError.int4) },
        { model: label, kind: KIND_LABEL[kind], quantizer: "FP4 E2M1 MinMax", error: mean((d) => d.quantError.fp4) },
      ];
    }),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Quantization error of each input, per token (a4.8 paper Figure 3)", subtitle: captionLines({ provenance: analysisProvenance(scaling), budget: "relative RMS error ‖x − Q(x)‖ / ‖x‖ over the same 4096 tokens, mean over layers", seeds: "seed 1 (one model each †)" }) },
    data: { values: rows },
    facet: { column: { field: "model", type: "nominal", title: null } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: "bar" },
      encoding: {
        y: { field: "kind", type: "nominal", title: null, sort: Object.values(KIND_LABEL) },
        yOffset: { field: "quantizer" },
        x: { field: "error", type: "quantitative", title: "relative RMS error", axis: { format: ".0%" } },
        color: { field: "quantizer", type: "nominal", title: "quantizer" },
      },
    },
  } as TopLevelSpec;
}

/**
 * a4.8 Table 2 counts the up projection's work skipped per token: 1 − (1 − s_up input)(1 − s_gate output). The
 * gate's output zeros are where ReLU² is 0, which is (up to an exact 0 from up_proj) where down_proj's input is 0,
 * so s_gate output ≈ s_down input. (The engine's own "gate/up" counts up rows skipped for every token of a
 * 64-token prefill at once, a different and much smaller number, so it is not shown.)
 */
export function upCombined(s: Record<string, number>): number {
  return 1 - (1 - (s.up ?? 0)) * (1 - (s.down ?? 0));
}

const SPARSITY_COLUMNS = ["q", "k", "v", "o", "gate", "up", "up, per token", "down"];

export function sparsitySpec(scaling: TrainingResults): TopLevelSpec {
  const rows = analysed(scaling).flatMap(({ label, analysis }) =>
    analysis.sparsity.flatMap((s, layer) => SPARSITY_COLUMNS.map((projection) => ({ model: label, layer: `layer ${layer}`, projection, sparsity: projection === "up, per token" ? upCombined(s) : (s[projection] ?? 0) }))),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Activation sparsity per layer and projection (a4.8 paper Table 2)", subtitle: captionLines({ provenance: analysisProvenance(scaling), budget: "fraction of zero codes after each projection's input quantization, 4096 validation tokens; up, per token = 1 − (1 − s_up input)(1 − s_gate output), s_gate output ≈ s_down input", seeds: "seed 1 (one model each †)" }) },
    data: { values: rows },
    facet: { column: { field: "model", type: "nominal", title: null } },
    spec: {
      width: 300,
      height: 150,
      layer: [
        { mark: { type: "rect" }, encoding: { x: { field: "projection", type: "nominal", title: "projection (input)", sort: SPARSITY_COLUMNS, axis: { grid: false, labelAngle: -35 } }, y: { field: "layer", type: "nominal", title: null, axis: { grid: false } }, color: { field: "sparsity", type: "quantitative", title: "zero fraction", scale: { domain: [0, 1], scheme: "blues" }, legend: { format: ".0%" } } } },
        { mark: { type: "text", fontSize: 10 }, encoding: { x: { field: "projection", type: "nominal", sort: SPARSITY_COLUMNS }, y: { field: "layer", type: "nominal" }, text: { field: "sparsity", type: "quantitative", format: ".0%" }, color: { condition: { test: "datum.sparsity > 0.5", value: "white" }, value: "black" } } },
      ],
    },
  } as TopLevelSpec;
}

function ablationRuns(a48: TrainingResults, scaling: TrainingResults): Array<{ id: string; label: string; run: RunResult }> {
  const out = a48Configs(true)
    .map((c) => ({ id: c.id, label: ABLATION_LABEL[c.id] ?? c.id, run: a48.runs[c.id] }))
    .filter((x): x is { id: string; label: string; run: RunResult } => x.run !== undefined);
  const ref = scaling.runs[scalingRunId("constant", "b1.58", A48_WIDTH, 1)];
  if (ref) out.unshift({ id: "reference", label: ABLATION_LABEL.reference!, run: ref });
  return out;
}

function ablationBudget(): string {
  return `${scalingBudgetText().replace(/, peak lr.*/, "")}, lr 5e-3, width ${A48_WIDTH}, every scheme from step 0`;
}

export function ablationCurvesSpec(a48: TrainingResults, scaling: TrainingResults): TopLevelSpec {
  const rows = ablationRuns(a48, scaling).flatMap(({ label, run }) => run.curve.map((p) => ({ scheme: label, step: p.step, loss: p.loss })));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Activation-scheme ablations trained from scratch (a4.8 paper Fig. 4, Fig. 5, Table 4)", subtitle: captionLines({ provenance: a48.provenance, budget: ablationBudget(), seeds: "seed 1 (one run each †)" }) },
    data: { values: rows },
    width: 520,
    height: 300,
    mark: { type: "line", strokeWidth: 1.4 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "training step" },
      y: { field: "loss", type: "quantitative", scale: { zero: false }, title: "training cross-entropy, 10-step mean (nats/token)" },
      color: { field: "scheme", type: "nominal", title: "scheme", legend: { orient: "right", labelLimit: 480 } },
    },
  } as TopLevelSpec;
}

/** "8-bit KV" once the analyses were measured with @onebit/kv's 8-bit store (the paper's Table 3 baseline), else "f32 KV". */
function kvBaselineName(scaling: TrainingResults): string {
  const names = new Set(analysed(scaling).map(({ analysis }) => kvBaseline(analysis.kv).name.replace(/ \(baseline\)$/, "")));
  return [...names].join(" / ") || "f32 KV";
}

/** The analysed models' captions: the analyses' own provenance where they were re-measured (--only a48, a48-reanalysis.ts). */
function analysisProvenance(scaling: TrainingResults) {
  return scaling.reanalysis?.provenance ?? scaling.provenance;
}

export function kvSpec(scaling: TrainingResults): TopLevelSpec {
  const rows = analysed(scaling).flatMap(({ label, analysis }) => {
    const base = kvBaseline(analysis.kv).perplexity;
    return kvRowsBaselineFirst(analysis.kv).map((k) => ({ model: label, setting: k.name, change: k.perplexity / base - 1, perplexity: k.perplexity }));
  });
  const baseName = kvBaselineName(scaling);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Low-bit attention: KV cache and query precision (a4.8 paper Table 3)", subtitle: captionLines({ provenance: analysisProvenance(scaling), budget: "perplexity of the trained model on 64 validation rows × 64 tokens (inference engine, post-RoPE KV quantization)", seeds: "seed 1 (one model each †)" }) },
    data: { values: rows },
    facet: { column: { field: "model", type: "nominal", title: null } },
    spec: {
      width: 280,
      height: 200,
      mark: { type: "bar" },
      encoding: {
        y: { field: "setting", type: "nominal", title: null, sort: null, axis: { labelLimit: 260 } },
        x: { field: "change", type: "quantitative", title: `perplexity vs ${baseName}`, axis: { format: "+.2%" } },
        color: { field: "setting", type: "nominal", legend: null },
        tooltip: [{ field: "perplexity", format: ".2f" }],
      },
    },
  } as TopLevelSpec;
}

export function a48Section(scaling: TrainingResults, a48: TrainingResults | undefined): Section {
  const models = analysed(scaling);
  const figures: Section["figures"] = [];
  const parts: string[] = [];
  const cap = scaling.reanalysis
    ? captionMarkdown({ provenance: scaling.reanalysis.provenance, budget: `${scalingBudgetText()}; the analysed runs (${scaling.reanalysis.runs.join(", ")}) retrained with the same seed and batches to the same validation perplexity, then measured`, seeds: "seed 1 (one model each †)" })
    : captionMarkdown({ provenance: scaling.provenance, budget: scalingBudgetText(), seeds: "seed 1 (one model each †)" });
  if (models.length) {
    figures.push({ name: "a48-input-distributions", spec: distributionsSpec(scaling) }, { name: "a48-quant-error", spec: quantErrorSpec(scaling) }, { name: "a48-sparsity", spec: sparsitySpec(scaling) }, { name: "a48-kv-cache", spec: kvSpec(scaling) });
    const stats = markdownTable(
      ["model", "input", "RMS", "max abs ÷ RMS", "kurtosis (Gaussian 3)", "INT8 error", "INT4 error", "FP4 error"],
      models.flatMap(({ label, analysis }) =>
        (["qkv", "o", "gateUp", "down"] as InputKind[]).map((kind) => {
          const ds = analysis.distributions.filter((d) => d.kind === kind);
          const m = (f: (d: (typeof ds)[number]) => number) => ds.reduce((a, d) => a + f(d), 0) / ds.length;
          return [label, KIND_LABEL[kind], m((d) => d.rms).toFixed(3), m((d) => d.absMax / d.rms).toFixed(1), m((d) => d.kurtosis).toFixed(1), pct(m((d) => d.quantError.int8)), pct(m((d) => d.quantError.int4)), pct(m((d) => d.quantError.fp4))];
        }),
      ),
    ).replace(/\+/g, "");
    parts.push(`### Inputs of each projection (Fig. 2, Fig. 3)\n\n{{figure:a48-input-distributions}}\n\n${cap}\n\n{{figure:a48-quant-error}}\n\n${cap}\n\nMeans over the 4 layers:\n\n${stats}\n\nThe paper: ${A48_CLAIMS.fig2}\n\n{{findings:a48-inputs}}`);
    const sp = markdownTable(
      ["model", "q/k/v", "o", "gate", "up", "up, per token (work skipped)", "down"],
      models.map(({ label, analysis }) => {
        const mean = (k: string) => analysis.sparsity.reduce((a, s) => a + (k === "upCombined" ? upCombined(s) : (s[k] ?? 0)), 0) / analysis.sparsity.length;
        return [label, pct(mean("q"), 1), pct(mean("o"), 1), pct(mean("gate"), 1), pct(mean("up"), 1), pct(mean("upCombined"), 1), pct(mean("down"), 1)].map((x) => x.replace("+", ""));
      }),
    );
    parts.push(`### Sparsity (Table 2)\n\n{{figure:a48-sparsity}}\n\n${cap}\n\n${sp}\n\nThe paper (a4.8 7B, Table 2 / §2.1): down_proj input > ${A48_SPARSITY_7B.downInputAtLeast * 100} % zeros with ReLU²; gate output ${(A48_SPARSITY_7B.gateOutput * 100).toFixed(1)} %, up input ${(A48_SPARSITY_7B.upInput * 100).toFixed(1)} %, up combined ${(A48_SPARSITY_7B.upCombined * 100).toFixed(1)} %; overall ${A48_SPARSITY_7B.overall * 100} % (${A48_SPARSITY_7B.activeParametersB}B active parameters of 7B).\n\n{{findings:a48-sparsity}}`);
    const kvRows = models.flatMap(({ label, analysis }) => kvRowsBaselineFirst(analysis.kv).map((k) => [label, k.name, k.perplexity.toFixed(2), pct(k.perplexity / kvBaseline(analysis.kv).perplexity - 1, 2)]));
    const baseName = kvBaselineName(scaling);
    const baseNote = baseName.startsWith("8-bit")
      ? "The baseline is the 8-bit KV cache (per-token, per-head scale and offset), as the paper's Table 3 compares its low-bit settings with 8 bits; f32 and f16 are extra rows. Contexts here are 64 tokens, so few cached positions carry the quantization error into each prediction."
      : "The KV cache these analyses were measured with had f32, f16, 4-bit and 3-bit stores and no 8-bit one, so the baseline is f32 (the paper's: 8-bit); once @onebit/kv has an 8-bit store, `pnpm report -- --only a48` measures it and makes it the baseline.";
    parts.push(`### Low-bit attention (Table 3)\n\n{{figure:a48-kv-cache}}\n\n${cap}\n\n${markdownTable(["model", "setting", "perplexity", `vs ${baseName}`], kvRows)}\n\n${baseNote} The paper: ${A48_CLAIMS.table3}\n\n{{findings:a48-kv}}`);
    const a48m = models.find((m) => m.run.config.variant === "a4.8");
    if (a48m?.analysis.schemes.length) {
      const base = (a48m.analysis.kv.find((k) => k.kvBits === 32) ?? a48m.analysis.kv[0]!).perplexity; // as trained: f32 KV
      parts.push(`### Schemes swapped in at inference (no retraining)\n\nThe a4.8 model above (trained two-stage, Top-K 50 %), run with other activation quantizers on the inference engine:\n\n${markdownTable(["scheme at inference", "perplexity", "vs as trained", "o_proj input sparsity"], a48m.analysis.schemes.map((s) => [s.name, s.perplexity.toFixed(2), pct(s.perplexity / base - 1, 2), pct(s.oSparsity, 1).replace("+", "")]))}\n\n${cap}`);
    }
  }
  if (a48) {
    figures.push({ name: "a48-ablations", spec: ablationCurvesSpec(a48, scaling) });
    const runs = ablationRuns(a48, scaling);
    const ref = runs.find((r) => r.id === "scratch-hybrid")?.run.validationPerplexity;
    const table = markdownTable(
      ["scheme (from step 0)", "val ppl", "vs hybrid", "o_proj input sparsity", "down_proj input sparsity"],
      runs.map(({ label, run }) => [label, run.divergedAtStep ? `diverged at step ${run.divergedAtStep}` : run.validationPerplexity.toFixed(2), ref && !run.divergedAtStep ? pct(run.validationPerplexity / ref - 1) : "—", pct(run.sparsity.o ?? 0).replace("+", ""), pct(run.sparsity.down ?? 0).replace("+", "")]),
    );
    parts.push(`### Ablations (Fig. 4, Fig. 5, Table 4)\n\n{{figure:a48-ablations}}\n\n${captionMarkdown({ provenance: a48.provenance, budget: ablationBudget(), seeds: "seed 1 (one run each †)" })}\n\n${table}\n\nThe paper: ${A48_CLAIMS.fig4} ${A48_CLAIMS.fig5} ${A48_CLAIMS.table4} Here every scheme trains from the first step (Fig. 4 / Fig. 5 style); the paper's Table 4 compares Top-K in its two-stage recipe.\n\n{{findings:a48-ablations}}`);
  }
  return { title: "4. BitNet a4.8: activations, sparsity, ablations, low-bit attention", figures, markdown: parts.join("\n\n") };
}
