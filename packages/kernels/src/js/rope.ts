import { KernelInputError } from "../backend";

/**
 * Reference rotary position embedding, in place on x [tokens, heads, headDim]. Frequencies θ_i = base^(−2i/d).
 * "half" (HF LLaMA/BitNet rotate_half): pairs (x[i], x[i + d/2]); "interleaved" (GPT-J/Meta): pairs (x[2i], x[2i+1]).
 */
export function ropeImpl(x: Float32Array, tokens: number, heads: number, headDim: number, positions: Int32Array, theta: number, style: "half" | "interleaved"): void {
  checkRope(x, tokens, heads, headDim, positions, style);
  const half = headDim / 2;
  const { cos, sin } = rotations(positions, theta, headDim);
  // pairs (a, a + step): rotate_half pairs i with i + d/2, interleaved 2i with 2i + 1
  const stride = style === "half" ? 1 : 2;
  const step = style === "half" ? half : 1;
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < half; i++) {
      const c = cos[t * half + i]!;
      const s = sin[t * half + i]!;
      for (let h = 0; h < heads; h++) {
        const a = (t * heads + h) * headDim + stride * i;
        const x1 = x[a]!;
        const x2 = x[a + step]!;
        x[a] = x1 * c - x2 * s;
        x[a + step] = x2 * c + x1 * s;
      }
    }
  }
}

export function checkRope(x: Float32Array, tokens: number, heads: number, headDim: number, positions: Int32Array, style: "half" | "interleaved"): void {
  if (headDim % 2 !== 0) throw new KernelInputError(`rope headDim: must be even, got ${headDim}`);
  if (x.length !== tokens * heads * headDim) throw new KernelInputError(`rope x: has ${x.length} elements, expected tokens·heads·headDim = ${tokens * heads * headDim}`);
  if (positions.length !== tokens) throw new KernelInputError(`rope positions: has ${positions.length} entries, expected ${tokens}`);
  if (style !== "half" && style !== "interleaved") throw new KernelInputError(`rope style: expected "half" or "interleaved", got ${JSON.stringify(style)}`);
}

/**
 * cos and sin of pos·θ^(−2i/d) [tokens, d/2], kept for the last (positions, θ, d) asked: a decode step rotates q and k
 * of every layer at the same positions, so the 2·layers calls share one set of Math.cos/Math.sin.
 */
let last: { positions: Int32Array; theta: number; headDim: number; cos: Float64Array; sin: Float64Array } | null = null;

export function rotations(positions: Int32Array, theta: number, headDim: number): { cos: Float64Array; sin: Float64Array } {
  if (last && last.theta === theta && last.headDim === headDim && samePositions(last.positions, positions)) return last;
  const half = headDim / 2;
  const cos = new Float64Array(positions.length * half);
  const sin = new Float64Array(positions.length * half);
  for (let t = 0; t < positions.length; t++)
    for (let i = 0; i < half; i++) {
      const angle = positions[t]! * theta ** ((-2 * i) / headDim);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  last = { positions: positions.slice(), theta, headDim, cos, sin };
  return last;
}

/** Whether two position lists are equal (a loop: `every` with a closure took ≈ 0.5 µs a call in a 2B4T decode step's profile, 60 calls a step). */
function samePositions(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let t = 0; t < a.length; t++) if (a[t] !== b[t]) return false;
  return true;
}
