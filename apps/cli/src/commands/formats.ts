import { checkArrayLength, checkMemory, formatsBytes } from "../util/usage-limits";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";

/** A seeded N(0, σ²) matrix: xorshift32 + Box–Muller, so every run prints the same table. */
export function gaussianMatrix(rows: number, cols: number, sigma: number, seed: number): Float32Array {
  let state = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 2 ** 32;
  };
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const t = 2 * Math.PI * uniform();
    w[i] = sigma * r * Math.cos(t);
    if (i + 1 < w.length) w[i + 1] = sigma * r * Math.sin(t);
  }
  return w;
}

/** Refuse a matrix this machine cannot hold, naming both flags and the size, before anything is printed. */
export function checkFormatsSize(rows: number, cols: number, limit?: number): void {
  const flag = `--rows ${rows} × --cols ${cols}`;
  checkArrayLength(flag, rows * cols, "the weight matrix");
  checkMemory(flag, formatsBytes(rows, cols), `a ${rows}×${cols} float32 matrix and its quantized copies`, limit);
}

export async function printFormatsTable(rows: number, cols: number, seed: number, out: (s: string) => void): Promise<void> {
  const { formatReportTable, formatsReport } = await import("@onebit/quant");
  out(`One ${rows}×${cols} weight matrix (N(0, 0.02²), seed ${seed}) in every format:\n\n`);
  const t0 = performance.now();
  out(`${formatReportTable(formatsReport(gaussianMatrix(rows, cols, 0.02, seed), rows, cols))}\n`);
  out(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s; errors against the float32 original; bits/weight include scales)\n`);
}

export const formatsCommand = defineCommand({
  name: "formats",
  description: "quantize a random weight matrix into every weight format and compare size and error",
  options: defineOptions({
    rows: { kind: "int", min: 1, arg: "<n>", default: 2560, description: "matrix rows (output features)" },
    cols: { kind: "int", min: 1, arg: "<n>", default: 6912, description: "matrix columns (input features)" },
    seed: { kind: "int", min: 0, arg: "<n>", default: 1, description: "random seed" },
  }),
  async run({ options }) {
    const { rows, cols } = options;
    checkFormatsSize(rows, cols);
    await printFormatsTable(rows, cols, options.seed, (s) => process.stdout.write(s));
  },
});
