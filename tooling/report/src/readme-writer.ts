/**
 * docs/report/README.md: the sections in order, each figure as its SVG (GitHub renders it) with links to the SVG
 * and PNG, the findings computed from the same JSON, and what the report does not reproduce.
 */
import type { Section } from "./sections/section";

export function assembleReadme(sections: Section[], findings: Record<string, string>, header: string, footer: string): string {
  const titles = new Map(sections.flatMap((s) => s.figures.map((f) => [f.name, (f.spec as { title?: { text?: string } }).title?.text ?? f.name] as const)));
  const body = sections
    .map((s) => {
      const md = s.markdown
        .replace(/\{\{figure:([\w.-]+)\}\}/g, (_, name: string) => `![${titles.get(name) ?? name}](figures/${name}.svg)\n\n[SVG](figures/${name}.svg) · [PNG](figures/${name}.png)`)
        .replace(/\{\{findings:([\w.-]+)\}\}/g, (_, key: string) => findings[key] ?? "");
      return `## ${s.title}\n\n${md}`;
    })
    .join("\n\n");
  return `${header}\n\n${body}\n\n${footer}\n`.replace(/\n{3,}/g, "\n\n");
}
