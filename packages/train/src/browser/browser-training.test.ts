/**
 * tfjs webgl training in a real browser: bundles training-page.ts (which imports only @onebit/train/browser) with
 * esbuild, serves it on 127.0.0.1 and drives Debian's Chromium with Playwright. WebGL2 runs on SwiftShader when
 * there is no GPU. Chromium is found at $CHROMIUM_PATH or /usr/bin/chromium; outside CI a machine without it
 * skips this file with a warning, in CI a missing Chromium fails it.
 * Truth is computed here in Node: @onebit/quant (and the SPEC formulas in plain float32 JavaScript) for the fake
 * quantizers, this file's own tokenizer run for the token rows, and the same training run on tfjs wasm and cpu for
 * the losses.
 *
 * What holds on webgl, and why not more (measured on SwiftShader, WebGL2, float32 textures):
 * - Every quantization code equals @onebit/quant's, and given the statistic it scaled by (max|x| or mean|x| per
 *   token/group, mean|W| and mean(W) per group) every fake-quantized value is the float32 SPEC arithmetic bit for bit
 *   (webgl's *, /, round-half-to-even and clamp are IEEE float32 here).
 * - Max statistics are exact, so int8 / Top-K / FP4 values are bit-identical to the formulas with @onebit/quant's own
 *   statistics (tfjs-cpu computes the same values).
 * - Mean statistics are not always the correctly rounded mean that @onebit/quant computes (Σ in float64, one
 *   rounding): tfjs-webgl's Mean kernel multiplies every element by the float32 literal 1/n and sums vec4 dot
 *   products window by window in float32 (MeanProgram, reduce.ts). So γ = mean|W| and β = mean|x| may differ by an
 *   ulp, and with them ternary / int4 / binary values by an ulp; no code changes.
 * - Training: the forward pass (step 1's loss) agrees with wasm/cpu to float rounding; later steps drift further
 *   (different summation orders in matMul and reductions, then AdamW's m/√v turns tiny gradient differences of
 *   near-zero components into ±lr steps, which can flip ternary codes): LOSS_TOL bounds it.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { preset, trainBpeTokenizer } from "@onebit/model";
import { blockOf, dequantize, type QuantizedTensor, quantizeBinary, quantizeFp4, quantizeInt4, quantizeInt8, quantizeTernary, quantizeTopKInt8, roundHalfEven, SQRT7 } from "@onebit/quant";
import { type PageRun, runPageInChromium, skipBrowserTests } from "@onebit/browser-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitDocuments, tokenRows } from "../token-rows";
import { trainInMemory } from "../train-in-memory";
import type { BrowserTrainingJob, BrowserTrainingReport, QuantCase } from "./training-page";


// --- the job: fake-quantizer inputs, a short text, a tiny b1.58 spec --------------------------------------------

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}
const r = rng(11);
const shape: [number, number] = [8, 64];
const x = Array.from({ length: shape[0] * shape[1] }, () => Math.fround(r() * 6));
x[5] = 0.5; // exact ties stay ties: with max|x| of its row at 127·k they must round to even
const quantCases: QuantCase[] = [
  { name: "int8 per token", target: "activation", kind: "int8", options: {}, shape, x },
  { name: "int8 per token, 4 groups", target: "activation", kind: "int8", options: { groups: 4 }, shape, x },
  { name: "int8 Top-K 50 %", target: "activation", kind: "int8-topk", options: {}, shape, x },
  { name: "fp4 per token", target: "activation", kind: "fp4", options: {}, shape, x },
  { name: "int4 per token", target: "activation", kind: "int4", options: {}, shape, x },
  { name: "ternary per tensor", target: "weight", kind: "ternary", options: {}, shape, x },
  { name: "ternary, 2 row groups", target: "weight", kind: "ternary", options: { groups: 2, groupAxis: "out" }, shape, x },
  { name: "ternary, 4 column groups", target: "weight", kind: "ternary", options: { groups: 4, groupAxis: "in" }, shape, x },
  { name: "binary per tensor", target: "weight", kind: "binary", options: {}, shape, x },
];
/** @onebit/quant, the reference of each case. */
const reference: Record<string, () => QuantizedTensor> = {
  "int8 per token": () => quantizeInt8(x, shape),
  "int8 per token, 4 groups": () => quantizeInt8(x, shape, { granularity: { groups: 4, axis: "row-cols" } }),
  "int8 Top-K 50 %": () => quantizeTopKInt8(x, shape),
  "fp4 per token": () => quantizeFp4(x, shape),
  "int4 per token": () => quantizeInt4(x, shape),
  "ternary per tensor": () => quantizeTernary(x, shape),
  "ternary, 2 row groups": () => quantizeTernary(x, shape, { granularity: { groups: 2, axis: "rows" } }),
  "ternary, 4 column groups": () => quantizeTernary(x, shape, { granularity: { groups: 4, axis: "cols" } }),
  "binary per tensor": () => quantizeBinary(x, shape),
};

const words = ["one", "two", "three", "four", "five", "six", "seven", "eight"];
const documents = Array.from({ length: 40 }, (_, d) =>
  Array.from({ length: 4 }, (_, s) => `the ${words[(d + s) % 8]} cats saw ${words[(d + s + 1) % 8]} dogs and ${words[(d + s + 2) % 8]} birds.`).join(" "),
);
const job: BrowserTrainingJob = {
  documents,
  vocabSize: 300,
  seqLen: 16,
  spec: preset("b1.58", "tiny", { vocab_size: 300, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1 }),
  hyper: { steps: 8, batchSize: 4, lr: 1e-2, seed: 3, evalBatches: 2, warmupSteps: 1 },
  quantCases,
};

describe.skipIf(skipBrowserTests("browser training"))("tfjs webgl training in Chromium (Playwright)", () => {
  let run: PageRun<BrowserTrainingReport> | undefined;
  let report: BrowserTrainingReport;
  let bundleText = "";
  let consoleLines: string[] = [];

  beforeAll(async () => {
    run = await runPageInChromium<BrowserTrainingReport>({
      entry: join(dirname(fileURLToPath(import.meta.url)), "training-page.ts"),
      title: "onebit webgl training",
      globalName: "__onebitTraining",
      timeoutMs: 90_000,
      files: { "/job.json": { contentType: "application/json", body: JSON.stringify(job) } },
      ignoreConsole: (text) => text.includes("GPU stall due to ReadPixels"),
    });
    report = run.report;
    bundleText = run.bundleText;
    consoleLines = run.console;
  }, 120_000);

  afterAll(async () => {
    await run?.close();
  });

  it("the page trains on tfjs webgl (WebGL2, float32 textures; float16 refused), with a bundle free of Node modules", () => {
    expect(report.fatal, `${report.fatal}\n${consoleLines.join("\n")}`).toBeUndefined();
    expect(bundleText).not.toMatch(/^\s*import\b[^;]*?["']node:|\bimport\(\s*["']node:/m);
    expect(report.defaultBackend).toBe("webgl");
    expect(report.backend).toBe("webgl");
    expect(report.webglVersion).toBe(2);
    expect(report.float32Textures).toBe(true);
    // where tfjs would fall back to float16 textures, webgl is refused and the previous backend stays
    expect(report.float16Refusal).toMatch(/^training backend "webgl": this WebGL cannot render to float32 textures, so tfjs would train in float16; available here: wasm, cpu, webgl$/);
    expect(report.backendAfterRefusal).toBe("cpu");
    console.log(`Chromium: ${report.userAgent}; WebGL renderer: ${report.renderer}; WEBGL_VERSION ${report.webglVersion}, WEBGL_PACK ${report.webglPack}; ${job.hyper.steps} steps in ${report.trainSeconds.toFixed(1)} s`);
  });

  it("(a) fake quantizers on webgl: every code is @onebit/quant's; the arithmetic is float32 bit for bit; max statistics exact, mean statistics within one ulp", () => {
    expect(report.fatal).toBeUndefined();
    for (const c of quantCases) {
      const page = report.quant.find((q) => q.name === c.name)!;
      const ref = reference[c.name]!();
      const blocks = Int32Array.from({ length: x.length }, (_, i) => blockOf(ref.grid, Math.floor(i / shape[1]), i % shape[1]));
      const stat = c.kind === "int4" || c.target === "weight" ? "absmean" : "absmax";
      const exact = exactStatistic(blocks, ref.scales.length, stat);
      const exactMean = exactStatistic(blocks, ref.scales.length, "mean");
      // 1. codes: value / @onebit/quant's scale rounds to @onebit/quant's code, everywhere
      const codes = page.values.map((v, i) => (ref.scales[blocks[i]!] === 0 ? 0 : roundHalfEven(v / ref.scales[blocks[i]!]!) + 0));
      expect(codes, `${c.name}: codes`).toEqual(Array.from(ref.codes, (v) => v + 0));
      // 2. given webgl's own statistics, the values are the formula in float32, bit for bit (±0 identified)
      const mask = c.kind === "int8-topk" ? (ref as ReturnType<typeof quantizeTopKInt8>).mask : undefined;
      const want = formula(c.kind, blocks, page.stat, page.mean, mask);
      expect(mismatches(page.values, want), `${c.name}: values vs the float32 formula with webgl's statistics`).toEqual([]);
      if (stat === "absmax") {
        // 3a. max statistics are exact: the values are the formula with @onebit/quant's statistics
        expect(page.stat, `${c.name}: max|x|`).toEqual(Array.from(exact));
        expect(mismatches(page.values, formula(c.kind, blocks, exact, undefined, mask)), `${c.name}: values`).toEqual([]);
      } else {
        // 3b. mean statistics within one float32 ulp of the correctly rounded mean; values within one ulp of @onebit/quant's
        page.stat.forEach((v, b) => expect(ulpsBetween(v, exact[b]!), `${c.name}: mean|x| of block ${b}: ${v} vs ${exact[b]}`).toBeLessThanOrEqual(1));
        // α = mean(W) is a signed mean: float32 summation error is relative to Σ|W|, not to α (cancellation), so it is
        // bounded by a few units of roundoff times mean|W| (64·2⁻²⁴ here); only Sign(W − α) uses it, checked by the codes
        page.mean?.forEach((v, b) => expect(Math.abs(v - exactMean[b]!), `${c.name}: mean of block ${b}: ${v} vs ${exactMean[b]}`).toBeLessThanOrEqual(64 * 2 ** -24 * exact[b]!));
        const deq = dequantize(ref);
        page.values.forEach((v, i) => expect(ulpsBetween(v, deq[i]!), `${c.name}: value ${i}: ${v} vs ${deq[i]}`).toBeLessThanOrEqual(1));
      }
    }
  });

  describe("training (same spec, rows, seed and schedule on webgl in the page and on wasm / cpu in Node)", () => {
    const node: Record<string, { losses: number[]; validationLoss: number }> = {};
    let rows: ReturnType<typeof tokenRows>;
    beforeAll(async () => {
      const corpus = { name: "job", documents };
      const tokenizer = trainBpeTokenizer(splitDocuments(corpus).train.join("\n\n"), { vocabSize: job.vocabSize });
      rows = tokenRows(corpus, tokenizer, job.seqLen);
      for (const backend of ["wasm", "cpu"] as const) {
        const r = await trainInMemory({ spec: job.spec, ...rows, ...job.hyper, backend });
        node[backend] = { losses: r.history.map((h) => h.loss), validationLoss: r.validationLoss };
      }
    }, 60_000);

    it("the page's BPE tokenizer gives the same token rows as Node's", () => {
      expect(report.fatal).toBeUndefined();
      expect(report.trainRows).toEqual(rows.trainRows.map((r) => Array.from(r)));
      expect(report.valRows).toEqual(rows.valRows.map((r) => Array.from(r)));
      expect(report.trainRows.length).toBeGreaterThanOrEqual(job.hyper.batchSize);
    });

    it(`(b) per-step losses agree with tfjs wasm and cpu: step 1 within ${FORWARD_TOL}, every step within ${LOSS_TOL} (relative)`, () => {
      const webgl = report.losses;
      expect(webgl).toHaveLength(job.hyper.steps);
      for (const backend of ["wasm", "cpu"] as const) {
        const ref = node[backend]!;
        const rel = webgl.map((l, i) => Math.abs(l - ref.losses[i]!) / ref.losses[i]!);
        console.log(`webgl vs ${backend}: relative loss differences ${rel.map((d) => d.toExponential(1)).join(" ")}`);
        expect(rel[0], `step 1 vs ${backend}`).toBeLessThan(FORWARD_TOL);
        rel.forEach((d, i) => expect(d, `step ${i + 1} vs ${backend}: ${webgl[i]} vs ${ref.losses[i]}`).toBeLessThan(LOSS_TOL));
        expect(Math.abs(report.validationLoss - ref.validationLoss) / ref.validationLoss, `validation loss vs ${backend}`).toBeLessThan(LOSS_TOL);
      }
    });

    it("(c) the loss decreases on webgl", () => {
      const l = report.losses;
      expect(l[l.length - 1]!).toBeLessThan(l[0]! - 1); // 8 steps at lr 1e-2 on a repetitive text: > 1 nat
      expect(report.validationLoss).toBeLessThan(l[0]! - 1);
    });
  });
});

// --- truth in plain float32 JavaScript ---------------------------------------------------------------------------

/** Step 1 is the forward pass from identical weights; later steps go through AdamW (see the header). */
const FORWARD_TOL = 1e-5;
const LOSS_TOL = 2e-3;

/** Per block: max|x|, the correctly rounded mean|x| (float64 sum, one rounding) or mean(x), as @onebit/quant computes them. */
function exactStatistic(blocks: Int32Array, n: number, kind: "absmax" | "absmean" | "mean"): Float32Array {
  const acc = new Float64Array(n);
  const count = new Float64Array(n);
  x.forEach((v, i) => {
    const b = blocks[i]!;
    count[b]! += 1;
    if (kind === "absmax") acc[b] = Math.max(acc[b]!, Math.abs(v));
    else acc[b]! += kind === "absmean" ? Math.abs(v) : v;
  });
  return Float32Array.from(acc, (a, b) => (kind === "absmax" ? a : a / count[b]!));
}

/**
 * The fake quantizer's forward value in float32, in ste-quant.ts's order of operations, given the statistic per
 * block (BitNet b1.58 training-tips reference code, ε clamp): int8 / Top-K s = 127 / max(γ, 1e-5), value = RoundClip(x·s, −128, 127) / s;
 * int4 s = √7 / max(β, 1e-5), RoundClip(x·s, −8, 7) / s; FP4 x' = x·(12 / γ) rounded on the doubled E2M1 grid, times
 * γ / 12; ternary s = 1 / max(γ, 1e-5), RoundClip(w·s, −1, 1) / s; binary Sign(w − α)·β.
 */
function formula(kind: string, blocks: Int32Array, stat: ArrayLike<number>, mean?: ArrayLike<number>, mask?: Uint8Array): number[] {
  const f = Math.fround;
  const eps = f(1e-5);
  const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  return x.map((x0, i) => {
    const g = stat[blocks[i]!]!;
    const v = mask && !mask[i] ? 0 : x0;
    switch (kind) {
      case "int8":
      case "int8-topk": {
        const s = f(127 / Math.max(g, eps));
        return f(clip(roundHalfEven(f(v * s)), -128, 127) / s);
      }
      case "int4": {
        const s = f(SQRT7 / Math.max(g, eps));
        return f(clip(roundHalfEven(f(v * s)), -8, 7) / s);
      }
      case "fp4": {
        const xp = f(v * f(12 / Math.max(g, f(1e-30))));
        const a = Math.abs(xp);
        const step = a < 4 ? 1 : a < 8 ? 2 : 4;
        const q = Math.min(roundHalfEven(f(a / step)) * step, 12) * Math.sign(xp);
        return f(q * f(g / 12));
      }
      case "ternary": {
        const s = f(1 / Math.max(g, eps));
        return f(clip(roundHalfEven(f(v * s)), -1, 1) / s);
      }
      case "binary":
        return f(v - mean![blocks[i]!]!) > 0 ? g : -g;
      default:
        throw new Error(`formula: no case for ${kind}`);
    }
  });
}

/** Indices (with both values) where got !== want; ±0 count as equal. */
function mismatches(got: number[], want: number[]): string[] {
  const out: string[] = [];
  got.forEach((v, i) => {
    if (v !== want[i]) out.push(`${i}: ${v} vs ${want[i]}`);
  });
  return out.slice(0, 10);
}

/** How many float32 values lie between a and b (0: the same float). */
function ulpsBetween(a: number, b: number): number {
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (i: number) => (i < 0 ? -(i & 0x7fffffff) : i);
  return Math.abs(ordered(bits[0]!) - ordered(bits[1]!));
}
