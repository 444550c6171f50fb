/**
 * Direct byte-level transcoding between onebit-t2 and Hugging Face's packed ternary layout (hf-packed.ts: uint8
 * [⌈out/4⌉, in], rows r + i·⌈out/4⌉ at bits 2i, code = w + 1), one pass over the bytes: a 2B4T checkpoint has
 * 2.1 B weights, which the generic unpack → Int8Array codes → pack path (unpackTernaryT2 + packHf, the reference
 * these are tested against) moves with several passes and a byte of codes per weight. Code 3 is refused, naming the
 * weight's row and column, as unpackHf and unpackTernaryT2 do.
 */
import { assertShape, QuantInputError } from "../validate";
import { hfPackedRows } from "./hf-packed";
import { t2RowBytes } from "./onebit-t2";

/** True when a byte holds a 2-bit field equal to 3 (both of its bits set). */
const hasCode3 = (v: number) => (v & (v >> 1) & 0x55) !== 0;

/** The first field of byte v that is 3 (0..3). */
const code3Field = (v: number) => [0, 1, 2, 3].find((k) => ((v >> (2 * k)) & 3) === 3)!;

/** onebit-t2 rows [rows, cols] → HF packed uint8 [⌈rows/4⌉, cols] (rows past `rows` in the last group: bits 0, as packHf). */
export function t2ToHf(data: Uint8Array, rows: number, cols: number): Uint8Array {
  assertShape("t2ToHf shape", [rows, cols]);
  const stride = t2RowBytes(cols);
  if (data.length !== rows * stride) throw new QuantInputError(`t2ToHf data: has ${data.length} bytes, expected ${rows * stride} for [${rows}, ${cols}]`);
  const R = hfPackedRows(rows);
  const out = new Uint8Array(R * cols);
  for (let o = 0; o < rows; o++) {
    const shift = 2 * Math.floor(o / R);
    const dst = (o % R) * cols;
    const src = o * stride;
    for (let b = 0; b * 64 < cols; b++) {
      const base = 64 * b;
      const full = base + 64 <= cols;
      for (let j = 0; j < 16; j++) {
        const v = data[src + 16 * b + j]!;
        if (hasCode3(v)) {
          const k = code3Field(v);
          if (base + 16 * k + j < cols) throw new QuantInputError(`t2ToHf data: invalid code 3 at row ${o}, column ${base + 16 * k + j}`);
        }
        const at = dst + base + j;
        if (full) {
          out[at]! |= (v & 3) << shift;
          out[at + 16]! |= ((v >> 2) & 3) << shift;
          out[at + 32]! |= ((v >> 4) & 3) << shift;
          out[at + 48]! |= ((v >> 6) & 3) << shift;
        } else for (let k = 0; k < 4; k++) if (base + 16 * k + j < cols) out[at + 16 * k]! |= ((v >> (2 * k)) & 3) << shift;
      }
    }
  }
  return out;
}

/** HF packed uint8 [⌈rows/4⌉, cols] → onebit-t2 rows [rows, cols] (padding columns: code 1, a zero weight). */
export function hfToT2(bytes: Uint8Array, rows: number, cols: number): Uint8Array {
  assertShape("hfToT2 shape", [rows, cols]);
  const R = hfPackedRows(rows);
  if (bytes.length !== R * cols) throw new QuantInputError(`hfToT2 data: has ${bytes.length} bytes, expected ${R * cols} for [${R}, ${cols}]`);
  const stride = t2RowBytes(cols);
  const out = new Uint8Array(rows * stride);
  for (let o = 0; o < rows; o++) {
    const shift = 2 * Math.floor(o / R);
    const src = (o % R) * cols;
    const dst = o * stride;
    for (let b = 0; b * 64 < cols; b++) {
      const base = 64 * b;
      const full = base + 64 <= cols;
      for (let j = 0; j < 16; j++) {
        const at = src + base + j;
        let v: number;
        if (full)
          v = ((bytes[at]! >> shift) & 3) | (((bytes[at + 16]! >> shift) & 3) << 2) | (((bytes[at + 32]! >> shift) & 3) << 4) | (((bytes[at + 48]! >> shift) & 3) << 6);
        else {
          v = 0;
          for (let k = 0; k < 4; k++) v |= (base + 16 * k + j < cols ? (bytes[at + 16 * k]! >> shift) & 3 : 1) << (2 * k);
        }
        if (hasCode3(v)) throw new QuantInputError(`hfToT2 data: invalid code 3 for weight row ${o}, column ${base + 16 * code3Field(v) + j}`);
        out[dst + 16 * b + j] = v;
      }
    }
  }
  return out;
}
