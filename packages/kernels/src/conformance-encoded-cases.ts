/**
 * Conformance cases of ternary weights that carry a file's own layout (PackedLinearWeight.encoded: GGUF TQ2_0 and
 * I2_S, part of CONFORMANCE_CASES): BitLinear from such a weight gives the reference's outputs bit for bit, whether
 * the backend places the encoded bytes itself (wasm) or reads `data`.
 */
import { packTernaryT2, t2ToI2s, t2ToTq2 } from "@onebit/quant";
import type { PackedLinearWeight, QuantizedActivations } from "./backend";
import type { ConformanceCase } from "./conformance-cases";
import { identical, rng } from "./conformance-helpers";

function ternary(out: number, inF: number, r: () => number): PackedLinearWeight {
  const values = Int8Array.from({ length: out * inF }, () => Math.floor(r() * 3) - 1);
  return { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(values, out, inF), scales: Float32Array.of(0.01 + r() * 0.1), scaleAxis: "tensor" };
}

export const ENCODED_CASES: ConformanceCase[] = [
  {
    name: "bitLinear from TQ2_0 / I2_S bytes (PackedLinearWeight.encoded): identical to the reference on the t2 data",
    async run(b, ref) {
      const r = rng(71);
      // odd row counts (the pair layout's zero partner), one and several 128/256-weight groups, 1 and 5 tokens
      for (const [out, inF, tokens] of [[7, 256, 1], [33, 512, 5], [64, 768, 2], [5, 2560, 1]] as const) {
        const w = ternary(out, inF, r);
        const x: QuantizedActivations = {
          tokens,
          features: inF,
          codes: Int8Array.from({ length: tokens * inF }, () => Math.floor(r() * 256) - 128),
          scales: Float32Array.from({ length: tokens }, () => 0.01 + r() * 0.05),
          groups: 1,
          bits: 8,
        };
        const want = await ref.read(ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x }));
        const encodings: Array<readonly ["I2_S" | "TQ2_0", Uint8Array]> = [["I2_S", t2ToI2s(w.data, out, inF, w.scales[0]!)]];
        if (inF % 256 === 0) encodings.push(["TQ2_0", t2ToTq2(w.data, out, inF, 0x3c00)]);
        for (const [format, bytes] of encodings) {
          const encoded: PackedLinearWeight = { ...w, encoded: { format, bytes } };
          const got = await b.read(b.bitLinear({ weight: b.prepareWeight({ weight: encoded }), input: x }));
          identical(`bitLinear ${out}×${inF}, ${tokens} token(s), from ${format}`, got, want);
        }
      }
    },
  },
];
