import type { BitLinearSpec } from "@onebit/layers";
import { packTernaryT2, t2ToI2s, t2ToTq2, tq2ToT2 } from "@onebit/quant";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ModelFileError } from "../weights/weight-source";
import { deferredGgufProjection, repackGgufProjection } from "./ternary-repack";

const spec = (out: number, inF: number): BitLinearSpec => ({ outFeatures: out, inFeatures: inF, quant: { weight: "ternary", activation: "int8" }, groups: 1, groupAxis: "out", epsMode: "clamp" });
const noFloat = () => {
  throw new Error("not a float tensor");
};

/** TQ2_0 bytes of codes in {−1, 0, 1} with each 256-weight block's fp16 d given by `dBits(k)`. */
function tq2(values: Int8Array, out: number, inF: number, dBits: (k: number) => number): Uint8Array {
  const bytes = t2ToTq2(packTernaryT2(values, out, inF), out, inF, 0);
  for (let k = 0; k < (out * inF) / 256; k++) {
    bytes[66 * k + 64] = dBits(k) & 0xff;
    bytes[66 * k + 65] = dBits(k) >> 8;
  }
  return bytes;
}

/** The transcoding path's scale rule (uniformScale over tq2ToT2's blocks), for comparison. */
function transcodedScale(bytes: Uint8Array, out: number, inF: number): number | string {
  const { blockScales, blockNonZero } = tq2ToT2(bytes, out, inF);
  let scale: number | undefined;
  let at = -1;
  for (let b = 0; b < blockScales.length; b++) {
    if (!blockNonZero[b]) continue;
    if (scale === undefined) {
      scale = blockScales[b]!;
      at = b;
    } else if (blockScales[b] !== scale) return `block ${b} has scale ${blockScales[b]} but block ${at} has ${scale}`;
  }
  return scale ?? 0;
}

/** The scale `load` gives, or its ModelFileError's message as transcodedScale words it, against that rule's answer. */
function expectTranscodingRule(load: () => number, want: number | string): void {
  let got: number | string;
  try {
    got = load();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    got = (e as Error).message.replace(/^.*blk\.0\.ffn_up\.weight: /, "").replace(/; onebit needs.*$/, "");
  }
  if (typeof want === "number") expect(got).toBe(Math.fround(want));
  else expect(got).toBe(want);
}

describe("repackGgufProjection: TQ2_0 and I2_S kept as their bytes", () => {
  it("TQ2_0: the scale is the transcoding rule's, or the same error; data is tq2ToT2's, made on first read", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(-1, 0, 0, 1), { minLength: 4 * 512, maxLength: 4 * 512 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.array(fc.constantFrom(0x3c00, 0x3c00, 0x3c00, 0x0000, 0x3800, 0x8000), { minLength: 8, maxLength: 8 }),
        (vs, zeroBlock, dBits) => {
          const values = Int8Array.from(vs);
          zeroBlock.forEach((z, k) => z && values.fill(0, 256 * k, 256 * k + 256));
          const bytes = tq2(values, 4, 512, (k) => dBits[k]!);
          expectTranscodingRule(() => {
            const r = repackGgufProjection("TQ2_0", bytes, spec(4, 512), undefined, "f.gguf", "blk.0.ffn_up.weight", noFloat);
            const w = r.weight as { scales: Float32Array; data: Uint8Array; encoded?: { format: string } };
            expect(w.encoded?.format).toBe("TQ2_0");
            expect([...w.data]).toEqual([...packTernaryT2(values, 4, 512)]);
            return w.scales[0]!;
          }, transcodedScale(bytes, 4, 512));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a code 3 is reported, naming the file and tensor, where the codes are read", () => {
    const bytes = tq2(new Int8Array(1024), 4, 256, () => 0x3c00);
    bytes[66 + 7] = 0xff;
    const r = repackGgufProjection("TQ2_0", bytes, spec(4, 256), undefined, "f.gguf", "blk.3.attn_q.weight", noFloat);
    expect(() => (r.weight as { data: Uint8Array }).data).toThrow(/f\.gguf.*blk\.3\.attn_q\.weight.*invalid code 3 in byte 73/);
  });

  it("I2_S: the tail's scale; a non-finite scale and a wrong length are refused", () => {
    const values = Int8Array.from({ length: 2 * 128 }, (_, i) => (i % 3) - 1);
    const bytes = t2ToI2s(packTernaryT2(values, 2, 128), 2, 128, 0.25);
    const r = repackGgufProjection("I2_S", bytes, spec(2, 128), undefined, "f.gguf", "t", noFloat);
    const w = r.weight as { scales: Float32Array; data: Uint8Array; encoded?: { format: string } };
    expect(w.encoded?.format).toBe("I2_S");
    expect(w.scales[0]).toBe(0.25);
    expect([...w.data]).toEqual([...packTernaryT2(values, 2, 128)]);
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(64, Number.NaN, true);
    expect(() => repackGgufProjection("I2_S", nan, spec(2, 128), undefined, "f.gguf", "t", noFloat)).toThrow(/the I2_S scale is NaN/);
    expect(() => repackGgufProjection("I2_S", bytes.subarray(1), spec(2, 128), undefined, "f.gguf", "t", noFloat)).toThrow(/has 95 bytes, expected 96/);
  });
});

describe("deferredGgufProjection: TQ2_0 left in its file, checked as it is read", () => {
  it("the scale, or the same error, as the transcoding rule — whether the block that decides it is read at load or when placed", () => {
    // 2 rows of 516 blocks: 1032 blocks, past the 1024 the load scans, read by a backend a row at a time
    const out = 2;
    const inF = 516 * 256;
    const base = Int8Array.from({ length: out * inF }, (_, i) => ((i * 7) % 3) - 1);
    fc.assert(
      fc.property(
        fc.array(fc.record({ block: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1031 }), fc.integer({ min: 1020, max: 1031 })), zero: fc.boolean(), d: fc.constantFrom(0x3c00, 0x0000, 0x3800, 0x8000) }), { minLength: 1, maxLength: 3 }),
        (changes) => {
          const values = base.slice();
          const dBits = new Map<number, number>();
          for (const c of changes) {
            if (c.zero) values.fill(0, 256 * c.block, 256 * c.block + 256);
            dBits.set(c.block, c.d);
          }
          const bytes = tq2(values, out, inF, (k) => dBits.get(k) ?? 0x3c00);
          const range = { length: bytes.length, copyTo: (offset: number, into: Uint8Array) => into.set(bytes.subarray(offset, offset + into.length)) };
          expectTranscodingRule(() => {
            const r = deferredGgufProjection("TQ2_0", range, spec(out, inF), undefined, "f.gguf", "blk.0.ffn_up.weight")!;
            const w = r.weight as { scales: Float32Array; data: Uint8Array; encoded: { bytes: { copyTo(offset: number, into: Uint8Array): void } } };
            // as a backend places it: row by row, in order
            const row = new Uint8Array(bytes.length / out);
            for (let o = 0; o < out; o++) w.encoded.bytes.copyTo(o * row.length, row);
            expect([...w.data.subarray(0, 64)]).toEqual([...packTernaryT2(values, out, inF).subarray(0, 64)]);
            return w.scales[0]!;
          }, transcodedScale(bytes, out, inF));
        },
      ),
      { numRuns: 60 },
    );
  });
});
