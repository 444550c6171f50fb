/**
 * Reference BitLinear: integer dot products read straight from the packed codes (onebit-t2 or onebit-b1),
 * one scale pair per column segment, float epilogue. Plain loops — this is the oracle for every backend.
 */
import { b1RowBytes, T2_BLOCK_BYTES, t2RowBytes } from "@onebit/quant";
import type { BitLinearOptions, PackedLinearWeight, QuantizedActivations } from "../backend";
import { columnSegments } from "../column-segments";
import { checkActivations, checkMask, outputBuffer } from "../validate-inputs";

/** w[o, i] ∈ {−1, 0, +1} (ternary) or {−1, +1} (binary), read from the packed row. */
export function packedWeightAt(w: PackedLinearWeight, o: number, i: number): number {
  if (w.kind === "ternary") {
    const byte = w.data[o * t2RowBytes(w.inFeatures) + (i >> 6) * T2_BLOCK_BYTES + (i & 15)]!;
    return ((byte >> (((i >> 4) & 3) * 2)) & 3) - 1;
  }
  const byte = w.data[o * b1RowBytes(w.inFeatures) + (i >> 7) * 16 + (i & 15)]!;
  return (byte >> ((i >> 4) & 7)) & 1 ? 1 : -1;
}

export function weightScaleAt(w: PackedLinearWeight, o: number, wGroup: number): number {
  if (w.scaleAxis === "tensor") return w.scales[0]!;
  if (w.scaleAxis === "in") return w.scales[wGroup]!;
  return w.scales[Math.floor(o / (w.outFeatures / w.scales.length))]!;
}

export function bitLinearImpl(w: PackedLinearWeight, x: QuantizedActivations, options: BitLinearOptions = {}): Float32Array {
  checkActivations(w, x);
  checkMask(options.rowMask, w.outFeatures);
  const { tokens, features } = x;
  const out = outputBuffer(options.out, tokens * w.outFeatures);
  const segments = columnSegments(features, w.scaleAxis === "in" ? w.scales.length : 1, x.groups);
  for (let t = 0; t < tokens; t++)
    for (let o = 0; o < w.outFeatures; o++) {
      if (options.rowMask && !options.rowMask[o]) {
        out[t * w.outFeatures + o] = 0;
        continue;
      }
      let y = 0;
      for (const s of segments) {
        let dot = 0;
        for (let i = s.start; i < s.end; i++) dot += packedWeightAt(w, o, i) * x.codes[t * features + i]!;
        y += dot * weightScaleAt(w, o, s.wGroup) * x.scales[t * x.groups + s.xGroup]!;
      }
      out[t * w.outFeatures + o] = y;
    }
  return out;
}
