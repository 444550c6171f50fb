/**
 * A figure is a Vega-Lite spec: compiled by `vega-lite`, rendered to SVG by `vega` in Node (no browser, no canvas),
 * rasterised to PNG by `@resvg/resvg-js`. Every figure gets the same font (DejaVu Sans, present on Debian/Ubuntu;
 * resvg falls back to another system font elsewhere) and a white background so the PNG reads on dark themes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export const FONT = "DejaVu Sans";

export const BASE_CONFIG = {
  font: FONT,
  background: "white",
  padding: 12,
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start", subtitleFontSize: 10.5, subtitleColor: "#555" },
  header: { labelFontSize: 12, titleFontSize: 12 },
} as const;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const compiled = compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, background: "white", font: { loadSystemFonts: true, defaultFontFamily: FONT } });
  return r.render().asPng();
}

/** Writes `<dir>/<name>.svg` and `<dir>/<name>.png`; returns both paths. */
export async function writeFigure(dir: string, name: string, spec: TopLevelSpec): Promise<{ svg: string; png: string }> {
  mkdirSync(dir, { recursive: true });
  const svg = await renderSvg(spec);
  const paths = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`) };
  writeFileSync(paths.svg, svg);
  writeFileSync(paths.png, svgToPng(svg));
  return paths;
}
