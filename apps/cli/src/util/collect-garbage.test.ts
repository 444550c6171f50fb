import { describe, expect, it } from "vitest";
import { collectGarbage } from "./collect-garbage";

describe("collectGarbage", () => {
  it("frees ArrayBuffers nothing references any more, without --expose-gc", () => {
    let held: Uint8Array | undefined = new Uint8Array(256 * 2 ** 20).fill(1);
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    expect(held.length).toBe(256 * 2 ** 20);
    held = undefined;
    collectGarbage();
    collectGarbage(); // the second call reuses the collector it found
    expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(255 * 2 ** 20);
  });
});
