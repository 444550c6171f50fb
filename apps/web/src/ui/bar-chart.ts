/**
 * Vertical bars, each stacked from segments (the −1 / 0 / +1 shares of a projection's weights), or one segment per
 * bar (scales, sparsity per layer). Bars are grouped (by layer) with a gap between groups; a group label sits under
 * each group, and every segment carries a <title> with its exact value.
 */
import { h } from "./dom";
import { svg, ticks, tickText } from "./svg";

export interface Bar {
  label: string;
  /** segments bottom to top */
  segments: Array<{ value: number; color: string; title: string }>;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** fixed top of the axis (1 for shares); default: the largest stack */
  yMax?: number;
  height?: number;
  legend?: Array<{ name: string; color: string }>;
  /** format of y tick labels */
  format?: (v: number) => string;
}

export function barChart(o: BarChartOptions, groups: BarGroup[]): HTMLElement {
  const bars = groups.reduce((n, g) => n + g.bars.length, 0);
  const gap = groups.length > 1 ? 6 : 0;
  const barW = Math.max(2, Math.min(18, Math.floor((900 - groups.length * gap) / Math.max(1, bars))));
  const m = { left: 56, right: 12, top: 12, bottom: 34 };
  const W = Math.max(320, m.left + m.right + bars * barW + groups.length * gap);
  const H = o.height ?? 220;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": o.title, class: "chart bar-chart" });
  const figure = h("figure", { class: "chart-figure" }, h("figcaption", {}, o.title), h("div", { class: "chart-scroll" }, root));
  const top = o.yMax ?? Math.max(1e-12, ...groups.flatMap((g) => g.bars.map((b) => b.segments.reduce((s, x) => s + x.value, 0))));
  const py = (y: number) => H - m.bottom - (y / top) * (H - m.top - m.bottom);
  const fmt = o.format ?? tickText;
  for (const t of ticks(0, top, 4)) {
    root.append(svg("line", { x1: m.left, x2: W - m.right, y1: py(t), y2: py(t), class: "grid" }));
    root.append(svg("text", { x: m.left - 6, y: py(t) + 4, "text-anchor": "end" }, fmt(t)));
  }
  root.append(svg("text", { x: 12, y: (m.top + H - m.bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(m.top + H - m.bottom) / 2})`, class: "label" }, o.yLabel));
  let x = m.left + gap / 2;
  // label every group unless they would overlap
  const labelEvery = Math.max(1, Math.ceil(28 / Math.max(1, (bars / Math.max(1, groups.length)) * barW + gap)));
  groups.forEach((g, gi) => {
    const start = x;
    for (const b of g.bars) {
      let y = 0;
      for (const s of b.segments) {
        const y0 = py(y);
        const y1 = py(y + s.value);
        root.append(svg("rect", { x: x + 0.5, y: y1, width: Math.max(1, barW - 1), height: Math.max(0, y0 - y1), fill: s.color, class: "segment" }, svg("title", {}, `${g.label} ${b.label}: ${s.title}`)));
        y += s.value;
      }
      x += barW;
    }
    if (gi % labelEvery === 0) root.append(svg("text", { x: (start + x) / 2, y: H - m.bottom + 14, "text-anchor": "middle" }, g.label));
    x += gap;
  });
  root.append(svg("line", { x1: m.left, x2: W - m.right, y1: H - m.bottom, y2: H - m.bottom, class: "axis" }));
  if (o.legend) figure.append(h("div", { class: "legend" }, ...o.legend.map((s) => h("span", { class: "legend-item" }, h("i", { style: `background:${s.color}` }), s.name))));
  return figure;
}
