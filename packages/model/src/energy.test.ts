import { describe, expect, it } from "vitest";
import { estimateEnergy } from "./energy";
import { microSpec } from "./testing/micro-spec";

describe("energy (BitNet arXiv 2310.11453 energy table)", () => {
  it("counts INT8 adds against FP16 multiply-adds per block MAC", () => {
    const spec = microSpec("b1.58");
    const e = estimateEnergy(spec, 1, "7nm");
    // per layer: q 32·32 + k,v 2·(16·32) + o 32·32 + gate,up 2·(48·32) + down 32·48 = 1024+1024+1024+3072+1536 = 7680 MACs
    expect(e.macsPerToken).toBe(2 * 7680);
    expect(e.onebitPicojoules).toBeCloseTo(2 * 7680 * 0.007, 6);
    expect(e.fp16Picojoules).toBeCloseTo(2 * 7680 * (0.16 + 0.34), 6);
  });
});
