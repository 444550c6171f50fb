/**
 * Where quantization statistics are computed. Every quantizer takes a 2-D tensor [rows, cols] (weights
 * [out, in], activations [tokens, features]) and splits it into a grid of rowBlocks × colBlocks regions;
 * each region gets its own scale (and offset), computed from that region alone.
 *
 * - "tensor":          1 × 1            one scale for everything
 * - "row":             rows × 1         one per row — per token for activations (inference), per output row
 * - { groups, axis: "rows" }  G × 1     BitNet group quantization of a column-parallel weight (out split in G)
 * - { groups, axis: "cols" }  1 × G     … of a row-parallel weight (in split in G)
 * - { groups, axis: "row-cols" } rows × G   per token AND per group of features (group-quantized activations;
 *                                       KV heads: groups = heads)
 */
import { assertShape, QuantInputError, type Shape2D } from "./validate";

export type Granularity =
  | "tensor"
  | "row"
  | { groups: number; axis: "rows" | "cols" | "row-cols" };

export interface Grid {
  rowBlocks: number;
  colBlocks: number;
  /** rows per row block, cols per col block */
  rowsPer: number;
  colsPer: number;
}

export function describeGranularity(g: Granularity): string {
  return typeof g === "string" ? g : `${g.groups} groups along ${g.axis}`;
}

export function gridFor(shape: Shape2D, granularity: Granularity = "tensor", name = "granularity"): Grid {
  assertShape("shape", shape);
  const [rows, cols] = shape;
  if (granularity === "tensor") return { rowBlocks: 1, colBlocks: 1, rowsPer: rows, colsPer: cols };
  if (granularity === "row") return { rowBlocks: rows, colBlocks: 1, rowsPer: 1, colsPer: cols };
  if (typeof granularity !== "object" || granularity === null)
    throw new QuantInputError(`${name}: expected "tensor", "row" or {groups, axis}, got ${JSON.stringify(granularity)}`);
  const { groups, axis } = granularity;
  if (!Number.isInteger(groups) || groups <= 0)
    throw new QuantInputError(`${name}.groups: expected a positive integer, got ${groups}`);
  const split = axis === "rows" ? rows : cols;
  if (axis !== "rows" && axis !== "cols" && axis !== "row-cols")
    throw new QuantInputError(`${name}.axis: expected "rows", "cols" or "row-cols", got ${JSON.stringify(axis)}`);
  if (split % groups !== 0)
    throw new QuantInputError(
      `${name}.groups: ${groups} does not divide the ${axis === "rows" ? "row" : "column"} count ${split}; expected a divisor of ${split}`,
    );
  if (axis === "rows") return { rowBlocks: groups, colBlocks: 1, rowsPer: rows / groups, colsPer: cols };
  if (axis === "cols") return { rowBlocks: 1, colBlocks: groups, rowsPer: rows, colsPer: cols / groups };
  return { rowBlocks: rows, colBlocks: groups, rowsPer: 1, colsPer: cols / groups };
}

/** Scale index of element (r, c). */
export function blockOf(grid: Grid, r: number, c: number): number {
  return Math.floor(r / grid.rowsPer) * grid.colBlocks + Math.floor(c / grid.colsPer);
}

/**
 * Visit every region: `fn(block, rowStart, rowEnd, colStart, colEnd)`. Regions are rectangles, so statistics
 * loops stay simple and cache-friendly.
 */
export function forEachBlock(
  grid: Grid,
  fn: (block: number, r0: number, r1: number, c0: number, c1: number) => void,
): void {
  for (let rb = 0; rb < grid.rowBlocks; rb++)
    for (let cb = 0; cb < grid.colBlocks; cb++)
      fn(rb * grid.colBlocks + cb, rb * grid.rowsPer, (rb + 1) * grid.rowsPer, cb * grid.colsPer, (cb + 1) * grid.colsPer);
}
