import { describe, expect, it } from "vitest";
import { createBackend } from "../backends";
import { activations, ternaryWeight } from "../conformance-cases";
import type { Backend } from "../contract/kernel-table";
import { hostArray } from "../contract/tensors";

/** The wasm memory's size now (a fresh view's buffer: the memory as it is after any growth). */
function wasmBytes(b: Backend): number {
  const a = b.allocF32(4);
  const bytes = hostArray(a, "probe").buffer.byteLength;
  b.freeF32(a);
  return bytes;
}

describe("wasm prepareWeights", () => {
  it("joins t2 weights of one input into one weight over their rows, in one block of wasm memory", async () => {
    const b = await createBackend("wasm", { threads: 2, simd: "baseline" });
    try {
      const qkv = [ternaryWeight(256, 320, 1), ternaryWeight(64, 320, 2), ternaryWeight(64, 320, 3)];
      const { parts, joined } = b.prepareWeights({ weights: qkv });
      expect(joined).not.toBeNull();
      expect([joined!.outFeatures, joined!.inFeatures]).toEqual([384, 320]);
      // its bytes are its scales (the rows are the parts'), and the parts report what prepareWeight would
      expect(joined!.bytes).toBe(384 * 4);
      expect(parts.map((p) => p.bytes)).toEqual(qkv.map((w) => b.prepareWeight({ weight: w }).bytes));
      // one job for the three: the joined weight's output is the parts' side by side (the conformance suite checks
      // every value); here, that a prompt through it is one bitLinear
      const calls = () => b.kernels().find((k) => k.kernel === "bitLinear")!.calls.native;
      const before = calls();
      const y = b.bitLinear({ weight: joined!, input: activations(20, 320, 4) }) as Float32Array;
      expect(calls()).toBe(before + 1);
      expect(y.length).toBe(20 * 384);
      // apart: an odd row count before the last (the next part would start inside a pair), and column groups
      expect(b.prepareWeights({ weights: [ternaryWeight(9, 128, 5), ternaryWeight(8, 128, 6)] }).joined).toBeNull();
      expect(b.prepareWeights({ weights: [ternaryWeight(8, 256, 7, "in", 2), ternaryWeight(8, 256, 8, "in", 2)] }).joined).toBeNull();
      expect(b.prepareWeights({ weights: [ternaryWeight(8, 128, 9)] }).joined).toBeNull();
      // a part whose shape its bytes do not fill fails, naming them, before the group's block is allocated (a
      // million rows would have grown the memory by 32 MB); nor are the encoded bytes trusted
      const grown = () => wasmBytes(b);
      const size = grown();
      expect(() => b.prepareWeights({ weights: [ternaryWeight(8, 128, 10), { ...ternaryWeight(8, 128, 11), outFeatures: 1e6 }] })).toThrow(/has 256 bytes, expected 32000000/);
      const short = { ...ternaryWeight(8, 128, 12), outFeatures: 1e6, encoded: { format: "I2_S" as const, bytes: new Uint8Array(64) } };
      expect(() => b.prepareWeights({ weights: [ternaryWeight(8, 128, 13), short] })).toThrow(/has 64 bytes, expected 32000032/);
      expect(grown()).toBe(size);
    } finally {
      b.dispose();
    }
  });

  it("keeps t1 weights apart", async () => {
    const b = await createBackend("wasm", { threads: 1, simd: "baseline", ternaryLayout: "t1" });
    try {
      expect(b.prepareWeights({ weights: [ternaryWeight(8, 160, 1), ternaryWeight(8, 160, 2)] }).joined).toBeNull();
    } finally {
      b.dispose();
    }
  });
});
