import { packTernaryT2, t2ToI2s, t2ToTq2 } from "@onebit/quant";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, PackedLinearWeight, QuantizedActivations } from "../backend";
import { createBackend } from "../backends";
import { rng } from "../conformance-helpers";

/** A ternary weight whose `data` throws when read: the wasm backend must place `encoded` without it. */
function encodedOnly(w: PackedLinearWeight, format: "TQ2_0" | "I2_S", bytes: Uint8Array, onRead: () => Uint8Array = () => { throw new Error("data read"); }): PackedLinearWeight {
  const { data: _, ...rest } = w;
  return Object.defineProperty({ ...rest, encoded: { format, bytes } }, "data", { get: onRead, enumerable: true }) as PackedLinearWeight;
}

describe.each([1, 2])("t2_place (ternary-place.wat.ts), %i thread(s)", (threads) => {
  let wasm: Backend;
  let js: Backend;
  beforeAll(async () => {
    wasm = await createBackend("wasm", { threads });
    js = await createBackend("js");
  });
  afterAll(() => {
    wasm.dispose();
    js.dispose();
  });

  it("places TQ2_0 and I2_S rows without reading data, over several chunks and an odd last row", async () => {
    const r = rng(5);
    // 2561 × 1792 (one chunk) and 20001 × 1024: TQ2_0 rows of 264 bytes, 5.3 MB, so two 4 MiB chunks of t2_place, the second odd
    for (const [out, inF] of [[2561, 1792], [20001, 1024]] as const) {
      const values = Int8Array.from({ length: out * inF }, () => Math.floor(r() * 3) - 1);
      const w: PackedLinearWeight = { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(values, out, inF), scales: Float32Array.of(0.03), scaleAxis: "tensor" };
      const x: QuantizedActivations = { tokens: 3, features: inF, codes: Int8Array.from({ length: 3 * inF }, () => Math.floor(r() * 256) - 128), scales: Float32Array.of(0.02, 0.05, 0.01), groups: 1, bits: 8 };
      const want = await js.read(js.bitLinear({ weight: js.prepareWeight({ weight: w }), input: x }));
      for (const [format, bytes] of [["TQ2_0", t2ToTq2(w.data, out, inF, 0x3c00)], ["I2_S", t2ToI2s(w.data, out, inF, 0.03)]] as const) {
        const got = await wasm.read(wasm.bitLinear({ weight: wasm.prepareWeight({ weight: encodedOnly(w, format, bytes) }), input: x }));
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `${format} ${out}×${inF}`).toBe(true);
      }
    }
  });

  it("a code 3 in the bytes: the weight's own error from data, else one naming the rows", () => {
    const w: PackedLinearWeight = { kind: "ternary", outFeatures: 4, inFeatures: 256, data: packTernaryT2(new Int8Array(1024), 4, 256), scales: Float32Array.of(1), scaleAxis: "tensor" };
    const bytes = t2ToTq2(w.data, 4, 256, 0x3c00);
    bytes[66 * 3 + 40] = 0xff; // row 3
    expect(() => wasm.prepareWeight({ weight: encodedOnly(w, "TQ2_0", bytes, () => { throw new Error("TQ2_0: invalid code 3 in byte 238 of blk.0.ffn_up.weight"); }) })).toThrow(/invalid code 3 in byte 238 of blk\.0\.ffn_up\.weight/);
    expect(() => wasm.prepareWeight({ weight: encodedOnly(w, "TQ2_0", bytes, () => w.data) })).toThrow(/rows \[0, 4\) hold a code 3/);
    expect(() => wasm.prepareWeight({ weight: encodedOnly(w, "TQ2_0", bytes.subarray(1)) })).toThrow(/has 263 bytes, expected 264/);
    expect(() => wasm.prepareWeight({ weight: encodedOnly({ ...w, inFeatures: 128, data: packTernaryT2(new Int8Array(512), 4, 128) }, "TQ2_0", bytes) })).toThrow(/columns must be a positive multiple of 256/);
  });
});
