/**
 * A dense table kept in its file's block format (GGUF F16, BF16, Q8_0, Q4_0, Q6_K: a token embedding that
 * llama-quantize left quantized). Embedding lookups dequantize only the rows they need, so the table is held at
 * the file's size instead of as float32.
 */
import { type ByteRange, copyBytes, type DenseRowEncoding } from "@onebit/kernels";
import { dequantizeRows, QuantInputError } from "@onebit/quant";
export interface QuantizedTable {
  readonly kind: "quantized-table";
  /** The file's type name (GGUF: "F16", "Q6_K", …). */
  readonly dtype: string;
  readonly rows: number;
  readonly cols: number;
  /** The file's bytes, rows × rowBytes (a table left in its file reads them all when this is first read). */
  readonly data: Uint8Array;
  /** The same bytes without reading them: in memory, or the range of its file (a writer copies it a piece at a time). */
  readonly bytes: Uint8Array | ByteRange;
  readonly byteLength: number;
  /** Dequantize rows [first, first + count) into out [count, cols]. */
  readRows(first: number, count: number, out: Float32Array): void;
  /** `data` again, for a backend that decodes it itself when it prepares an LM head (F16, BF16 and Q6_K: DenseRowSource.encoded). */
  readonly encoded?: DenseRowEncoding;
}

/**
 * A table of `dtype` rows [rows, cols] from its file's bytes — or from a ByteRange, the table left in its file: a
 * backend that prepares an LM head from `encoded` (F16, BF16, Q6_K) then copies it a piece at a time into its own
 * memory, lookups read just their rows, and `data` reads the whole range when first asked (then kept).
 */
export function quantizedTable(dtype: string, rows: number, cols: number, bytes: Uint8Array | ByteRange): QuantizedTable {
  const rowBytes = bytes.length / rows;
  let whole = bytes instanceof Uint8Array ? bytes : undefined;
  const data = (): Uint8Array => {
    if (!whole) {
      whole = new Uint8Array(bytes.length);
      copyBytes(bytes, 0, whole);
    }
    return whole;
  };
  return {
    kind: "quantized-table",
    dtype,
    rows,
    cols,
    get data() {
      return data();
    },
    byteLength: bytes.length,
    bytes,
    readRows(first, count, out) {
      if (whole) return out.set(dequantizeRows(dtype, whole, rows, cols, first, count));
      if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || first + count > rows)
        throw new QuantInputError(`dequantizeRows ${dtype} rows: ${count} rows from row ${first} are outside the tensor's ${rows} rows`);
      const piece = new Uint8Array(count * rowBytes);
      copyBytes(bytes, first * rowBytes, piece);
      out.set(dequantizeRows(dtype, piece, count, cols, 0, count));
    },
    // the wasm backend decodes these itself when it quantizes the LM head (a 2B4T head: 328 M weights)
    encoded: dtype === "F16" || dtype === "BF16" || dtype === "Q6_K" ? { format: dtype, bytes } : undefined,
  };
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
