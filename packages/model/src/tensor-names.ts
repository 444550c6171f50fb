/**
 * The tensors of a ModelSpec — names (Hugging Face LLaMA / BitNet, onebit's canonical names), shapes, kinds and
 * tensor-parallel roles — read from the one table in architectures/tensor-kinds.ts; and per-component counts.
 */
import type { Projection } from "@onebit/layers";
import { type NamingScheme, projectionKind, TENSOR_KINDS, type TensorComponent, type TensorKind, type TensorRole, tensorName } from "./architectures/tensor-kinds";
import type { ModelSpec } from "./model-spec";
import { ModelInputError } from "./model-input-error";

export { projectionShape } from "./architectures/tensor-kinds";

export interface TensorInfo {
  /** The canonical (Hugging Face) name: the key of ModelWeights. */
  name: string;
  shape: [number, number] | [number];
  kind: TensorKind;
  /** How tensor-parallel training splits it. */
  role: TensorRole;
  /** The block projection this tensor is, if it is one (quantized unless the variant is fp). */
  projection?: Projection;
  layer?: number;
  component: TensorComponent;
}

export function projectionName(layer: number, p: Projection): string {
  return tensorName(projectionKind(p), "hf", layer);
}

/** A tensor's name in another file format's scheme. */
export function schemeName(t: TensorInfo, scheme: NamingScheme): string {
  return tensorName(t.kind, scheme, t.layer);
}

export function tensorList(spec: ModelSpec): TensorInfo[] {
  const list: TensorInfo[] = [];
  const add = (kind: TensorKind, layer?: number) => {
    if (!kind.present(spec)) return;
    const info: TensorInfo = { name: tensorName(kind, "hf", layer), shape: kind.shape(spec), kind, role: kind.role, component: kind.component };
    if (kind.projection) info.projection = kind.projection;
    if (layer !== undefined) info.layer = layer;
    list.push(info);
  };
  const perLayer = TENSOR_KINDS.filter((k) => k.perLayer);
  const first = TENSOR_KINDS.slice(0, TENSOR_KINDS.indexOf(perLayer[0]!));
  const last = TENSOR_KINDS.slice(TENSOR_KINDS.indexOf(perLayer[perLayer.length - 1]!) + 1);
  for (const k of first) add(k);
  for (let l = 0; l < spec.num_hidden_layers; l++) for (const k of perLayer) add(k, l);
  for (const k of last) add(k);
  return list;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameters by component and in total. */
export function parameterCounts(spec: ModelSpec): Record<TensorInfo["component"] | "total", number> {
  const counts = { embedding: 0, attention: 0, ffn: 0, norm: 0, lm_head: 0, total: 0 };
  for (const t of tensorList(spec)) {
    counts[t.component] += numel(t.shape);
    counts.total += numel(t.shape);
  }
  return counts;
}

/**
 * How initWeights scales each matrix: every one is drawn from N(0, std²), norm gains are 1 (SubLN keeps its
 * unit-variance output, BitNet arXiv 2310.11453 §2.2). A number given to initWeights instead is the one std of every matrix (the former
 * behaviour, kept for tests of random models).
 *
 * The defaults are the same for every variant (fp included) and were chosen by the training acceptance run
 * (BENCHMARKS.md, Training): with 0.02 everywhere a SubLN'd block (b1.58 2B4T) adds RMS 0.02·√hidden to the
 * residual stream per branch from step 0 — 0.23 at hidden 128, 11× the token embedding — and trains far worse.
 */
export interface InitOptions {
  /** Std of the block projections q, k, v, gate, up (and of o, down before residualScale). Default 0.02. */
  std?: number;
  /**
   * Std of the token embedding (with tied embeddings also the LM head). Default 1/√hidden_size (fairseq's
   * transformer embeddings; tied, it starts the logits at unit variance; at the 2B4T width 2560 it is 0.0198).
   */
  embeddingStd?: number;
  /**
   * Factor on the std of the residual-output projections o_proj and down_proj: a number, or "gpt2" for
   * 1/√(2·layers) (GPT-2, Radford et al. 2019 §2.3; nanoGPT's c_proj init). Default "gpt2".
   */
  residualScale?: number | "gpt2";
}

const INIT_OPTION_NAMES = ["std", "embeddingStd", "residualScale"] as const;

/** Each tensor's std under `options` (norm gains: 0, they are ones). */
export function initStd(spec: ModelSpec, t: TensorInfo, options: number | InitOptions = {}): number {
  if (t.component === "norm") return 0;
  if (typeof options === "number") return options;
  if (t.component === "embedding" || t.component === "lm_head") return options.embeddingStd ?? 1 / Math.sqrt(spec.hidden_size);
  const std = options.std ?? 0.02;
  if (t.projection === "o" || t.projection === "down") {
    const r = options.residualScale ?? "gpt2";
    return std * (r === "gpt2" ? 1 / Math.sqrt(2 * spec.num_hidden_layers) : r);
  }
  return std;
}

function checkInitOptions(options: number | InitOptions): void {
  const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (typeof options === "number") {
    if (!finite(options)) throw new ModelInputError(`initWeights std: expected a finite number ≥ 0, got ${options}`);
    return;
  }
  for (const [k, v] of Object.entries(options)) {
    if (!(INIT_OPTION_NAMES as readonly string[]).includes(k)) throw new ModelInputError(`initWeights: unknown option "${k}"; expected ${INIT_OPTION_NAMES.join(", ")}`);
    if (v === undefined || finite(v) || (k === "residualScale" && v === "gpt2")) continue;
    throw new ModelInputError(`initWeights ${k}: expected a finite number ≥ 0${k === "residualScale" ? ' or "gpt2"' : ""}, got ${JSON.stringify(v)}`);
  }
}

/** Seeded initialisation: N(0, std²) matrices (std per tensor from `options`, see InitOptions), ones for norm gains. */
export function initWeights(spec: ModelSpec, seed = 1, options: number | InitOptions = {}): Map<string, Float32Array> {
  checkInitOptions(options);
  let s = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  const weights = new Map<string, Float32Array>();
  for (const t of tensorList(spec)) {
    const a = new Float32Array(numel(t.shape));
    const std = initStd(spec, t, options);
    if (t.component === "norm") a.fill(1);
    else
      for (let i = 0; i < a.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(uniform())) * std;
        const th = 2 * Math.PI * uniform();
        a[i] = r * Math.cos(th);
        if (i + 1 < a.length) a[i + 1] = r * Math.sin(th);
      }
    weights.set(t.name, a);
  }
  return weights;
}
