/** Norm (RMSNorm, LayerNorm, grouped) against float64 computed here from the definitions (BitNet arXiv 2310.11453 §2.2). */
import { hostArray } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { LayerSpecError } from "./layer-spec-error";
import { Norm } from "./norm";
import { backend, close, rng } from "./testing/float-reference";

function float64Norm(x: Float32Array, tokens: number, features: number, gain: Float32Array, eps: number, kind: "rms" | "layer", groups: number): number[] {
  const d = features / groups;
  const y: number[] = [];
  for (let t = 0; t < tokens; t++)
    for (let g = 0; g < groups; g++) {
      const xs = Array.from(x.subarray(t * features + g * d, t * features + (g + 1) * d));
      const mean = kind === "layer" ? xs.reduce((a, b) => a + b, 0) / d : 0;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      xs.forEach((v, i) => y.push(((v - mean) / Math.sqrt(variance + eps)) * gain[g * d + i]!));
    }
  return y;
}

describe("Norm", () => {
  const r = rng(3);
  const [tokens, features] = [3, 24];
  const x = Float32Array.from({ length: tokens * features }, () => r() * 5);
  const gain = Float32Array.from({ length: features }, () => 1 + r());
  for (const [kind, groups] of [["rms", 1], ["rms", 3], ["layer", 1], ["layer", 4]] as const)
    it(`${kind} norm in ${groups} group(s) equals the float64 definition`, () => {
      const norm = new Norm({ kind, features, eps: 1e-6, groups }, gain, backend);
      close(norm.forward(x, tokens), float64Norm(x, tokens, features, gain, 1e-6, kind, groups));
    });
  it("each group is normalised alone: scaling one group leaves the others unchanged", () => {
    const norm = new Norm({ kind: "rms", features, eps: 1e-6, groups: 2 }, gain, backend);
    const a = hostArray(norm.forward(x, tokens), "a");
    const scaled = x.slice();
    for (let i = 0; i < features / 2; i++) scaled[i] = scaled[i]! * 10;
    const b = hostArray(norm.forward(scaled, tokens), "b");
    expect([...b.subarray(features / 2, features)]).toEqual([...a.subarray(features / 2, features)]);
  });
  it("keeps its gain in the host backend's own memory (allocF32), a copy of the one it was given", () => {
    const given = gain.slice();
    let allocated: Float32Array | undefined;
    const counting = { ...backend, allocF32: (n: number) => (allocated = new Float32Array(n)) } as typeof backend;
    const norm = new Norm({ kind: "rms", features, eps: 1e-6 }, given, counting);
    expect(norm.gain).toBe(allocated);
    expect([...norm.gain]).toEqual([...gain]);
    given.fill(0); // the caller's array is not read again
    close(norm.forward(x, tokens), float64Norm(x, tokens, features, gain, 1e-6, "rms", 1));
  });
  it("refuses a bad spec or gain, naming the field", () => {
    expect(() => new Norm({ kind: "rms", features: 10, eps: 1e-6, groups: 3 }, new Float32Array(10), backend)).toThrow("norm.groups: expected a positive integer dividing features 10, got 3");
    expect(() => new Norm({ kind: "rms", features: 10, eps: 1e-6 }, new Float32Array(9), backend)).toThrow(new LayerSpecError("norm gain: has 9 values, expected 10"));
  });
});
