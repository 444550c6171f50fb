/**
 * Piece 4's measurements on a trained model, run on the inference engine (@onebit/model's Transformer on the
 * wasm kernels backend, one thread) with the trained latent weights quantized and packed as a checkpoint would be:
 * - the distribution of each projection's float input (BitLinear.inputTap) — a4.8 arXiv 2411.04965 Fig. 2, which
 *   shows them for a 7B b1.58 model: attention/FFN inputs Gaussian-like, o_proj / down_proj inputs sharp with
 *   outlier channels — and the error of INT8 absmax, INT4 absmean and FP4 on each (its Fig. 3);
 * - activation sparsity per layer and projection (its Table 2: zero inputs after quantization; gate/up combined
 *   as 1 − (1 − s_in)(1 − s_skipped-rows));
 * - perplexity with low-bit KV caches and 4-bit queries (its Table 3: 4-bit KV, 4-bit QKV, 4-bit Q with 3-bit KV
 *   (BOS heads at 4 bits), against 8-bit QKV heads) — the baseline row is the 8-bit KV cache where @onebit/kv has
 *   one (KV_CACHE_BITS includes 8), f32 otherwise; f32 and f16 stay as extra rows;
 * - perplexity with other activation schemes swapped in at inference, no retraining (Top-K fraction on o_proj's
 *   input, INT4 / FP4 everywhere) — the post-hoc counterpart of its Table 4 / Fig. 4.
 */
import { createBackend } from "@onebit/kernels";
import { KV_CACHE_BITS, type KvBits } from "@onebit/kv";
import type { ActivationQuant, BitLinear } from "@onebit/layers";
import { type ModelSpec, perplexity, Transformer } from "@onebit/model";
import { dequantize, quantizeFp4, quantizeInt4, quantizeInt8 } from "@onebit/quant";
import type { TrainableModel } from "@onebit/train";
import type { RunConfig } from "./train-run";

export type InputKind = "qkv" | "o" | "gateUp" | "down";
export const INPUT_KINDS: readonly InputKind[] = ["qkv", "o", "gateUp", "down"];

export interface InputDistribution {
  kind: InputKind;
  layer: number;
  /** symmetric bins over [−absMax, absMax] */
  edges: number[];
  counts: number[];
  rms: number;
  absMax: number;
  kurtosis: number;
  /** relative RMS error of each quantizer on these inputs, per token (INT4: absmean, as a4.8 §2.1) */
  quantError: { int8: number; int4: number; fp4: number };
}

export interface KvSetting {
  name: string;
  kvBits: KvBits;
  queryBits?: 4;
  perplexity: number;
  /** the row the others are compared with (8-bit KV where available, as the paper's Table 3) */
  baseline?: boolean;
}

/** The KV cache widths the analysis measures: every store @onebit/kv has, widest first (8 where it has one). */
export function kvBitsMeasured(): number[] {
  return [32, 16, 8, 4, 3].filter((b) => (KV_CACHE_BITS as readonly number[]).includes(b));
}

/** The settings with the baseline first, as the paper's table lists them; the rest in measurement order. */
export function kvRowsBaselineFirst(kv: KvSetting[]): KvSetting[] {
  const base = kvBaseline(kv);
  return [base, ...kv.filter((k) => k !== base)];
}

/** The row every KV setting is compared with: the 8-bit cache where it was measured (a4.8 Table 3), else the first (f32). */
export function kvBaseline(kv: KvSetting[]): KvSetting {
  return kv.find((k) => k.baseline) ?? kv[0]!;
}

export interface SchemeSetting {
  name: string;
  perplexity: number;
  oSparsity: number;
}

export interface A48Analysis {
  rows: number;
  tokens: number;
  distributions: InputDistribution[];
  /** per layer: zero fraction of each projection's quantized input, gate/up combined */
  sparsity: Array<Record<string, number>>;
  kv: KvSetting[];
  schemes: SchemeSetting[];
}

const BINS = 61;
const ROWS = 64; // the first 64 validation rows: the training run's evalBatches 8 × batch 8

function relError(x: Float32Array, y: Float32Array): number {
  let e = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    e += (x[i]! - y[i]!) ** 2;
    n += x[i]! ** 2;
  }
  return Math.sqrt(e / Math.max(1e-30, n));
}

function distribution(kind: InputKind, layer: number, chunks: Array<{ x: Float32Array; tokens: number }>, features: number): InputDistribution {
  let absMax = 0;
  let s2 = 0;
  let s4 = 0;
  let n = 0;
  for (const { x } of chunks)
    for (const v of x) {
      absMax = Math.max(absMax, Math.abs(v));
      s2 += v * v;
      s4 += v ** 4;
      n++;
    }
  const edges = Array.from({ length: BINS + 1 }, (_, i) => -absMax + (2 * absMax * i) / BINS);
  const counts = new Array<number>(BINS).fill(0);
  for (const { x } of chunks)
    for (const v of x) {
      const b = Math.min(BINS - 1, Math.floor(((v + absMax) / (2 * absMax || 1)) * BINS));
      counts[b]!++;
    }
  const all = new Float32Array(n);
  let off = 0;
  for (const { x } of chunks) {
    all.set(x, off);
    off += x.length;
  }
  const tokens = n / features;
  const shape = [tokens, features] as const;
  const err = (q: ReturnType<typeof quantizeInt8>) => relError(all, dequantize(q));
  const m2 = s2 / n;
  return {
    kind,
    layer,
    edges,
    counts,
    rms: Math.sqrt(m2),
    absMax,
    kurtosis: s4 / n / (m2 * m2),
    quantError: { int8: err(quantizeInt8(all, shape, { granularity: "row" })), int4: err(quantizeInt4(all, shape, { granularity: "row" })), fp4: err(quantizeFp4(all, shape, { granularity: "row" })) },
  };
}

function projections(model: Transformer, layer: number): Record<"q" | "o" | "gate" | "down", BitLinear> {
  const b = model.blocks[layer]!;
  return { q: b.attention.q, o: b.attention.o, gate: b.ffn.gate, down: b.ffn.down };
}

export function a48InferenceAnalysis(spec: ModelSpec, trained: TrainableModel, valRows: Int32Array[], _config: RunConfig): Promise<A48Analysis> {
  return analyse(spec, trained.weights(), valRows.slice(0, ROWS));
}

async function analyse(spec: ModelSpec, weights: Map<string, Float32Array>, rows: Int32Array[]): Promise<A48Analysis> {
  const backend = await createBackend("wasm", { threads: 1 });
  try {
    const build = (queryBits?: 4) => new Transformer(spec, weights, { backend, stage: 2, ...(queryBits ? { queryBits } : {}) });
    // 1. input distributions and sparsity, one pass over the rows with f32 KV
    const model = build();
    const taps = new Map<string, Array<{ x: Float32Array; tokens: number }>>();
    const kindOf = { q: "qkv", o: "o", gate: "gateUp", down: "down" } as const;
    for (let l = 0; l < spec.num_hidden_layers; l++)
      for (const [p, lin] of Object.entries(projections(model, l))) {
        const key = `${kindOf[p as keyof typeof kindOf]}:${l}`;
        taps.set(key, []);
        lin.inputTap = (x, tokens) => taps.get(key)!.push({ x: Float32Array.from(x), tokens });
      }
    const base = perplexity(model, rows);
    const distributions: InputDistribution[] = [];
    for (let l = 0; l < spec.num_hidden_layers; l++) {
      const p = projections(model, l);
      for (const kind of INPUT_KINDS) {
        const lin = kind === "qkv" ? p.q : kind === "o" ? p.o : kind === "gateUp" ? p.gate : p.down;
        distributions.push(distribution(kind, l, taps.get(`${kind}:${l}`)!, lin.spec.inFeatures));
        lin.inputTap = undefined;
      }
    }
    const sparsity = model.blocks.map((b) => {
      const s = (c: { inputs: number; zeros: number }) => (c.inputs ? c.zeros / c.inputs : 0);
      const gate = s(b.ffn.gate.sparsity);
      const skipped = b.ffn.skipped.total ? b.ffn.skipped.rows / b.ffn.skipped.total : 0;
      return { q: s(b.attention.q.sparsity), k: s(b.attention.k.sparsity), v: s(b.attention.v.sparsity), o: s(b.attention.o.sparsity), gate, up: s(b.ffn.up.sparsity), "gate/up": 1 - (1 - gate) * (1 - skipped), down: s(b.ffn.down.sparsity) };
    });
    // 2. low-bit attention (a4.8 Table 3)
    const measured = kvBitsMeasured();
    const has8 = measured.includes(8);
    const kv: KvSetting[] = [{ name: has8 ? "f32 KV" : "f32 KV (baseline)", kvBits: 32, perplexity: base.perplexity, ...(has8 ? {} : { baseline: true }) }];
    const names: Record<number, string> = { 16: "f16 KV", 8: "8-bit KV (baseline)", 4: "4-bit KV", 3: "3-bit KV (BOS at 4 bits)" };
    for (const bits of measured.filter((b) => b !== 32)) {
      const kvBits = bits as KvBits; // 8 is a KvBits once @onebit/kv has an 8-bit store (measured only then)
      kv.push({ name: names[bits]!, kvBits, perplexity: perplexity(model, rows, { kvBits }).perplexity, ...(bits === 8 ? { baseline: true } : {}) });
    }
    const q4 = build(4);
    kv.push({ name: "4-bit QKV", kvBits: 4, queryBits: 4, perplexity: perplexity(q4, rows, { kvBits: 4 }).perplexity });
    kv.push({ name: "4-bit Q, 3-bit KV", kvBits: 3, queryBits: 4, perplexity: perplexity(q4, rows, { kvBits: 3 }).perplexity });
    // 3. activation schemes swapped in at inference (BitLinear reads spec.quant on every call)
    const schemes: SchemeSetting[] = [];
    if (spec.onebit.variant.startsWith("a4.8")) {
      const set = (lin: BitLinear, activation: ActivationQuant, topKFraction?: number) => {
        lin.spec.quant.activation = activation;
        lin.spec.quant.topKFraction = topKFraction;
      };
      const all = (m: Transformer) => m.blocks.flatMap((b) => [b.attention.q, b.attention.k, b.attention.v, b.attention.o, b.ffn.gate, b.ffn.up, b.ffn.down]);
      const onO = (activation: ActivationQuant, k?: number) => (m: Transformer) => {
        for (const b of m.blocks) set(b.attention.o, activation, k);
      };
      const everywhere = (activation: ActivationQuant) => (m: Transformer) => {
        for (const lin of all(m)) set(lin, activation);
      };
      const variants: Array<[string, (m: Transformer) => void]> = [
        ...[0.25, 0.5, 0.75].map((k): [string, (m: Transformer) => void] => [`Top-K ${k * 100} % on o_proj`, onO("int8-topk", k)]),
        ["no Top-K (INT8 on o_proj)", onO("int8")],
        ["INT4 on every input", everywhere("int4")],
        ["FP4 on every input", everywhere("fp4")],
        ["INT8 on every input (stage-1 scheme)", everywhere("int8")],
      ];
      for (const [name, apply] of variants) {
        const m = build();
        apply(m);
        const ppl = perplexity(m, rows).perplexity;
        let zeros = 0;
        let inputs = 0;
        for (const b of m.blocks) {
          zeros += b.attention.o.sparsity.zeros;
          inputs += b.attention.o.sparsity.inputs;
        }
        schemes.push({ name, perplexity: ppl, oSparsity: inputs ? zeros / inputs : 0 });
      }
    }
    return { rows: rows.length, tokens: base.tokens, distributions, sparsity, kv, schemes };
  } finally {
    backend.dispose();
  }
}
