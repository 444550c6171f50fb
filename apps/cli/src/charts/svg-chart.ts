/** Histograms as a standalone SVG file: one panel per named histogram, stacked vertically. */
import type { Histogram } from "./histogram";

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

export function svgHistograms(panels: Array<{ title: string; histogram: Histogram }>, width = 640, panelHeight = 160): string {
  const pad = { left: 50, right: 10, top: 24, bottom: 22 };
  const parts: string[] = [];
  panels.forEach((p, idx) => {
    const y0 = idx * panelHeight;
    const h = p.histogram;
    const plotW = width - pad.left - pad.right;
    const plotH = panelHeight - pad.top - pad.bottom;
    const max = Math.max(1, ...h.counts);
    const bw = plotW / h.counts.length;
    parts.push(`<text x="${pad.left}" y="${y0 + 16}" font-size="13" font-family="sans-serif">${esc(p.title)} (n=${h.total}, zeros ${((100 * h.zeros) / Math.max(1, h.total)).toFixed(1)}%)</text>`);
    h.counts.forEach((c, i) => {
      const bh = (c / max) * plotH;
      parts.push(`<rect x="${(pad.left + i * bw).toFixed(2)}" y="${(y0 + pad.top + plotH - bh).toFixed(2)}" width="${Math.max(0.5, bw - 1).toFixed(2)}" height="${bh.toFixed(2)}" fill="#3b6fb6"/>`);
    });
    const yAxis = y0 + pad.top + plotH;
    parts.push(`<line x1="${pad.left}" y1="${yAxis}" x2="${width - pad.right}" y2="${yAxis}" stroke="#333"/>`);
    parts.push(`<text x="${pad.left}" y="${yAxis + 15}" font-size="11" font-family="sans-serif">${h.edges[0]!.toPrecision(3)}</text>`);
    parts.push(`<text x="${width - pad.right}" y="${yAxis + 15}" font-size="11" font-family="sans-serif" text-anchor="end">${h.edges[h.edges.length - 1]!.toPrecision(3)}</text>`);
    parts.push(`<text x="${pad.left - 4}" y="${y0 + pad.top + 10}" font-size="11" font-family="sans-serif" text-anchor="end">${max}</text>`);
  });
  const height = panels.length * panelHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="white"/>${parts.join("")}</svg>\n`;
}
