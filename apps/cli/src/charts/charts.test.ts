import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { histogram } from "./histogram";
import { crc32, encodePng, pngHistograms } from "./png-chart";
import { svgHistograms } from "./svg-chart";
import { bar, terminalHistogram } from "./terminal-chart";

describe("histogram", () => {
  it("bins values into equal-width bins and counts zeros", () => {
    const h = histogram([0, 0, 1, 2, 3, 4], 4);
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(h.counts).toEqual([2, 1, 1, 2]); // the max lands in the last bin
    expect(h.zeros).toBe(2);
    expect(h.total).toBe(6);
  });
  it("handles a constant input and refuses NaN", () => {
    expect(histogram([5, 5], 2).counts).toEqual([0, 2]);
    expect(() => histogram([1, Number.NaN])).toThrow(/value 1 is NaN/);
  });
});

describe("charts", () => {
  it("draws proportional bars with eighth blocks", () => {
    expect(bar(1, 1, 4)).toBe("████");
    expect(bar(1, 2, 4)).toBe("██");
    expect(bar(1, 16, 4)).toBe("▎");
    expect(bar(0, 16, 4)).toBe("");
  });
  it("renders a terminal histogram with one line per merged bin and the zero fraction", () => {
    const text = terminalHistogram(histogram([0, 0, 1, 2, 3, 4], 4), { title: "x", rows: 2, width: 8 });
    const lines = text.split("\n");
    expect(lines[0]).toBe("x  (n=6, zeros 33.3%)");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/\[0\.00, 2\.00\) │█+ 3$/);
  });
  it("writes an SVG with one rect per bin", () => {
    const svg = svgHistograms([{ title: "a<b", histogram: histogram([1, 2, 3], 3) }]);
    expect(svg.match(/<rect /g)?.length).toBe(1 + 3);
    expect(svg).toContain("a&lt;b");
  });
  it("encodes a valid PNG (CRC and zlib round trip)", () => {
    expect(crc32(new TextEncoder().encode("IEND"))).toBe(0xae426082); // the well-known IEND chunk CRC
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0]);
    const png = encodePng(2, 1, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idatLen = png.readUInt32BE(33);
    expect(png.toString("latin1", 37, 41)).toBe("IDAT");
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect([...raw]).toEqual([0, 255, 0, 0, 0, 255, 0]);
    expect(pngHistograms([histogram([1, 2, 3])]).length).toBeGreaterThan(100);
  });
});
