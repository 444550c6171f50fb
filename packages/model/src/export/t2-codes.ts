/**
 * A ternary weight's onebit-t2 bytes for an exporter. One still in its GGUF encoding (TQ2_0 or I2_S, in memory or
 * left in its file: load/ternary-repack.ts) is transcoded into a buffer of its own rather than read through `data`,
 * which would keep the result for the model's life: a converter holds one tensor's codes at a time.
 */
import type { PackedLinearWeight } from "@onebit/kernels";
import { i2sToT2, t2RowBytes, tq2ToT2 } from "@onebit/quant";

export function t2Codes(w: PackedLinearWeight): Uint8Array {
  const enc = w.kind === "ternary" ? w.encoded : undefined;
  if (!enc) return w.data;
  const out = w.outFeatures;
  const inF = w.inFeatures;
  let bytes: Uint8Array;
  if (enc.bytes instanceof Uint8Array) bytes = enc.bytes;
  else {
    bytes = new Uint8Array(enc.bytes.length);
    enc.bytes.copyTo(0, bytes);
  }
  const into = new Uint8Array(out * t2RowBytes(inF));
  return (enc.format === "TQ2_0" ? tq2ToT2(bytes, out, inF, into) : i2sToT2(bytes, out, inF, into)).data;
}
