/** Horizontal bar charts for the terminal, drawn with eighth-block characters so small counts still show. */
import type { Histogram } from "./histogram";

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

export function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return "";
  const eighths = Math.round((value / max) * width * 8);
  return "█".repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-2)) return v.toExponential(1);
  return v.toFixed(a >= 100 ? 0 : 2);
}

/** A histogram as text lines: `[lo, hi) │████▌ count`. Adjacent bins are merged down to `rows` lines. */
export function terminalHistogram(h: Histogram, options: { title?: string; rows?: number; width?: number } = {}): string {
  const rows = Math.max(1, Math.min(options.rows ?? 16, h.counts.length));
  const width = options.width ?? 40;
  const per = Math.ceil(h.counts.length / rows);
  const merged: Array<{ lo: number; hi: number; count: number }> = [];
  for (let i = 0; i < h.counts.length; i += per) {
    const j = Math.min(h.counts.length, i + per);
    let count = 0;
    for (let k = i; k < j; k++) count += h.counts[k]!;
    merged.push({ lo: h.edges[i]!, hi: h.edges[j]!, count });
  }
  const max = Math.max(...merged.map((m) => m.count));
  const labels = merged.map((m) => `[${fmt(m.lo)}, ${fmt(m.hi)})`);
  const pad = Math.max(...labels.map((l) => l.length));
  const lines = merged.map((m, i) => `${labels[i]!.padStart(pad)} │${bar(m.count, max, width).padEnd(width)} ${m.count}`);
  const head = options.title ? [`${options.title}  (n=${h.total}, zeros ${(h.total ? (100 * h.zeros) / h.total : 0).toFixed(1)}%)`] : [];
  return [...head, ...lines].join("\n");
}
