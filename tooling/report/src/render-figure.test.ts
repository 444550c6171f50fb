// One figure end to end from a small fixture (made-up numbers, not report data): the Vega-Lite spec the report
// uses for its scaling plot, rendered to SVG by vega and to PNG by resvg, in seconds.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderSvg, svgToPng } from "./figures/render-figure";
import { scalingPerplexitySpec } from "./sections/scaling-section";
import type { TrainingResults } from "./train/training-piece";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/scaling-fixture.json", import.meta.url), "utf8")) as TrainingResults;

describe("report figures", () => {
  it("renders the scaling figure to an SVG with axis titles, legend and caption, and to a PNG", async () => {
    const svg = await renderSvg(scalingPerplexitySpec(fixture));
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of ["non-embedding parameters (log scale)", "validation perplexity (log scale)", "model", "BitNet b1.58", "command: fixture (not a measurement)", "seeds:"]) expect(svg).toContain(text);
    const png = svgToPng(svg, 1);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(1000);
  });
});
