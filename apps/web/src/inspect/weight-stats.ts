/**
 * What the packed weights hold, per layer and projection: the shares of −1, 0 and +1 codes (binary weights have no
 * 0), and the dequantization scales. Counted straight from the onebit-t2 / onebit-b1 bytes with per-byte tables,
 * so even a 2B4T-sized model is counted in about a second without unpacking it; the padding columns of a row's
 * last block are left out.
 */
import type { PackedLinearWeight } from "@onebit/kernels";
import type { Projection } from "@onebit/layers";
import { type ModelWeights, projectionName } from "@onebit/model";

export const PROJECTIONS: readonly Projection[] = ["q", "k", "v", "o", "gate", "up", "down"];

export interface ProjectionStats {
  projection: Projection;
  kind: "ternary" | "binary" | "float";
  /** counts of codes −1, 0, +1 over the real (unpadded) weights; all 0 for float projections */
  minus: number;
  zero: number;
  plus: number;
  /** the weight's scales (one per tensor, or one per group) */
  scales: number[];
}

/** T2_COUNT[byte] = the number of codes 0, 1, 2 among its four 2-bit fields (code = w + 1). */
const T2_COUNT = Array.from({ length: 256 }, (_, b) => {
  const c = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) c[(b >> (2 * k)) & 3]!++;
  return c;
});
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

function countTernary(w: PackedLinearWeight): [number, number, number] {
  const full = Math.floor(w.inFeatures / 64);
  const stride = Math.ceil(w.inFeatures / 64) * 16;
  const counts = [0, 0, 0, 0];
  for (let r = 0; r < w.outFeatures; r++) {
    const row = r * stride;
    for (let i = row; i < row + full * 16; i++) {
      const c = T2_COUNT[w.data[i]!]!;
      counts[0]! += c[0]!;
      counts[1]! += c[1]!;
      counts[2]! += c[2]!;
    }
    // the last, partial block: only its real columns (layout: byte j holds columns j, 16+j, 32+j, 48+j)
    for (let col = full * 64; col < w.inFeatures; col++) {
      const within = col & 63;
      counts[(w.data[row + full * 16 + (within & 15)]! >> ((within >> 4) * 2)) & 3]!++;
    }
  }
  return [counts[0]!, counts[1]!, counts[2]!];
}

function countBinary(w: PackedLinearWeight): [number, number, number] {
  const full = Math.floor(w.inFeatures / 128);
  const stride = Math.ceil(w.inFeatures / 128) * 16;
  let plus = 0;
  for (let r = 0; r < w.outFeatures; r++) {
    const row = r * stride;
    for (let i = row; i < row + full * 16; i++) plus += POPCOUNT[w.data[i]!]!;
    for (let col = full * 128; col < w.inFeatures; col++) {
      const within = col & 127;
      plus += (w.data[row + full * 16 + (within & 15)]! >> (within >> 4)) & 1;
    }
  }
  return [w.outFeatures * w.inFeatures - plus, 0, plus];
}

export function projectionStats(weights: ModelWeights, layer: number): ProjectionStats[] {
  return PROJECTIONS.map((projection) => {
    const w = weights.get(projectionName(layer, projection));
    if (!w || w instanceof Float32Array || !("kind" in w) || (w.kind !== "ternary" && w.kind !== "binary")) return { projection, kind: "float", minus: 0, zero: 0, plus: 0, scales: [] };
    const [minus, zero, plus] = w.kind === "ternary" ? countTernary(w) : countBinary(w);
    return { projection, kind: w.kind, minus, zero, plus, scales: Array.from(w.scales) };
  });
}
