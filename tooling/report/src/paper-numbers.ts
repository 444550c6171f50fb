/**
 * The papers' own numbers the report sets its results beside, each with its table/figure and arXiv id.
 * Only numbers printed in the papers (or restated in the project's SPEC from them) are here; where a paper gives
 * a claim without a number this report can match, the claim is quoted in words instead.
 */

/** BitNet b1.58, arXiv 2402.17764, Table 1: LLaMA LLM (FP16) vs BitNet b1.58, same size, 100B RedPajama tokens. */
export const B158_TABLE1 = [
  { size: "700M", parameters: 0.7e9, fpPpl: 12.33, b158Ppl: 12.87, fpMemoryGB: 2.08, b158MemoryGB: 0.8, fpLatencyMs: 1.18, b158LatencyMs: 0.96 },
  { size: "1.3B", parameters: 1.3e9, fpPpl: 11.25, b158Ppl: 11.29, fpMemoryGB: 3.34, b158MemoryGB: 1.14, fpLatencyMs: 1.62, b158LatencyMs: 0.97 },
  { size: "3B", parameters: 3e9, fpPpl: 10.04, b158Ppl: 9.91, fpMemoryGB: 7.89, b158MemoryGB: 2.22, fpLatencyMs: 5.07, b158LatencyMs: 1.87 },
] as const;

/** BitNet b1.58, arXiv 2402.17764, Figure 2: speed-up and memory reduction against LLaMA (FP16), GPU decode. */
export const B158_FIGURE2 = [
  { size: "1.3B", latencySpeedup: 1.67, memoryReduction: 2.93 },
  { size: "3B", latencySpeedup: 2.71, memoryReduction: 3.55 },
  { size: "7B", latencySpeedup: 2.9, memoryReduction: 4.4 },
  { size: "13B", latencySpeedup: 3.68, memoryReduction: 5.12 },
  { size: "70B", latencySpeedup: 4.1, memoryReduction: 7.16 },
] as const;

/** BitNet b1.58, arXiv 2402.17764, §3 / Figure 3 (left): arithmetic energy of matrix multiplication at 7 nm. */
export const B158_MATMUL_ENERGY_SAVING_7NM = 71.4;

/** BitNet a4.8, arXiv 2411.04965, Table 2 and §2.1 (7B): activation sparsity. */
export const A48_SPARSITY_7B = { upInput: 0.12, gateOutput: 0.675, upCombined: 0.714, overall: 0.445, activeParametersB: 3.4, downInputAtLeast: 0.8 } as const;

/** Claims without numbers this report can match, quoted from the papers' ablations (arXiv 2411.04965). */
export const A48_CLAIMS = {
  fig2: "Fig. 2 (7B BitNet b1.58): the inputs of attention and FFN are Gaussian-like; the inputs of the attention output projection and the FFN down projection have many outlier channels and most values near zero.",
  fig4: "Fig. 4 (700M, 25B tokens, first-stage schedule): full INT4 diverges; the hybrid scheme trains to a much lower perplexity than full FP4.",
  fig5: "Fig. 5 (1.3B, 50B tokens): squared ReLU gives higher sparsity and slightly better training perplexity than Swish; FP4 on the down projection's input degrades it clearly and INT4 with STE diverges.",
  table3: "Table 3 (3B and 7B a4.8): 4-bit KV or 4-bit QKV heads and 4-bit Q with a 3-bit KV cache (BOS heads at 4 bits) lose almost no accuracy against 8-bit QKV heads.",
  table4: "Table 4 (3B, two-stage recipe): Top-K 50 % on the attention output projection's input costs a negligible amount of perplexity and accuracy against INT8 without sparsification.",
} as const;
