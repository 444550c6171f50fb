/** A benchmark's random ternary weight: onebit-t2 bytes of uniformly random codes {0, 1, 2} (xorshift32 from `seed`). */
import { t2RowBytes } from "@onebit/quant";
import type { PackedLinearWeight } from "../src/index";

export function randomT2(out: number, inF: number, seed: number): PackedLinearWeight {
  const bytes = new Uint8Array(out * t2RowBytes(inF));
  // every byte = four random codes in {0, 1, 2}
  const table = Uint8Array.from({ length: 81 }, (_, i) => (i % 3) | ((Math.floor(i / 3) % 3) << 2) | ((Math.floor(i / 9) % 3) << 4) | ((Math.floor(i / 27) % 3) << 6));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = table[(s >>> 0) % 81]!;
  }
  return { kind: "ternary", outFeatures: out, inFeatures: inF, data: bytes, scales: Float32Array.of(0.02), scaleAxis: "tensor" };
}
