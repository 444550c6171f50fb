import { KernelInputError } from "../backend";

/** Reference row-wise softmax in place: subtract the row max, exponentiate, normalise. −Infinity entries give 0. */
export function softmaxImpl(x: Float32Array, rows: number, cols: number): void {
  checkSoftmax(x, rows, cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[base + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const e = max === Number.NEGATIVE_INFINITY ? 0 : Math.exp(x[base + c]! - max);
      x[base + c] = e;
      sum += e;
    }
    const inv = sum > 0 ? 1 / sum : 0;
    for (let c = 0; c < cols; c++) x[base + c] = x[base + c]! * inv;
  }
}

export function checkSoftmax(x: Float32Array, rows: number, cols: number): void {
  for (const [k, v] of [["rows", rows], ["cols", cols]] as const)
    if (!Number.isInteger(v) || v < 0) throw new KernelInputError(`softmax ${k}: expected an integer ≥ 0, got ${v}`);
  if (x.length !== rows * cols) throw new KernelInputError(`softmax x: has ${x.length} elements, expected rows·cols = ${rows * cols}`);
}
