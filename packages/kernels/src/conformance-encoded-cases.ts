/**
 * Conformance cases of ternary weights that carry a file's own layout (PackedLinearWeight.encoded: GGUF TQ2_0 and
 * I2_S, Hugging Face's packed uint8; part of CONFORMANCE_CASES): BitLinear from such a weight gives the reference's
 * outputs bit for bit, whether the backend places the encoded bytes itself (wasm) or reads `data`.
 */
import { packTernaryT2, t2ToHf, t2ToI2s, t2ToTq2 } from "@onebit/quant";
import type { PackedLinearWeight, PreparedWeight, QuantizedActivations } from "./backend";
import type { ByteRange } from "./contract/byte-range";
import type { ConformanceCase } from "./conformance-cases";
import { identical, rangeOver, rng } from "./conformance-helpers";

function ternary(out: number, inF: number, r: () => number): PackedLinearWeight {
  const values = Int8Array.from({ length: out * inF }, () => Math.floor(r() * 3) - 1);
  return { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(values, out, inF), scales: Float32Array.of(0.01 + r() * 0.1), scaleAxis: "tensor" };
}

export const ENCODED_CASES: ConformanceCase[] = [
  {
    name: "bitLinear from TQ2_0 / I2_S / HF packed bytes (PackedLinearWeight.encoded): identical to the reference on the t2 data",
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
        // (HF packed: row counts not a multiple of 4 leave fields of the last packed rows as padding)
        const encodings: Array<readonly ["I2_S" | "TQ2_0" | "HF_PACKED", Uint8Array]> = [["I2_S", t2ToI2s(w.data, out, inF, w.scales[0]!)], ["HF_PACKED", t2ToHf(w.data, out, inF)]];
        if (inF % 256 === 0) encodings.push(["TQ2_0", t2ToTq2(w.data, out, inF, 0x3c00)]);
        for (const [format, bytes] of encodings)
          for (const source of [bytes, rangeOver(bytes, `${format} ${out}×${inF}`)]) {
            const encoded: PackedLinearWeight = { ...w, encoded: { format, bytes: source } };
            const got = await b.read(b.bitLinear({ weight: b.prepareWeight({ weight: encoded }), input: x }));
            identical(`bitLinear ${out}×${inF}, ${tokens} token(s), from ${format}${source === bytes ? "" : " read through a ByteRange"}`, got, want);
          }
      }
      // HF packed, 7 rows of 256 (2 packed rows: rows 0–1, 2–3, 4–5, 6): a 3 in the padding field of packed row 1
      // (row 7 does not exist) is not read; a 3 in a row's field is refused, as its data would be
      const w = ternary(7, 256, r);
      const x: QuantizedActivations = { tokens: 1, features: 256, codes: Int8Array.from({ length: 256 }, () => Math.floor(r() * 256) - 128), scales: Float32Array.of(0.02), groups: 1, bits: 8 };
      const want = await ref.read(ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x }));
      const padded = t2ToHf(w.data, 7, 256);
      padded[256 + 40]! |= 0xc0;
      identical("bitLinear 7×256 from HF packed bytes with a 3 in a padding field", await b.read(b.bitLinear({ weight: b.prepareWeight({ weight: { ...w, encoded: { format: "HF_PACKED", bytes: padded } } }), input: x })), want);
      const bad = t2ToHf(w.data, 7, 256);
      bad[256 + 40]! |= 0x30; // row 5, column 40
      // refused, naming the packed rows — or, by a backend that reads `data` instead (the good codes), placed right
      let placed: PreparedWeight | undefined;
      try {
        placed = b.prepareWeight({ weight: { ...w, encoded: { format: "HF_PACKED", bytes: bad } } });
      } catch (e) {
        if (!/HF_PACKED: packed rows \[0, 2\) hold a code 3/.test((e as Error).message)) throw e;
      }
      if (placed) identical("bitLinear 7×256 placed from HF packed bytes holding a code 3", await b.read(b.bitLinear({ weight: placed, input: x })), want);
    },
  },
  {
    name: "prepareWeights from TQ2_0 / I2_S bytes: the parts and a joined weight identical to the reference on the t2 data; a bad part fails the group",
    async run(b, ref) {
      const r = rng(73);
      const inF = 512;
      const ws = [ternary(64, inF, r), ternary(16, inF, r), ternary(17, inF, r)];
      const encoded = ws.map((w, i): PackedLinearWeight => {
        const format = i === 1 ? "TQ2_0" : "I2_S";
        return { ...w, encoded: { format, bytes: format === "TQ2_0" ? t2ToTq2(w.data, w.outFeatures, inF, 0x3c00) : t2ToI2s(w.data, w.outFeatures, inF, w.scales[0]!) } };
      });
      const tokens = 3;
      const x: QuantizedActivations = { tokens, features: inF, codes: Int8Array.from({ length: tokens * inF }, () => Math.floor(r() * 256) - 128), scales: Float32Array.from({ length: tokens }, () => 0.01 + r() * 0.05), groups: 1, bits: 8 };
      const wants = await Promise.all(ws.map((w) => ref.read(ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x }))));
      const { parts, joined } = b.prepareWeights({ weights: encoded });
      for (let i = 0; i < parts.length; i++) identical(`prepareWeights part ${i} from ${encoded[i]!.encoded!.format}`, await b.read(b.bitLinear({ weight: parts[i]!, input: x })), wants[i]!);
      if (joined) {
        const y = await b.read(b.bitLinear({ weight: joined, input: x }));
        const rows = joined.outFeatures;
        let col = 0;
        ws.forEach((w, i) => {
          const part = new Float32Array(tokens * w.outFeatures);
          for (let t = 0; t < tokens; t++) part.set(y.subarray(t * rows + col, t * rows + col + w.outFeatures), t * w.outFeatures);
          identical(`prepareWeights joined from TQ2_0 / I2_S, part ${i}'s columns`, part, wants[i]!);
          col += w.outFeatures;
        });
      }
      // a code 3 (no ternary code) in the last part's bytes: the whole group fails, as its prepareWeight would
      const bad = (encoded[2]!.encoded!.bytes as Uint8Array).slice();
      bad[5] = 0xff;
      let failed = false;
      try {
        b.prepareWeights({ weights: [encoded[0]!, { ...encoded[2]!, encoded: { format: "I2_S", bytes: bad } }] });
      } catch {
        failed = true;
      }
      let alone = false;
      try {
        b.prepareWeight({ weight: { ...encoded[2]!, encoded: { format: "I2_S", bytes: bad } } });
      } catch {
        alone = true;
      }
      if (failed !== alone) throw new Error(`prepareWeights with a bad part ${failed ? "threw" : "did not throw"}, prepareWeight of that part alone ${alone ? "threw" : "did not"}`);
    },
  },
  {
    name: "prepareWeight from a ByteRange that fails (a file changed since the load): the range's own error",
    async run(b) {
      const r = rng(79);
      const w = ternary(16, 256, r);
      const broken = new Error("model.gguf: tensor \"blk.0.ffn_up.weight\": changed on disk since it was opened");
      const range: ByteRange = {
        length: t2ToTq2(w.data, 16, 256, 0x3c00).length,
        copyTo() {
          throw broken;
        },
      };
      // as a loader's deferred weight: its data comes from the same file and fails the same way
      const weight: PackedLinearWeight = {
        ...w,
        encoded: { format: "TQ2_0", bytes: range },
        get data(): Uint8Array {
          throw broken;
        },
      };
      let thrown: unknown;
      try {
        b.prepareWeight({ weight });
      } catch (e) {
        thrown = e;
      }
      if (thrown !== broken) throw new Error(`prepareWeight of a weight whose ByteRange throws: expected that error, got ${thrown === undefined ? "no error" : String(thrown)}`);
    },
  },
];
