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

/**
 * The walk both directions share: every weight row o — its field's shift in the HF packed row at `hf`, its t2 row at
 * `t2` — and each 64-column block b of it. A full block goes to `words` (four bytes at a time, through little-endian
 * views of `input` and `output`: a masked 2-bit field never carries into the next byte lane), which returns false
 * when it met a code 3; that block, and a last partial one, go to `bytes`, which names the weight it refuses.
 */
function eachBlock(
  rows: number,
  cols: number,
  input: Uint8Array,
  output: Uint8Array,
  words: (inWords: DataView, outWords: DataView, hf: number, t2: number, b: number, shift: number) => boolean,
  bytes: (o: number, hf: number, t2: number, b: number, shift: number) => void,
): void {
  const inWords = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const outWords = new DataView(output.buffer, output.byteOffset, output.byteLength);
  const R = hfPackedRows(rows);
  const stride = t2RowBytes(cols);
  for (let o = 0; o < rows; o++) {
    const shift = 2 * Math.floor(o / R);
    const hf = (o % R) * cols;
    const t2 = o * stride;
    for (let b = 0; b * 64 < cols; b++) if (!(64 * b + 64 <= cols && words(inWords, outWords, hf, t2, b, shift))) bytes(o, hf, t2, b, shift);
  }
}

/** onebit-t2 rows [rows, cols] → HF packed uint8 [⌈rows/4⌉, cols] (rows past `rows` in the last group: bits 0, as packHf). */
export function t2ToHf(data: Uint8Array, rows: number, cols: number): Uint8Array {
  assertShape("t2ToHf shape", [rows, cols]);
  const stride = t2RowBytes(cols);
  if (data.length !== rows * stride) throw new QuantInputError(`t2ToHf data: has ${data.length} bytes, expected ${rows * stride} for [${rows}, ${cols}]`);
  const out = new Uint8Array(hfPackedRows(rows) * cols);
  eachBlock(
    rows,
    cols,
    data,
    out,
    (inWords, outWords, hf, t2, b, shift) => {
      let bad = 0;
      for (let j = 0; j < 16; j += 4) {
        const v = inWords.getUint32(t2 + 16 * b + j, true);
        bad |= v & (v >>> 1) & 0x55555555;
        for (let k = 0; k < 4; k++) {
          const at = hf + 64 * b + 16 * k + j;
          outWords.setUint32(at, (outWords.getUint32(at, true) | (((v >>> (2 * k)) & 0x03030303) << shift)) >>> 0, true);
        }
      }
      return bad === 0;
    },
    (o, hf, t2, b, shift) => {
      const base = 64 * b;
      for (let j = 0; j < 16; j++) {
        const v = data[t2 + 16 * b + j]!;
        if (hasCode3(v)) {
          const k = code3Field(v);
          if (base + 16 * k + j < cols) throw new QuantInputError(`t2ToHf data: invalid code 3 at row ${o}, column ${base + 16 * k + j}`);
        }
        for (let k = 0; k < 4; k++) if (base + 16 * k + j < cols) out[hf + base + 16 * k + j]! |= ((v >> (2 * k)) & 3) << shift;
      }
    },
  );
  return out;
}

/** HF packed uint8 [⌈rows/4⌉, cols] → onebit-t2 rows [rows, cols] (padding columns: code 1, a zero weight). */
export function hfToT2(bytes: Uint8Array, rows: number, cols: number): Uint8Array {
  assertShape("hfToT2 shape", [rows, cols]);
  const R = hfPackedRows(rows);
  if (bytes.length !== R * cols) throw new QuantInputError(`hfToT2 data: has ${bytes.length} bytes, expected ${R * cols} for [${R}, ${cols}]`);
  const out = new Uint8Array(rows * t2RowBytes(cols));
  eachBlock(
    rows,
    cols,
    bytes,
    out,
    (inWords, outWords, hf, t2, b, shift) => {
      let bad = 0;
      for (let j = 0; j < 16; j += 4) {
        const at = hf + 64 * b + j;
        const v =
          ((inWords.getUint32(at, true) >>> shift) & 0x03030303) |
          (((inWords.getUint32(at + 16, true) >>> shift) & 0x03030303) << 2) |
          (((inWords.getUint32(at + 32, true) >>> shift) & 0x03030303) << 4) |
          (((inWords.getUint32(at + 48, true) >>> shift) & 0x03030303) << 6);
        bad |= v & (v >>> 1) & 0x55555555;
        outWords.setUint32(t2 + 16 * b + j, v >>> 0, true);
      }
      return bad === 0;
    },
    (o, hf, t2, b, shift) => {
      const base = 64 * b;
      for (let j = 0; j < 16; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v |= (base + 16 * k + j < cols ? (bytes[hf + base + 16 * k + j]! >> shift) & 3 : 1) << (2 * k);
        if (hasCode3(v)) throw new QuantInputError(`hfToT2 data: invalid code 3 for weight row ${o}, column ${base + 16 * code3Field(v) + j}`);
        out[t2 + 16 * b + j] = v;
      }
    },
  );
  return out;
}
