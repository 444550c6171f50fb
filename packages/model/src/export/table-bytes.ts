/**
 * A quantized table (GGUF F16, Q6_K, …) as the dense bytes of a Hugging Face checkpoint, F32 or BF16, as a ByteRange
 * the safetensors writer copies a piece at a time: the rows a piece covers are dequantized (`valuesPerPiece`, about
 * a million values, at a time) and converted, so a 2B4T embedding is never held as float32 (1.3 GB) at all.
 */
import type { ByteRange } from "@onebit/kernels";
import { f32ToBf16 } from "@onebit/quant";
import type { QuantizedTable } from "../weights/quantized-table";

export function tableRange(w: QuantizedTable, dtype: "F32" | "BF16", valuesPerPiece = 1 << 20): ByteRange {
  const item = dtype === "F32" ? 4 : 2;
  const rowBytes = w.cols * item;
  const length = w.rows * rowBytes;
  const step = Math.max(1, Math.floor(valuesPerPiece / w.cols));
  let rows: Float32Array | undefined;
  return {
    length,
    copyTo(offset, into) {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > length)
        throw new RangeError(`table bytes [${offset}, ${offset + into.length}) are outside its ${length} bytes`);
      const end = offset + into.length;
      for (let r = Math.floor(offset / rowBytes); r * rowBytes < end; r += step) {
        const k = Math.min(step, w.rows - r);
        rows ??= new Float32Array(Math.min(step, w.rows) * w.cols);
        const piece = rows.subarray(0, k * w.cols);
        w.readRows(r, k, piece);
        const bytes = dtype === "F32" ? new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength) : new Uint8Array(f32ToBf16(piece).buffer);
        // the part of rows [r, r + k) that [offset, end) covers
        const from = Math.max(offset, r * rowBytes);
        const to = Math.min(end, (r + k) * rowBytes);
        into.set(bytes.subarray(from - r * rowBytes, to - r * rowBytes), from - offset);
      }
    },
  };
}
