/**
 * A ternary weight's onebit-t2 bytes for an exporter. One still in its GGUF encoding (TQ2_0 or I2_S, in memory or
 * left in its file: load/ternary-repack.ts) is transcoded into a buffer of its own rather than read through `data`,
 * which would keep the result for the model's life: a converter holds one tensor's codes at a time.
 */
import type { PackedLinearWeight } from "@onebit/kernels";
import { t2RowBytes } from "@onebit/quant";
import { encodedToT2 } from "../load/ternary-repack";

export function t2Codes(w: PackedLinearWeight): Uint8Array {
  const enc = w.kind === "ternary" ? w.encoded : undefined;
  return enc ? encodedToT2(enc, w.outFeatures, w.inFeatures, new Uint8Array(w.outFeatures * t2RowBytes(w.inFeatures))) : w.data;
}
