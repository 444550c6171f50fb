/**
 * BitNet 1-bit weights: W̃ = Sign(W − α), α = mean(W), Sign(v) = +1 if v > 0 else −1; scale β = mean(|W|)
 * (= ‖W‖₁/nm); dequantized β·W̃. With group quantization α_g and β_g come from each group alone.
 */
import { f32, regionAbsSum, regionSum } from "./float32";
import { forEachBlock, gridFor } from "./granularity";
import { makeQuantized, type QuantizedTensor } from "./quantized-tensor";
import type { WeightQuantOptions } from "./ternary-absmean";
import { assertFinite, assertLength, assertShape, type Shape2D } from "./validate";

export interface BinaryQuantized extends QuantizedTensor<Int8Array> {
  /** α per region: the mean subtracted before Sign (centralisation). */
  alphas: Float32Array;
}

export function quantizeBinary(w: ArrayLike<number>, shape: Shape2D, options: Pick<WeightQuantOptions, "granularity"> = {}): BinaryQuantized {
  assertShape("quantizeBinary shape", shape);
  const [rows, cols] = shape;
  assertLength("quantizeBinary weights", w, rows * cols);
  assertFinite("quantizeBinary weights", w);
  const granularity = options.granularity ?? "tensor";
  const grid = gridFor(shape, granularity, "quantizeBinary granularity");
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  const alphas = new Float32Array(scales.length);
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const n = (r1 - r0) * (c1 - c0);
    const alpha = f32(regionSum(w, cols, r0, r1, c0, c1) / n);
    alphas[b] = alpha;
    scales[b] = f32(regionAbsSum(w, cols, r0, r1, c0, c1) / n);
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        codes[i] = f32(w[i]! - alpha) > 0 ? 1 : -1;
      }
  });
  return { ...makeQuantized("binary", shape, granularity, grid, codes, scales), alphas };
}
