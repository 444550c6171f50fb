/**
 * The findings under each section, computed from the same cached JSON as the figures (so a re-run rewrites them
 * with its own numbers). Where a sentence interprets (a trend, a comparison), it is chosen by the data.
 */
import type { Variant } from "@onebit/layers";
import { A48_SPARSITY_7B, B158_TABLE1 } from "./paper-numbers";
import type { EnergyResults } from "./pieces/energy";
import { GROUPS_WIDTH, groupsConfigs } from "./pieces/groups-runs";
import { type LatencyResults, latencyRows } from "./pieces/latency-memory";
import { ANALYSED_RUNS, BASE_WIDTH, lrProbeConfigs, scalingRunId } from "./pieces/scaling-runs";
import { runsOf, scalingPoints } from "./sections/scaling-section";
import { pct, seedStats } from "./stats";
import type { A48Analysis } from "./train/a48-inference";
import type { TrainingResults } from "./train/training-piece";
import type { LrRule } from "./train/train-run";

export interface AllResults {
  scaling?: TrainingResults;
  latency?: LatencyResults;
  energy?: EnergyResults;
  a48?: TrainingResults;
  groups?: TrainingResults;
}

/** The hidden-matrix rate multiplier a run's rule gave (μP below the base width). */
const lrMultiplierOf = (c: { rule: LrRule; width: number; baseWidth?: number }) => (c.rule === "mup" ? (c.baseWidth ?? BASE_WIDTH) / c.width : 1);

const trend = (xs: number[]) => (xs.every((x, i) => i === 0 || x > xs[i - 1]!) ? "grows" : xs.every((x, i) => i === 0 || x < xs[i - 1]!) ? "shrinks" : "is not monotonic");

function scalingFindings(r: TrainingResults): string {
  const points = scalingPoints(r);
  const widths = [...new Set(points.map((p) => p.width))].sort((a, b) => a - b);
  const mean = (rule: LrRule, v: Variant, w: number) => points.find((p) => p.rule === rule && p.variant === v && p.width === w)?.mean;
  const gapRow = (rule: LrRule) =>
    widths
      .map((w) => ({ w, fp: mean(rule, "fp", w), b: mean(rule, "b1.58", w) }))
      .filter((x) => x.fp !== undefined && x.b !== undefined)
      .map((x) => ({ w: x.w, gap: x.b! / x.fp! - 1 }));
  const out: string[] = [];
  for (const rule of ["constant", "mup"] as LrRule[]) {
    const g = gapRow(rule);
    if (g.length < 2) continue;
    out.push(`- **${rule === "constant" ? "Papers' rule" : "μP"}:** b1.58 vs fp ${g.map((x) => `${pct(x.gap)} at width ${x.w}`).join(", ")} — the gap ${trend(g.map((x) => x.gap))} with width.`);
  }
  const muDelta = widths
    .filter((w) => w !== BASE_WIDTH)
    .flatMap((w) =>
      (["fp", "b1.58"] as Variant[]).map((v) => {
        const c = mean("constant", v, w);
        const m = mean("mup", v, w);
        return c && m ? `${v} ${pct(m / c - 1)} at width ${w}` : "";
      }),
    )
    .filter(Boolean);
  if (muDelta.length) out.push(`- **μP against the papers' rule** (perplexity change from the higher hidden-matrix rate at the narrower widths): ${muDelta.join(", ")}.`);
  // does the 1-bit model gain from width at its rate? (the gap's other half: fp gains a lot)
  const bw = widths.map((w) => ({ w, ppl: mean("constant", "b1.58", w) })).filter((x) => x.ppl !== undefined);
  const fw = widths.map((w) => ({ w, ppl: mean("constant", "fp", w) })).filter((x) => x.ppl !== undefined);
  if (bw.length >= 2 && fw.length >= 2)
    out.push(`- **Gain from width at a fixed rate** (papers' rule): fp ${fw.map((x) => `${x.ppl!.toFixed(1)}`).join(" → ")}, b1.58 ${bw.map((x) => `${x.ppl!.toFixed(1)}`).join(" → ")} over widths ${bw.map((x) => x.w).join(", ")}${bw.at(-1)!.ppl! > bw.at(-2)!.ppl! ? ` — the widest b1.58 model is worse than the next narrower one at the same rate` : ""}.`);
  for (const c of lrProbeConfigs()) {
    const probe = r.runs[c.id];
    const ref = r.runs[scalingRunId("constant", c.variant, c.width, c.seed)];
    const f = r.runs[scalingRunId("constant", "fp", c.width, c.seed)];
    if (!probe || !ref || !f) continue;
    out.push(`- **Rate probe at width ${c.width}:** b1.58 at ${c.lr.toExponential(1)} reaches ${probe.validationPerplexity.toFixed(1)} against ${ref.validationPerplexity.toFixed(1)} at ${ref.config.lr.toExponential(1)} (${pct(probe.validationPerplexity / ref.validationPerplexity - 1)}); its gap to fp becomes ${pct(probe.validationPerplexity / f.validationPerplexity - 1)} (from ${pct(ref.validationPerplexity / f.validationPerplexity - 1)}).`);
  }
  // each model at the best rate any run tried at its width (both rules and the probes): the gap at tuned rates
  const best = (v: Variant, w: number) => {
    const runs = Object.values(r.runs).filter((x) => x.config.variant === v && x.config.width === w && x.config.seed === 1 && x.divergedAtStep === undefined && !x.config.groups);
    return runs.length ? runs.reduce((a, b) => (b.validationPerplexity < a.validationPerplexity ? b : a)) : undefined;
  };
  const tuned = widths.map((w) => ({ w, fp: best("fp", w), b: best("b1.58", w) })).filter((x) => x.fp && x.b);
  if (tuned.length >= 2) {
    const gaps = tuned.map((x) => x.b!.validationPerplexity / x.fp!.validationPerplexity - 1);
    out.push(
      `- **Each model at the best rate tried at its width** (seed 1): ${tuned.map((x, i) => `width ${x.w}: b1.58 ${x.b!.validationPerplexity.toFixed(1)} at ${(x.b!.config.lr * lrMultiplierOf(x.b!.config)).toExponential(1)} vs fp ${x.fp!.validationPerplexity.toFixed(1)} at ${(x.fp!.config.lr * lrMultiplierOf(x.fp!.config)).toExponential(1)} (${pct(gaps[i]!)})`).join("; ")} — the gap ${trend(gaps)} with width.`,
    );
  }
  // the reading, with its numbers: what moves the gap at width 128 and at the narrow widths
  const probe = lrProbeConfigs().map((c) => ({ c, run: r.runs[c.id], ref: r.runs[scalingRunId("constant", c.variant, c.width, c.seed)], f: r.runs[scalingRunId("constant", "fp", c.width, c.seed)] }))[0];
  const m64 = (v: Variant) => {
    const c = mean("constant", v, 64);
    const m = mean("mup", v, 64);
    return c && m ? m / c - 1 : undefined;
  };
  if (tuned.length >= 2 && probe?.run && probe.ref && probe.f && m64("fp") !== undefined && m64("b1.58") !== undefined) {
    const gaps = tuned.map((x) => x.b!.validationPerplexity / x.fp!.validationPerplexity - 1);
    const shrinks = trend(gaps) === "shrinks";
    out.push(
      `- **Reading.** ${shrinks ? "With each model at its best rate the gap shrinks with width." : "No rule tried makes the gap shrink with width at this scale: at this short budget the 1-bit model leads fp at the narrow widths and loses that lead at width 128."} What the runs do show is where the project's growing gap comes from — the 1-bit model's rate. At one rate the b1.58 model gains little from width (${bw.map((x) => x.ppl!.toFixed(1)).join(" → ")}) while fp gains a lot; halving the b1.58 rate at width ${probe.c.width} takes its gap from ${pct(probe.ref.validationPerplexity / probe.f.validationPerplexity - 1)} to ${pct(probe.run.validationPerplexity / probe.f.validationPerplexity - 1)}; μP's doubled rate at width 64 changes fp by ${pct(m64("fp")!)} and b1.58 by ${pct(m64("b1.58")!)}. The b1.58 rates tried are consistent with a best rate ∝ 1/width (5e-3 beats 1e-2 at width 64, ${probe.c.lr.toExponential(1)} beats ${probe.ref.config.lr.toExponential(1)} at width ${probe.c.width}), and at width ${probe.c.width} it lies below fp's rate (${probe.f.config.lr.toExponential(1)}), not above it as in the papers' recipes (b1.58 / 2B4T), whose budgets are 10⁶ times larger. The rule these runs point to is μP for both models (hidden-matrix rate ∝ 1/width) with the 1-bit base rate at or below fp's; with it the width-${probe.c.width} gap is ${pct(probe.run.validationPerplexity / probe.f.validationPerplexity - 1)}, but the narrow 1-bit models' lead still makes the gap grow with width at this budget. One seed per point (†) and one probe: the spreads are not measured.`,
    );
  }
  // where in the run the 1-bit model falls behind: the validation evaluations of seed 1 at the base width
  const fp = r.runs[scalingRunId("constant", "fp", BASE_WIDTH, 1)];
  const b = r.runs[scalingRunId("constant", "b1.58", BASE_WIDTH, 1)];
  if (fp && b) {
    const val = (x: typeof fp) => x.curve.filter((p) => p.validationLoss !== undefined).map((p) => ({ step: p.step, ppl: Math.exp(p.validationLoss!) }));
    const vf = val(fp);
    const vb = val(b);
    const steps = vf.filter((p) => vb.some((q) => q.step === p.step)).map((p) => `step ${p.step}: ${pct(vb.find((q) => q.step === p.step)!.ppl / p.ppl - 1)}`);
    out.push(`- **During the run** (width ${BASE_WIDTH}, seed 1, b1.58 vs fp validation perplexity): ${steps.join(", ")}.`);
  }
  const paper = B158_TABLE1.map((t) => `${t.size} ${pct(t.b158Ppl / t.fpPpl - 1)}`).join(", ");
  out.push(`- **The paper** (b1.58 Table 1): ${paper} — the gap closes between 700M and 3B parameters at 100B tokens, 3–4 orders of magnitude above these models and 6 above their token budget.`);
  return out.join("\n");
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
    const base = an.kv[0]!.perplexity;
    out["a48-kv"] = `- a4.8 model: ${an.kv
      .slice(1)
      .map((x) => `${x.name} ${pct(x.perplexity / base - 1, 2)}`)
      .join(", ")} against f32 KV.`;
  }
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
  if (a64 && b64 && f64) lines.push(`width 64: a4.8 (two-stage, last 5 % in the hybrid scheme) ${a64.validationPerplexity.toFixed(1)} against b1.58 ${b64.validationPerplexity.toFixed(1)} (${pct(a64.validationPerplexity / b64.validationPerplexity - 1)}) and fp ${f64.validationPerplexity.toFixed(1)}`);
  out.variants = lines.length ? `- ${lines.join(";\n- ")}.` : "";
  if (groups) {
    const g1 = r.runs[scalingRunId("constant", "b1.58", GROUPS_WIDTH, 1)];
    const gs = groupsConfigs()
      .map((c) => ({ g: c.groups!, run: groups.runs[c.id] }))
      .filter((x) => x.run);
    if (g1 && gs.length) out.groups = `- ${gs.map((x) => `G = ${x.g}: ${pct(x.run!.validationPerplexity / g1.validationPerplexity - 1)}`).join(", ")} against G = 1 (one seed each †; no seed spread was measured at this budget, so differences of a few per cent are not resolved).`;
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
