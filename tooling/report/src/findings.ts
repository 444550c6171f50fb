/**
 * The findings under each section, computed from the same cached JSON as the figures (so a re-run rewrites them
 * with its own numbers). Where a sentence interprets (a trend, a comparison), it is chosen by the data.
 */
import type { Variant } from "@onebit/layers";
import { A48_SPARSITY_7B } from "./paper-numbers";
import type { EnergyResults } from "./pieces/energy";
import { GROUPS_WIDTH, groupsConfigs } from "./pieces/groups-runs";
import { type LatencyResults, latencyRows } from "./pieces/latency-memory";
import { ANALYSED_RUNS, scalingRunId } from "./pieces/scaling-runs";
import { scalingFindings } from "./scaling-findings";
import { runsOf } from "./sections/scaling-section";
import { pct, seedStats } from "./stats";
import { type A48Analysis, kvBaseline } from "./train/a48-inference";
import type { TrainingResults } from "./train/training-piece";

export interface AllResults {
  scaling?: TrainingResults;
  latency?: LatencyResults;
  energy?: EnergyResults;
  a48?: TrainingResults;
  groups?: TrainingResults;
}

function latencyFindings(r: LatencyResults): string {
  const rows = latencyRows(r);
  const out: string[] = [];
  for (const shape of [...new Set(rows.map((x) => x.shape))]) {
    const fp = rows.find((x) => x.shape === shape && x.variant === "fp");
    const one = rows.find((x) => x.shape === shape && x.variant === "b1.58");
    if (!fp || !one) continue;
    out.push(`${shape}: ${(fp.decodeCpuMs / one.decodeCpuMs).toFixed(2)}× less CPU time per token, ${(fp.weightBytes / one.weightBytes).toFixed(2)}× less weight memory than float32 (${(fp.weightBytes / 2 / one.weightBytes).toFixed(2)}× against FP16-sized weights)${fp.source === "extrapolated" ? " — fp extrapolated from its 1- and 2-layer models" : ""}`);
  }
  const big = rows.filter((x) => x.variant === "fp" && x.source === "extrapolated").map((x) => x.shape);
  return `- ${out.join(";\n- ")}.\n- The ratios grow with size, as in the paper's Figure 2: the embedding and LM head (float32 in both models here, FP16 in the paper) are a shrinking share.${big.length ? ` The float32 ${big.join(" and ")} models were not run whole (their weights need ${big.map((s) => `${(rows.find((x) => x.shape === s && x.variant === "fp")!.weightBytes / 2 ** 30).toFixed(0)} GiB`).join(" and ")}; the wasm backend keeps weights in one 32-bit address space of at most 4 GiB — loading float32 1.3B stops there — and float32 7B would not fit this 24 GiB machine either): their numbers are the 1- and 2-layer measurements extrapolated linearly in the layer count (the table's last column shows how far that extrapolation lands from the whole-model measurements where both exist).` : ""}`;
}

function a48Findings(scaling: TrainingResults, a48: TrainingResults | undefined): Record<string, string> {
  const models = ANALYSED_RUNS.map((id) => scaling.runs[id]).filter((x) => x?.analysis);
  const out: Record<string, string> = {};
  const b = models.find((m) => m!.config.variant === "b1.58");
  const a = models.find((m) => m!.config.variant === "a4.8");
  if (b) {
    const an = b.analysis as A48Analysis;
    const k = (kind: string) => {
      const ds = an.distributions.filter((d) => d.kind === kind);
      return { kurt: ds.reduce((s, d) => s + d.kurtosis, 0) / ds.length, peak: ds.reduce((s, d) => s + d.absMax / d.rms, 0) / ds.length, int4: ds.reduce((s, d) => s + d.quantError.int4, 0) / ds.length };
    };
    const [q, o, g, d] = [k("qkv"), k("o"), k("gateUp"), k("down")];
    out["a48-inputs"] = `- b1.58 model: kurtosis q/k/v input ${q.kurt.toFixed(1)}, gate/up input ${g.kurt.toFixed(1)}, o_proj input ${o.kurt.toFixed(1)}, down_proj input ${d.kurt.toFixed(1)} (a Gaussian has 3); max |x| ÷ RMS ${q.peak.toFixed(1)}, ${g.peak.toFixed(1)}, ${o.peak.toFixed(1)}, ${d.peak.toFixed(1)}. INT4 absmean's error on them: ${pct(q.int4)}, ${pct(g.int4)}, ${pct(o.int4)}, ${pct(d.int4)}.`.replace(/\+/g, "");
  }
  if (a) {
    const an = a.analysis as A48Analysis;
    const mean = (key: string) => an.sparsity.reduce((s, x) => s + (x[key] ?? 0), 0) / an.sparsity.length;
    out["a48-sparsity"] = `- a4.8 model (stage 2): down_proj input ${pct(mean("down")).replace("+", "")} zeros, o_proj input ${pct(mean("o")).replace("+", "")} (Top-K 50 %), up per token ${pct(1 - (1 - mean("up")) * (1 - mean("down"))).replace("+", "")} (a4.8 7B: ${(A48_SPARSITY_7B.upCombined * 100).toFixed(1)} %), INT4 inputs q/k/v ${pct(mean("q")).replace("+", "")}.`;
  }
  const kvLines = models.map((m) => {
    const kv = (m!.analysis as A48Analysis).kv;
    const base = kvBaseline(kv);
    const rest = kv.filter((x) => x !== base);
    const worst = rest.filter((x) => x.kvBits < 8 || x.queryBits).reduce((a, x) => Math.max(a, Math.abs(x.perplexity / base.perplexity - 1)), 0);
    return `- ${m!.config.variant} model: ${rest.map((x) => `${x.name} ${pct(x.perplexity / base.perplexity - 1, 2)}`).join(", ")} against ${base.name.replace(/ \(baseline\)$/, "")}; the 4- and 3-bit settings move perplexity by at most ${(worst * 100).toFixed(2)} % either way (one model, one seed †).`;
  });
  if (kvLines.length) out["a48-kv"] = kvLines.join("\n");
  if (a48) {
    const get = (id: string) => a48.runs[id];
    const h = get("scratch-hybrid");
    const parts: string[] = [];
    const cmp = (id: string, what: string) => {
      const x = get(id);
      if (!x || !h) return;
      parts.push(x.divergedAtStep ? `${what}: diverged at step ${x.divergedAtStep}` : `${what}: ${pct(x.validationPerplexity / h.validationPerplexity - 1)} against the hybrid`);
    };
    cmp("scratch-full-int4", "full INT4");
    cmp("scratch-full-fp4", "full FP4");
    cmp("scratch-topk-1", "no Top-K on o_proj");
    cmp("scratch-topk-0.25", "Top-K 25 %");
    cmp("scratch-hybrid-swiglu", "SwiGLU instead of ReLU²GLU");
    const ref = scaling.runs[scalingRunId("constant", "b1.58", 32, 1)];
    if (ref && h) parts.push(`the hybrid against W1.58A8 from step 0: ${pct(h.validationPerplexity / ref.validationPerplexity - 1)}`);
    out["a48-ablations"] = parts.length ? `- ${parts.join("; ")}.` : "";
  }
  return out;
}

function variantsFindings(r: TrainingResults, groups: TrainingResults | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const lines: string[] = [];
  for (const w of [32, 64, 128]) {
    const s = (v: Variant) => seedStats(runsOf(r, "constant", v, w).map((x) => x.validationPerplexity));
    const [fp, b, bn, a] = [s("fp"), s("b1.58"), s("bitnet"), s("a4.8")];
    if (fp.n && b.n && bn.n) lines.push(`width ${w}: b1.58 ${pct(b.mean / fp.mean - 1)}${a.n ? `, a4.8 ${pct(a.mean / fp.mean - 1)}` : ""}, BitNet (binary) ${pct(bn.mean / fp.mean - 1)} against fp; binary against ternary ${pct(bn.mean / b.mean - 1)}`);
  }
  const a64 = runsOf(r, "constant", "a4.8", 64)[0];
  const b64 = runsOf(r, "constant", "b1.58", 64)[0];
  const f64 = runsOf(r, "constant", "fp", 64)[0];
  if (a64 && b64 && f64) lines.push(`width 64, seed 1: a4.8 (two-stage, last 5 % in the hybrid scheme) ${a64.validationPerplexity.toFixed(1)} against b1.58 ${b64.validationPerplexity.toFixed(1)} (${pct(a64.validationPerplexity / b64.validationPerplexity - 1)}) and fp ${f64.validationPerplexity.toFixed(1)}`);
  out.variants = lines.length ? `- ${lines.join(";\n- ")}.` : "";
  if (groups) {
    const g1 = r.runs[scalingRunId("constant", "b1.58", GROUPS_WIDTH, 1)];
    const gs = groupsConfigs()
      .map((c) => ({ g: c.groups!, run: groups.runs[c.id] }))
      .filter((x) => x.run);
    // the seed spread of the same G = 1 model (section 1's seeds) says which differences a single seed can resolve
    const spread = seedStats(runsOf(r, "constant", "b1.58", GROUPS_WIDTH).map((x) => x.validationPerplexity));
    const noise = spread.n >= 3 ? `the G = 1 model itself varies by ± ${((spread.std / spread.mean) * 100).toFixed(1)} % (sample standard deviation over ${spread.n} seeds, section 1), so differences within about twice that are not resolved` : "no seed spread was measured at this budget, so differences of a few per cent are not resolved";
    if (g1 && gs.length) out.groups = `- ${gs.map((x) => `G = ${x.g}: ${pct(x.run!.validationPerplexity / g1.validationPerplexity - 1)}`).join(", ")} against G = 1, seed 1 (one seed each †; ${noise}).`;
  }
  return out;
}

export function findings(r: AllResults): Record<string, string> {
  return {
    ...(r.scaling ? { scaling: scalingFindings(r.scaling) } : {}),
    ...(r.latency ? { latency: latencyFindings(r.latency) } : {}),
    ...(r.scaling ? a48Findings(r.scaling, r.a48) : {}),
    ...(r.scaling ? variantsFindings(r.scaling, r.groups) : {}),
  };
}
