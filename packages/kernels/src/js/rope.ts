import { KernelInputError } from "../backend";

/**
 * Reference rotary position embedding, in place on x [tokens, heads, headDim]. Frequencies θ_i = base^(−2i/d).
 * "half" (HF LLaMA/BitNet rotate_half): pairs (x[i], x[i + d/2]); "interleaved" (GPT-J/Meta): pairs (x[2i], x[2i+1]).
 */
export function ropeImpl(x: Float32Array, tokens: number, heads: number, headDim: number, positions: Int32Array, theta: number, style: "half" | "interleaved"): void {
  if (headDim % 2 !== 0) throw new KernelInputError(`rope headDim: must be even, got ${headDim}`);
  if (x.length !== tokens * heads * headDim) throw new KernelInputError(`rope x: has ${x.length} elements, expected tokens·heads·headDim = ${tokens * heads * headDim}`);
  if (positions.length !== tokens) throw new KernelInputError(`rope positions: has ${positions.length} entries, expected ${tokens}`);
  if (style !== "half" && style !== "interleaved") throw new KernelInputError(`rope style: expected "half" or "interleaved", got ${JSON.stringify(style)}`);
  const half = headDim / 2;
  for (let t = 0; t < tokens; t++) {
    const pos = positions[t]!;
    for (let i = 0; i < half; i++) {
      const angle = pos * theta ** ((-2 * i) / headDim);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = (t * heads + h) * headDim;
        const a = style === "half" ? base + i : base + 2 * i;
        const b = style === "half" ? base + i + half : base + 2 * i + 1;
        const x1 = x[a]!;
        const x2 = x[b]!;
        x[a] = x1 * c - x2 * s;
        x[b] = x2 * c + x1 * s;
      }
    }
  }
}
