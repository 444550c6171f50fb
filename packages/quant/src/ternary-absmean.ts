/**
 * BitNet b1.58 ternary weights: W̃ = RoundClip(W / γ, −1, 1), γ = mean(|W|) per region; dequantized γ·W̃.
 * Reference-code form (default, epsMode "clamp"): s = 1 / max(γ, 1e-5); W̃ = clamp(round(W·s), −1, 1); W ≈ W̃ / s.
 * Paper form (epsMode "add"): W̃ = RoundClip(W·(1/(γ + ε)), −1, 1); W ≈ γ·W̃.
 */
import { type EpsOptions, guard } from "./eps";
import { f32, regionAbsSum } from "./float32";
import { forEachBlock, type Granularity, gridFor } from "./granularity";
import { makeQuantized, type QuantizedTensor } from "./quantized-tensor";
import { roundHalfEven } from "./round-half-even";
import { assertFinite, assertLength, assertShape, type Shape2D } from "./validate";

export interface WeightQuantOptions extends EpsOptions {
  granularity?: Granularity;
}

export function quantizeTernary(w: ArrayLike<number>, shape: Shape2D, options: WeightQuantOptions = {}): QuantizedTensor<Int8Array> {
  assertShape("quantizeTernary shape", shape);
  const [rows, cols] = shape;
  assertLength("quantizeTernary weights", w, rows * cols);
  assertFinite("quantizeTernary weights", w);
  const granularity = options.granularity ?? "tensor";
  const grid = gridFor(shape, granularity, "quantizeTernary granularity");
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(grid.rowBlocks * grid.colBlocks);
  const paper = options.epsMode === "add";
  forEachBlock(grid, (b, r0, r1, c0, c1) => {
    const gamma = f32(regionAbsSum(w, cols, r0, r1, c0, c1) / ((r1 - r0) * (c1 - c0)));
    const s = f32(1 / guard(gamma, options));
    scales[b] = paper ? gamma : f32(1 / s);
    for (let r = r0; r < r1; r++)
      for (let c = c0; c < c1; c++) {
        const i = r * cols + c;
        const q = roundHalfEven(f32(w[i]! * s));
        codes[i] = q > 1 ? 1 : q < -1 ? -1 : q + 0; // + 0 turns −0 into 0
      }
  });
  return makeQuantized("ternary", shape, granularity, grid, codes, scales);
}
