/**
 * Random weights already in their packed inference form, for benchmarks and smoke runs of shapes too large to
 * quantize from float (the 2B4T preset would need 8 GB of latent float32). Projections get uniform random ternary
 * (or binary) codes written straight into the onebit-t2 / onebit-b1 bytes; embeddings N(0, 0.02²); norm gains 1.
 */
import type { PackedLinearWeight } from "@onebit/kernels";
import { b1RowBytes, packBinaryB1, packTernaryT2, t2RowBytes } from "@onebit/quant";
import type { ModelSpec } from "./model-spec";
import { numel, tensorList } from "./tensor-names";
import { bitLinearSpecFor, type ModelWeights } from "./transformer";

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Every byte holds four codes in {0, 1, 2} (weights −1, 0, +1), uniformly. */
const T2_BYTES = Uint8Array.from({ length: 81 }, (_, i) => (i % 3) | ((Math.floor(i / 3) % 3) << 2) | ((Math.floor(i / 9) % 3) << 4) | ((Math.floor(i / 27) % 3) << 6));

function randomCodes(out: number, inF: number, next: () => number, levels: number[]): Int8Array {
  const codes = new Int8Array(out * inF);
  for (let i = 0; i < codes.length; i++) codes[i] = levels[next() % levels.length]!;
  return codes;
}

export function randomPackedWeights(spec: ModelSpec, seed = 1): ModelWeights {
  const next = xorshift(seed);
  const weights: ModelWeights = new Map();
  for (const t of tensorList(spec)) {
    if (t.projection) {
      const ls = bitLinearSpecFor(spec, t.projection);
      const [out, inF] = [ls.outFeatures, ls.inFeatures];
      const groups = ls.groups ?? 1;
      const scaleAxis = groups > 1 ? ls.groupAxis : "tensor";
      const scales = new Float32Array(groups).fill(0.02);
      if (ls.quant.weight === "ternary") {
        let data: Uint8Array;
        if (inF % 64 === 0) {
          // no padding columns: every byte can be random
          data = new Uint8Array(out * t2RowBytes(inF));
          for (let i = 0; i < data.length; i++) data[i] = T2_BYTES[next() % 81]!;
        } else data = packTernaryT2(randomCodes(out, inF, next, [-1, 0, 1]), out, inF);
        weights.set(t.name, { kind: "ternary", outFeatures: out, inFeatures: inF, data, scales, scaleAxis } satisfies PackedLinearWeight);
        continue;
      }
      if (ls.quant.weight === "binary") {
        let data: Uint8Array;
        if (inF % 128 === 0) {
          data = new Uint8Array(out * b1RowBytes(inF));
          for (let i = 0; i < data.length; i++) data[i] = next() & 0xff;
        } else data = packBinaryB1(randomCodes(out, inF, next, [-1, 1]), out, inF);
        weights.set(t.name, { kind: "binary", outFeatures: out, inFeatures: inF, data, scales, scaleAxis } satisfies PackedLinearWeight);
        continue;
      }
    }
    const n = numel(t.shape);
    const w = new Float32Array(n);
    if (t.component === "norm") w.fill(1);
    else for (let i = 0; i < n; i++) w[i] = ((next() / 2 ** 32) * 2 - 1) * 0.0346; // uniform with σ = 0.02
    weights.set(t.name, w);
  }
  return weights;
}
