/**
 * Perplexity of a Transformer on token sequences: each row [T + 1] is run once (inputs = the first T tokens,
 * a fresh cache) and scored against its next tokens. exp(mean negative log-likelihood over all targets).
 */
import type { KvBits } from "@onebit/kv";
import type { Transformer } from "./transformer";

export interface PerplexityResult {
  perplexity: number;
  meanNll: number;
  tokens: number;
  sequences: number;
}

export function perplexity(model: Transformer, rows: ArrayLike<number>[], options: { kvBits?: KvBits; onSequence?: (done: number, total: number) => void } = {}): PerplexityResult {
  if (rows.length === 0) throw new RangeError("perplexity rows: expected at least one sequence");
  const vocab = model.spec.vocab_size;
  let nll = 0;
  let tokens = 0;
  rows.forEach((row, r) => {
    if (row.length < 2) throw new RangeError(`perplexity rows[${r}]: expected at least 2 tokens, got ${row.length}`);
    const inputs = Array.from({ length: row.length - 1 }, (_, i) => row[i]!);
    const logits = model.forward(inputs, model.newCache({ maxTokens: inputs.length, bits: options.kvBits ?? 32 }), { allLogits: true }); // [T, vocab]
    for (let t = 0; t < inputs.length; t++) {
      const off = t * vocab;
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[off + v]!);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[off + v]! - max);
      nll += Math.log(sum) + max - logits[off + row[t + 1]!]!;
      tokens++;
    }
    options.onSequence?.(r + 1, rows.length);
  });
  const meanNll = nll / tokens;
  return { perplexity: Math.exp(meanNll), meanNll, tokens, sequences: rows.length };
}
