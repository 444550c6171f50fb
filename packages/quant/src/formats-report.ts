/**
 * Quantize one float weight matrix into every format and measure what it costs: bits per weight (all bytes,
 * scales included), bytes, and max / RMS reconstruction error against the original. The data behind
 * `pnpm demo`'s table and `onebit inspect --formats`.
 */
import { quantizeBinary } from "./binary-sign";
import { quantizeFp4 } from "./fp4-e2m1";
import { dequantizeI2S, quantizeI2S } from "./formats/gguf-i2-s";
import { dequantizeTq1_0, quantizeTq1_0 } from "./formats/gguf-tq1-0";
import { dequantizeTq2_0, quantizeTq2_0 } from "./formats/gguf-tq2-0";
import { FORMATS, type FormatName } from "./formats/format-table";
import { quantizeInt4 } from "./int-absmax";
import { dequantize } from "./quantized-tensor";
import { quantizeTernary } from "./ternary-absmean";
import { assertFinite, assertLength, assertShape } from "./validate";

export interface FormatReportRow {
  format: FormatName | "f32" | "f16";
  quantizer: string;
  bitsPerWeight: number;
  bytes: number;
  maxError: number;
  rmsError: number;
}

function errors(a: ArrayLike<number>, b: ArrayLike<number>): { maxError: number; rmsError: number } {
  let max = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
    sq += d * d;
  }
  return { maxError: max, rmsError: Math.sqrt(sq / a.length) };
}

/** Bytes of what a format stores plus the scales it keeps outside its bytes (4 bytes per f32 scale). */
export function formatsReport(w: Float32Array, rows: number, cols: number): FormatReportRow[] {
  assertShape("formatsReport shape", [rows, cols]);
  assertLength("formatsReport weights", w, rows * cols);
  assertFinite("formatsReport weights", w);
  const n = rows * cols;
  const fmt = (name: FormatName) => FORMATS.find((f) => f.name === name)!;
  const rowsOut: FormatReportRow[] = [];
  const add = (format: FormatReportRow["format"], quantizer: string, bytes: number, recon: ArrayLike<number>) =>
    rowsOut.push({ format, quantizer, bitsPerWeight: (bytes * 8) / n, bytes, ...errors(w, recon) });

  const f16 = new Float32Array(n);
  for (let i = 0; i < n; i++) f16[i] = Math.fround(w[i]!); // f32 reference: zero error by definition
  add("f32", "none", n * 4, f16);

  const ternary = quantizeTernary(w, [rows, cols]);
  const ternaryRecon = dequantize(ternary);
  // Every layout that stores ternary codes alone, the scale beside its bytes (no scale inside, ≥ log2 3 bits per
  // weight, not a flat GGUF sweep): onebit-t2, onebit-t1, hf-packed and any row added to FORMATS later. The same
  // absmean codes go through each format's own pack/unpack.
  for (const f of FORMATS) {
    if (f.blocking === "tensor" || f.codeRange[0] !== -1 || f.codeRange[1] !== 1 || f.bitsPerWeight < Math.log2(3) || f.scaleCount(rows, cols) !== 0) continue;
    const codes = f.unpack(f.pack({ codes: ternary.codes, scales: new Float32Array(0) }, rows, cols), rows, cols).codes;
    const exact = codes.every((c, i) => c === ternary.codes[i]);
    add(f.name, "ternary absmean (b1.58), per tensor", f.byteLength(rows, cols) + 4, exact ? ternaryRecon : dequantize({ ...ternary, codes }));
  }
  const binary = quantizeBinary(w, [rows, cols]);
  add("onebit-b1", "binary sign(W−α)·β (BitNet), per tensor", fmt("onebit-b1").byteLength(rows, cols) + 4, dequantize(binary));
  if (n % 128 === 0) add("i2_s", "ternary absmean → bitnet.cpp I2_S", fmt("i2_s").byteLength(rows, cols), dequantizeI2S(quantizeI2S(ternaryRecon), n));
  if (n % 256 === 0) {
    add("tq2_0", "llama.cpp TQ2_0 (block absmax)", fmt("tq2_0").byteLength(rows, cols), dequantizeTq2_0(quantizeTq2_0(w), n));
    add("tq1_0", "llama.cpp TQ1_0 (block absmax)", fmt("tq1_0").byteLength(rows, cols), dequantizeTq1_0(quantizeTq1_0(w), n));
    // The GGUF types are meant for already-ternary weights (as llama.cpp's BitNet converter writes them):
    add("tq2_0", "ternary absmean → TQ2_0", fmt("tq2_0").byteLength(rows, cols), dequantizeTq2_0(quantizeTq2_0(ternaryRecon), n));
  }
  add("int4", "INT4 absmean, per row", fmt("int4").byteLength(rows, cols) + rows * 4, dequantize(quantizeInt4(w, [rows, cols])));
  add("fp4", "FP4 E2M1 MinMax, per row", fmt("fp4").byteLength(rows, cols) + rows * 4, dequantize(quantizeFp4(w, [rows, cols])));
  return rowsOut;
}

/** The report as an aligned text table. */
export function formatReportTable(rows: FormatReportRow[]): string {
  const header = ["format", "quantizer", "bits/weight", "bytes", "max error", "RMS error"];
  const body = rows.map((r) => [
    r.format,
    r.quantizer,
    r.bitsPerWeight.toFixed(4),
    String(r.bytes),
    r.maxError.toExponential(3),
    r.rmsError.toExponential(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
