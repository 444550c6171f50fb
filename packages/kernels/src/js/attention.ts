import { KernelInputError } from "../backend";
import { outputBuffer } from "../validate-inputs";
import { softmaxImpl } from "./softmax";

const f = Math.fround;

/**
 * Attention over an f32 key/value store laid out [positions, kvHeads, headDim] (a KV cache's layer), grouped-query:
 * query head h reads KV head ⌊h / (heads / kvHeads)⌋. Two ops with the softmax between them (causalAttentionImpl
 * below composes the three over many query tokens):
 *   scores[h, j] = (q[h] · keys[j, kvh]) · scale        j < positions
 *   out[h]       = Σ_j p[h, j] · values[j, kvh]
 *
 * Float32 with a FIXED order, so SIMD backends match bit for bit. Dot: sixteen partial sums over i ≡ 0..15
 * (mod 16) — four f32x4 accumulators a0..a3, a_k taking i = 16n + 4k + lane — combined lane-wise as
 * (a0 + a1) + (a2 + a3), then across lanes as (l0 + l1) + (l2 + l3), then the d mod 16 tail in order; the
 * product and every sum rounded to float32. Values: for each output element, the sum over j in order.
 */
export function checkAttention(name: string, q: Float32Array, heads: number, store: Float32Array, kvHeads: number, headDim: number, positions: number): void {
  for (const [k, v] of [["heads", heads], ["kvHeads", kvHeads], ["headDim", headDim], ["positions", positions]] as const)
    if (!Number.isInteger(v) || v <= 0) throw new KernelInputError(`${name} ${k}: expected a positive integer, got ${v}`);
  if (heads % kvHeads !== 0) throw new KernelInputError(`${name}: heads ${heads} is not a multiple of kvHeads ${kvHeads}`);
  if (store.length < positions * kvHeads * headDim)
    throw new KernelInputError(`${name} cache: has ${store.length} values, fewer than positions·kvHeads·headDim = ${positions * kvHeads * headDim}`);
  const qLen = name === "attentionScores" ? heads * headDim : heads * positions;
  if (q.length !== qLen)
    throw new KernelInputError(`${name} ${name === "attentionScores" ? "q" : "p"}: has ${q.length} values, expected ${name === "attentionScores" ? `heads·headDim = ${qLen}` : `heads·positions = ${qLen}`}`);
}

/** q [heads, headDim], keys [≥positions, kvHeads, headDim] → scores [heads, positions]. */
export function attentionScoresImpl(
  q: Float32Array,
  heads: number,
  keys: Float32Array,
  kvHeads: number,
  headDim: number,
  positions: number,
  scale: number,
  out?: Float32Array,
): Float32Array {
  checkAttention("attentionScores", q, heads, keys, kvHeads, headDim, positions);
  const y = outputBuffer(out, heads * positions);
  const group = heads / kvHeads;
  const d16 = headDim & ~15;
  const sc = f(scale);
  const acc = new Float32Array(16);
  for (let h = 0; h < heads; h++) {
    const qb = h * headDim;
    const kvh = Math.floor(h / group);
    for (let j = 0; j < positions; j++) {
      const kb = (j * kvHeads + kvh) * headDim;
      acc.fill(0);
      for (let i = 0; i < d16; i += 16) for (let l = 0; l < 16; l++) acc[l] = f(acc[l]! + f(q[qb + i + l]! * keys[kb + i + l]!));
      const lane = (l: number) => f(f(acc[l]! + acc[4 + l]!) + f(acc[8 + l]! + acc[12 + l]!));
      let s = f(f(lane(0) + lane(1)) + f(lane(2) + lane(3)));
      for (let i = d16; i < headDim; i++) s = f(s + f(q[qb + i]! * keys[kb + i]!));
      y[h * positions + j] = f(s * sc);
    }
  }
  return y;
}

/** p [heads, positions] (softmaxed scores), values [≥positions, kvHeads, headDim] → out [heads, headDim]. */
export function attentionValuesImpl(
  p: Float32Array,
  heads: number,
  values: Float32Array,
  kvHeads: number,
  headDim: number,
  positions: number,
  out?: Float32Array,
): Float32Array {
  checkAttention("attentionValues", p, heads, values, kvHeads, headDim, positions);
  const y = outputBuffer(out, heads * headDim);
  const group = heads / kvHeads;
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group);
    const ob = h * headDim;
    for (let i = 0; i < headDim; i++) {
      let s = 0;
      for (let j = 0; j < positions; j++) s = f(s + f(p[h * positions + j]! * values[(j * kvHeads + kvh) * headDim + i]!));
      y[ob + i] = s;
    }
  }
  return y;
}

export function checkCausalAttention(q: Float32Array, tokens: number, heads: number, keys: Float32Array, values: Float32Array, kvHeads: number, headDim: number, start: number): void {
  for (const [k, v] of [["tokens", tokens], ["heads", heads], ["kvHeads", kvHeads], ["headDim", headDim]] as const)
    if (!Number.isInteger(v) || v <= 0) throw new KernelInputError(`causalAttention ${k}: expected a positive integer, got ${v}`);
  if (!Number.isInteger(start) || start < 0) throw new KernelInputError(`causalAttention start: expected an integer ≥ 0, got ${start}`);
  if (heads % kvHeads !== 0) throw new KernelInputError(`causalAttention: heads ${heads} is not a multiple of kvHeads ${kvHeads}`);
  if (q.length !== tokens * heads * headDim) throw new KernelInputError(`causalAttention q: has ${q.length} values, expected tokens·heads·headDim = ${tokens * heads * headDim}`);
  const need = (start + tokens) * kvHeads * headDim;
  for (const [name, store] of [["keys", keys], ["values", values]] as const)
    if (store.length < need) throw new KernelInputError(`causalAttention ${name}: has ${store.length} values, fewer than (start + tokens)·kvHeads·headDim = ${need}`);
}

/**
 * Causal attention of `tokens` queries q [tokens, heads, headDim] at positions start .. start + tokens − 1 over the
 * store (the KV cache's layer, holding those tokens' own keys and values too): token t attends to positions
 * 0 .. start + t — its scores (attentionScoresImpl), their softmax (softmaxImpl), its values (attentionValuesImpl).
 * out [tokens, heads, headDim]. This composition is the definition a fused kernel reproduces bit for bit.
 */
export function causalAttentionImpl(
  q: Float32Array,
  tokens: number,
  heads: number,
  keys: Float32Array,
  values: Float32Array,
  kvHeads: number,
  headDim: number,
  start: number,
  scale: number,
  out?: Float32Array,
): Float32Array {
  checkCausalAttention(q, tokens, heads, keys, values, kvHeads, headDim, start);
  const width = heads * headDim;
  const y = outputBuffer(out, tokens * width);
  for (let t = 0; t < tokens; t++) {
    const positions = start + t + 1;
    const scores = attentionScoresImpl(q.subarray(t * width, (t + 1) * width), heads, keys, kvHeads, headDim, positions, scale); // [heads, positions]
    softmaxImpl(scores, heads, positions);
    attentionValuesImpl(scores, heads, values, kvHeads, headDim, positions, y.subarray(t * width, (t + 1) * width));
  }
  return y;
}
