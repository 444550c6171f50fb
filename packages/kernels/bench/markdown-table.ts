/** Print a benchmark's rows as a Markdown table, columns right-aligned to their widest cell. */
export function printMarkdownTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padStart(widths[i]!)).join(" | ")} |`;
  console.log(`\n${line(header)}`);
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}
