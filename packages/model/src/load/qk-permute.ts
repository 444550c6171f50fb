/**
 * llama.cpp's `llama` architecture applies NORM RoPE (rotating interleaved pairs 2j, 2j+1), while Hugging Face
 * LLaMA checkpoints rotate halves (j, j + d/2). convert_hf_to_gguf.py (LlamaModel.permute) therefore reorders
 * the rows of q_proj and k_proj within each head: row (h, s, j) of the [heads, 2, d/2] view moves to (h, j, s)
 * of the [heads, d/2, 2] view. `permuteQk` does that for export; `unpermuteQk` undoes it on import.
 */
import { ModelInputError } from "../model-input-error";
function reorder(w: Float32Array, heads: number, headDim: number, cols: number, toGguf: boolean): Float32Array {
  if (w.length !== heads * headDim * cols) throw new ModelInputError(`q/k permutation: ${w.length} values is not ${heads}·${headDim}·${cols}`);
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let s = 0; s < 2; s++)
      for (let j = 0; j < half; j++) {
        const hfRow = h * headDim + s * half + j; // rotate_half order
        const ggufRow = h * headDim + 2 * j + s; // interleaved order
        const [from, to] = toGguf ? [hfRow, ggufRow] : [ggufRow, hfRow];
        out.set(w.subarray(from * cols, (from + 1) * cols), to * cols);
      }
  return out;
}

export function permuteQk(w: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  return reorder(w, heads, headDim, cols, true);
}

export function unpermuteQk(w: Float32Array, heads: number, headDim: number, cols: number): Float32Array {
  return reorder(w, heads, headDim, cols, false);
}
