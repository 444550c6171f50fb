/**
 * A dense table kept in its file's block format (GGUF F16, BF16, Q8_0, Q4_0, Q6_K: a token embedding that
 * llama-quantize left quantized). Embedding lookups dequantize only the rows they need, so the table is held at
 * the file's size instead of as float32.
 */
import type { DenseRowEncoding } from "@onebit/kernels";
export interface QuantizedTable {
  readonly kind: "quantized-table";
  /** The file's type name (GGUF: "F16", "Q6_K", …). */
  readonly dtype: string;
  readonly rows: number;
  readonly cols: number;
  /** The file's bytes, rows × rowBytes. */
  readonly data: Uint8Array;
  readonly byteLength: number;
  /** Dequantize rows [first, first + count) into out [count, cols]. */
  readRows(first: number, count: number, out: Float32Array): void;
  /** `data` again, for a backend that decodes it itself when it prepares an LM head (F16 and Q6_K: DenseRowSource.encoded). */
  readonly encoded?: DenseRowEncoding;
}

export function isQuantizedTable(x: unknown): x is QuantizedTable {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "quantized-table";
}

/** The whole table as float32 [rows, cols] (for an LM head that a backend prepares; a temporary). */
export function tableToF32(t: QuantizedTable): Float32Array {
  const out = new Float32Array(t.rows * t.cols);
  const step = Math.max(1, Math.floor((1 << 20) / t.cols));
  for (let r = 0; r < t.rows; r += step) {
    const n = Math.min(step, t.rows - r);
    t.readRows(r, n, out.subarray(r * t.cols, (r + n) * t.cols));
  }
  return out;
}
