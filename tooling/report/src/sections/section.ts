/** What each report section hands back: its figures (Vega-Lite specs, rendered by main.ts) and its Markdown. */
import type { TopLevelSpec } from "vega-lite";

export interface SectionFigure {
  /** file name under docs/report/figures/, without extension */
  name: string;
  spec: TopLevelSpec;
}

export interface Section {
  title: string;
  figures: SectionFigure[];
  /** Markdown; `{{figure:name}}` is replaced by the figure's image and links */
  markdown: string;
}

export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}
