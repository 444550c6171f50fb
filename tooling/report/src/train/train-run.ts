/**
 * One training run of the report, from a plain config (so runs can be cached by id and run in child processes):
 * @onebit/train's own pieces — TrainableModel, trainLoop (the one training loop of the project), the b1.58
 * two-stage schedule, evaluate — with two additions the report needs: a learning-rate rule per width
 * (AdamW with an lrMultiplier) and an optional a4.8 quantizer ablation (quant-override.ts). With rule "constant" and no
 * ablation this is `trainInMemory` step for step (same init, batches, schedule and update).
 */
import type { Variant } from "@onebit/layers";
import { initWeights, parameterCounts } from "@onebit/model";
import { AdamW, evaluate, TrainableModel, type TrainHistory, trainLoop, useTrainBackend } from "@onebit/train";
import { brownRows } from "./brown-data";
import { type Ablation, checkQuantTable, quantTable, withQuantTable } from "./quant-override";
import { nonEmbeddingParameters, widthSpec } from "./width-spec";

/**
 * How the peak rate changes with width. "constant": every width trains at the rate tuned at width 128 (the
 * project's acceptance rates; b1.58 and 2B4T, arXiv 2402.17764 / 2504.12285, likewise use one higher rate for the
 * 1-bit model than for fp, with the two-stage schedule). "mup": hidden matrices (every q/k/v/o/gate/up/down) at
 * lr·baseWidth/width, embedding and norm gains at lr (μP for Adam, arXiv 2203.03466 Table 3). "mup-low": the same
 * μP multipliers; the rule differs from "mup" only in the base rate the caller gives the 1-bit model (fp's rate,
 * pieces/scaling-runs.ts says why).
 */
export type LrRule = "constant" | "mup" | "mup-low";

export interface RunConfig {
  id: string;
  variant: Variant;
  width: number;
  layers?: number;
  steps: number;
  batchSize: number;
  seqLen: number;
  /** Peak learning rate at baseWidth (the rule scales it for other widths). */
  lr: number;
  rule: LrRule;
  baseWidth?: number;
  seed: number;
  hiddenAct?: "relu2" | "silu";
  /** SubLN before o_proj and down_proj (2B4T, arXiv 2504.12285 §2); unset: the variant's default (on for 1-bit, off for fp). */
  subNorm?: boolean;
  groups?: number;
  /** a4.8 activation-scheme ablation (a4.8 variant only). */
  ablation?: Ablation;
  /** a4.8: fraction of the final steps in stage 2 (default 0.05, the paper's 5 B of 100 B tokens; 1 = from step 0). */
  stage2Fraction?: number;
  evalEvery: number;
  evalBatches: number;
  /** Post-training analyses on the inference engine (a48-inference.ts), for piece 4. */
  inferenceAnalysis?: boolean;
}

export interface CurvePoint {
  step: number;
  /** mean training loss over the steps since the previous point */
  loss: number;
  validationLoss?: number;
}

export interface RunResult {
  config: RunConfig;
  parameters: number;
  nonEmbeddingParameters: number;
  tokens: number;
  validationLoss: number;
  validationPerplexity: number;
  /** Set when the loss went non-finite: the step it happened at (the run stops there). */
  divergedAtStep?: number;
  tokensPerSecond: number;
  seconds: number;
  sparsity: Record<string, number>;
  curve: CurvePoint[];
  analysis?: unknown;
  finishedAt: string;
}

export function lrMultiplier(config: RunConfig): (name: string) => number {
  if (config.rule === "constant") return () => 1;
  // "mup" and "mup-low": μP's hidden-matrix multiplier
  const m = (config.baseWidth ?? 128) / config.width;
  return (name) => (/\.(q|k|v|o|gate|up|down)_proj\.weight$/.test(name) ? m : 1);
}

function curveOf(history: TrainHistory, every: number): CurvePoint[] {
  const out: CurvePoint[] = [];
  let sum = 0;
  let n = 0;
  for (const h of history) {
    sum += h.loss;
    n++;
    if (h.step % every === 0 || h.validationLoss !== undefined) {
      out.push({ step: h.step, loss: sum / n, ...(h.validationLoss === undefined ? {} : { validationLoss: h.validationLoss }) });
      sum = 0;
      n = 0;
    }
  }
  return out;
}

export async function trainRun(config: RunConfig, onLine: (s: string) => void = () => {}): Promise<RunResult> {
  await useTrainBackend("wasm");
  const spec = widthSpec(config.variant, config.width, { layers: config.layers, hiddenAct: config.hiddenAct, groups: config.groups, subNorm: config.subNorm });
  const { trainRows, valRows } = brownRows(config.seqLen);
  const model = new TrainableModel(spec, initWeights(spec, config.seed));
  if (config.ablation) withQuantTable(model, quantTable(config.ablation));
  const optimizer = new AdamW({ lrMultiplier: lrMultiplier(config) });
  const a48 = config.variant.startsWith("a4.8");
  const stage2From = a48 ? Math.floor(config.steps * (1 - (config.stage2Fraction ?? 0.05))) : Number.POSITIVE_INFINITY;
  const history: TrainHistory = [];
  const t0 = performance.now();
  let divergedAtStep: number | undefined;
  let tokens = 0;
  try {
    const r = await trainLoop({
      model,
      optimizer,
      trainRows,
      valRows,
      steps: config.steps,
      batchSize: config.batchSize,
      seed: config.seed,
      // the b1.58 recipe's schedule for every model (arXiv 2402.17764 §2; the acceptance run does the same)
      schedule: { kind: "two-stage", peakLr: config.lr, totalSteps: config.steps, warmupSteps: Math.min(375, Math.floor(config.steps / 10)), weightDecay: 0.1 },
      stage2From,
      evalEvery: config.evalEvery,
      evalBatches: config.evalBatches,
      history,
      afterStep: (s) => {
        if (s.step % 50 === 0 || s.step === config.steps) onLine(`${config.id}: step ${s.step}/${config.steps} loss ${s.loss.toFixed(3)} ${s.tokensPerSecond.toFixed(0)} tok/s${s.validationLoss === undefined ? "" : ` val ppl ${Math.exp(s.validationLoss).toFixed(1)}`}`);
      },
    });
    tokens = r.tokens;
  } catch (e) {
    if (!/diverged/.test((e as Error).message)) throw e;
    divergedAtStep = history.length + 1;
    tokens = history.length * config.batchSize * config.seqLen;
  }
  const seconds = (performance.now() - t0) / 1000;
  let validationLoss = Number.NaN;
  let sparsity: Record<string, number> = {};
  let analysis: unknown;
  if (divergedAtStep === undefined) {
    model.stage = stage2From < Number.POSITIVE_INFINITY ? 2 : 1;
    model.trackSparsity = true;
    validationLoss = evaluate(model, valRows, config.batchSize, config.evalBatches);
    sparsity = { ...model.lastSparsity } as Record<string, number>;
    model.trackSparsity = false;
    if (config.ablation) checkQuantTable(config.ablation, sparsity);
    if (config.inferenceAnalysis) {
      const { a48InferenceAnalysis } = await import("./a48-inference");
      analysis = await a48InferenceAnalysis(spec, model, valRows, config);
    }
  }
  const weightsParams = parameterCounts(spec).total;
  model.dispose();
  optimizer.dispose();
  return {
    config,
    parameters: weightsParams,
    nonEmbeddingParameters: nonEmbeddingParameters(spec),
    tokens,
    validationLoss,
    validationPerplexity: Math.exp(validationLoss),
    ...(divergedAtStep === undefined ? {} : { divergedAtStep }),
    tokensPerSecond: tokens / Math.max(1e-9, seconds),
    seconds,
    sparsity,
    curve: curveOf(history, 10),
    analysis,
    finishedAt: new Date().toISOString(),
  };
}
