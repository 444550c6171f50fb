/**
 * Perplexity of a Transformer on token sequences: each row [T + 1] is run once (inputs = the first T tokens,
 * a fresh cache) and scored against its next tokens. exp(mean negative log-likelihood over all targets).
 */
import type { KvBits } from "@onebit/kv";
import type { Transformer } from "./transformer";
import { ModelInputError } from "./model-input-error";

export interface PerplexityResult {
  perplexity: number;
  meanNll: number;
  tokens: number;
  sequences: number;
}

export function perplexity(model: Transformer, rows: ArrayLike<number>[], options: { kvBits?: KvBits; onSequence?: (done: number, total: number) => void } = {}): PerplexityResult {
  if (rows.length === 0) throw new ModelInputError("perplexity rows: expected at least one sequence");
  const vocab = model.spec.vocab_size;
  let nll = 0;
  let tokens = 0;
  rows.forEach((row, r) => {
    if (row.length < 2) throw new ModelInputError(`perplexity rows[${r}]: expected at least 2 tokens, got ${row.length}`);
    const inputs = Array.from({ length: row.length - 1 }, (_, i) => row[i]!);
    const logits = model.forward(inputs, model.newCache({ maxTokens: inputs.length, bits: options.kvBits ?? 32 }), { allLogits: true }); // [T, vocab]
    for (let t = 0; t < inputs.length; t++) {
      const off = t * vocab;
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]!);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[off + v]! - max);
      const term = Math.log(sum) + max - logits[off + row[t + 1]!]!;
      if (!Number.isFinite(term)) throw new ModelInputError(`perplexity: non-finite log-likelihood in sequence ${r}, position ${t} (the logits hold ${Number.isNaN(max) ? "NaN" : "±Infinity"})`);
      nll += term;
      tokens++;
    }
    options.onSequence?.(r + 1, rows.length);
  });
  const meanNll = nll / tokens;
  return { perplexity: Math.exp(meanNll), meanNll, tokens, sequences: rows.length };
}

export interface ChunkedPerplexityResult {
  perplexity: number;
  meanNll: number;
  /** Targets scored: (ctx − 1 − ctx/2) per chunk. */
  tokensScored: number;
  chunks: number;
  ctx: number;
}

/**
 * Perplexity by llama.cpp's `llama-perplexity` convention (examples/perplexity/perplexity.cpp, perplexity()), so
 * the two are comparable on the same file and text: the whole text's tokens (BOS first when the tokenizer adds
 * one) are cut into ⌊n/ctx⌋ chunks of ctx tokens; each chunk is run from an empty cache with its first token
 * replaced by BOS (when addBos), and only the second half is scored — logits at positions ctx/2 … ctx−2
 * against tokens ctx/2+1 … ctx−1. Needs at least 2·ctx tokens, as llama-perplexity does.
 */
export function chunkedPerplexity(
  model: Transformer,
  tokens: ArrayLike<number>,
  ctx: number,
  options: { bosId?: number; kvBits?: KvBits; onChunk?: (done: number, total: number) => void } = {},
): ChunkedPerplexityResult {
  if (!Number.isInteger(ctx) || ctx < 4) throw new ModelInputError(`chunkedPerplexity ctx: expected an integer ≥ 4, got ${ctx}`);
  if (ctx > model.spec.max_position_embeddings) throw new ModelInputError(`chunkedPerplexity ctx: ${ctx} exceeds the model's context of ${model.spec.max_position_embeddings}`);
  if (tokens.length < 2 * ctx) throw new ModelInputError(`chunkedPerplexity: ${tokens.length} tokens; at least ${2 * ctx} are needed for a context of ${ctx} (as llama-perplexity requires)`);
  const vocab = model.spec.vocab_size;
  const chunks = Math.floor(tokens.length / ctx);
  const first = Math.floor(ctx / 2);
  let nll = 0;
  let scored = 0;
  const chunk = new Array<number>(ctx);
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < ctx; i++) chunk[i] = tokens[c * ctx + i]!;
    if (options.bosId !== undefined) chunk[0] = options.bosId;
    const logits = model.forward(chunk, model.newCache({ maxTokens: ctx, bits: options.kvBits ?? 32 }), { allLogits: true }); // [ctx, vocab]
    for (let t = first; t < ctx - 1; t++) {
      const off = t * vocab;
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]!);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[off + v]! - max);
      const target = tokens[c * ctx + t + 1]!;
      const term = Math.log(sum) + max - logits[off + target]!;
      if (!Number.isFinite(term)) throw new ModelInputError(`chunkedPerplexity: non-finite log-likelihood at chunk ${c}, position ${t} (logits contain ${Number.isNaN(max) ? "NaN" : "±Infinity"})`);
      nll += term;
      scored++;
    }
    options.onChunk?.(c + 1, chunks);
  }
  const meanNll = nll / scored;
  return { perplexity: Math.exp(meanNll), meanNll, tokensScored: scored, chunks, ctx };
}
