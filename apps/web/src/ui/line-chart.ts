/**
 * A line chart of several series over a shared x axis (training loss and validation perplexity, fp against 1-bit),
 * redrawn whole on each update — a few hundred points per series, so that is cheap.
 */
import { h } from "./dom";
import { svg, ticks, tickText } from "./svg";

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

export function lineChart(o: LineChartOptions, series: Series[]): HTMLElement {
  const W = o.width ?? 560;
  const H = o.height ?? 260;
  const m = { left: 56, right: 12, top: 12, bottom: 40 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": o.title, class: "chart line-chart" });
  const figure = h("figure", { class: "chart-figure" }, h("figcaption", {}, o.title), root);
  if (all.length === 0) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, "no data yet"));
    return figure;
  }
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const axes = svg("g", { class: "axes" });
  for (const t of ticks(y0, y1)) {
    axes.append(svg("line", { x1: m.left, x2: W - m.right, y1: py(t), y2: py(t), class: "grid" }));
    axes.append(svg("text", { x: m.left - 6, y: py(t) + 4, "text-anchor": "end" }, tickText(t)));
  }
  for (const t of ticks(x0, x1, 6)) axes.append(svg("text", { x: px(t), y: H - m.bottom + 16, "text-anchor": "middle" }, tickText(t)));
  axes.append(svg("line", { x1: m.left, x2: W - m.right, y1: H - m.bottom, y2: H - m.bottom, class: "axis" }));
  axes.append(svg("line", { x1: m.left, x2: m.left, y1: m.top, y2: H - m.bottom, class: "axis" }));
  axes.append(svg("text", { x: (m.left + W - m.right) / 2, y: H - 6, "text-anchor": "middle", class: "label" }, o.xLabel));
  axes.append(svg("text", { x: 12, y: (m.top + H - m.bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(m.top + H - m.bottom) / 2})`, class: "label" }, o.yLabel));
  root.append(axes);
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) continue;
    const d = pts.map(([x, y], i) => `${i === 0 ? "M" : "L"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
    root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dashed ? "5 4" : "none", class: "series", "data-series": s.name, "data-points": pts.length }));
    if (pts.length === 1) root.append(svg("circle", { cx: px(pts[0]![0]), cy: py(pts[0]![1]), r: 3, fill: s.color }));
  }
  figure.append(h("div", { class: "legend" }, ...series.map((s) => h("span", { class: "legend-item" }, h("i", { style: `background:${s.color}` }), s.name))));
  return figure;
}
