import { describe, expect, it } from "vitest";
import { FORMATS } from "./formats/format-table";
import { formatReportTable, formatsReport } from "./formats-report";

describe("formatsReport", () => {
  // deterministic, roughly Gaussian weights (a sum of four uniforms from an LCG)
  let s = 7;
  const u = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const rows = 4;
  const cols = 256;
  const w = Float32Array.from({ length: rows * cols }, () => 0.02 * (u() + u() + u() + u()));
  const report = formatsReport(w, rows, cols);
  const row = (format: string) => report.find((r) => r.format === format)!;

  it("lists every format of the table, the ternary code-only layouts through their own pack/unpack", () => {
    for (const f of FORMATS) expect(report.map((r) => r.format)).toContain(f.name);
    // onebit-t2, onebit-t1 and hf-packed hold the same absmean codes: the same error, their own sizes (+ one f32 scale)
    expect(row("onebit-t1").rmsError).toBe(row("onebit-t2").rmsError);
    expect(row("hf-packed").rmsError).toBe(row("onebit-t2").rmsError);
    expect(row("onebit-t1").bytes).toBe(rows * 64 + 4); // 256 columns pad to 320: 4 blocks of 16 bytes
    expect(row("onebit-t2").bytes).toBe(rows * 64 + 4);
    expect(row("onebit-b1").bitsPerWeight).toBeCloseTo(1 + 32 / (rows * cols), 12);
    expect(formatReportTable(report)).toMatch(/onebit-t1 +ternary absmean/);
  });

  it("stores 1.6 bits per weight in onebit-t1 when rows are whole blocks", () => {
    const w2 = Float32Array.from({ length: 2 * 160 }, (_, i) => Math.sin(i));
    expect(formatsReport(w2, 2, 160).find((r) => r.format === "onebit-t1")!.bitsPerWeight).toBeCloseTo(1.6 + 32 / 320, 12);
  });
});
