import { describe, expect, it } from "vitest";
import { bitnet2B4TSpec, bitnetify, preset, presetByName } from "./presets";
import { parameterCounts } from "./tensor-names";

describe("presets", () => {
  it("has presets of the stated sizes and the 2B4T shape", () => {
    expect(parameterCounts(preset("b1.58", "tiny")).total).toBeGreaterThan(0.8e6);
    expect(parameterCounts(preset("b1.58", "tiny")).total).toBeLessThan(1.3e6);
    expect(parameterCounts(preset("b1.58", "small")).total).toBeGreaterThan(8e6);
    expect(parameterCounts(preset("b1.58", "small")).total).toBeLessThan(12e6);
    const big = parameterCounts(bitnet2B4TSpec());
    expect(big.total).toBeGreaterThan(2.3e9); // ≈ 2.41B with tied embeddings
    expect(big.total).toBeLessThan(2.5e9);
    expect(presetByName("a4.8-small").onebit.variant).toBe("a4.8");
    expect(() => presetByName("b3-tiny")).toThrow(/unknown preset "b3-tiny"; presets: fp-tiny/);
    expect(bitnetify(preset("fp", "tiny"), "a4.8").onebit).toMatchObject({ variant: "a4.8", sub_norm: true });
  });
});
