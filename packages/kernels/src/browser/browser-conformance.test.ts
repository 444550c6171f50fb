/**
 * The conformance suite in a real browser: bundles conformance-page.ts with esbuild, serves it cross-origin
 * isolated (COOP + COEP, so SharedArrayBuffer and shared WebAssembly.Memory exist), and drives Debian's Chromium
 * with Playwright. Runs the webgl backend (WebGL2 on SwiftShader when there is no GPU), wasm on 1 thread (page;
 * baseline and relaxed SIMD) and on 2 threads (Web Workers), each through every case in conformance-cases.ts.
 * Chromium is found at $CHROMIUM_PATH or /usr/bin/chromium; CI installs it (.ci/apt-packages). Outside CI a
 * machine without Chromium skips this file with a warning; in CI a missing Chromium fails it.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type PageRun, runPageInChromium, skipBrowserTests } from "@onebit/browser-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFORMANCE_CASES } from "../conformance-cases";
import type { BrowserConformanceReport } from "./conformance-page";

const CONFIGS = ["webgl (WebGL2, gpu.js)", "wasm baseline SIMD, 1 thread (page)", "wasm relaxed SIMD, 1 thread (page)", "wasm relaxed SIMD, 2 threads (Web Worker)"];

describe.skipIf(skipBrowserTests("browser conformance"))("conformance in Chromium (Playwright)", () => {
  let run: PageRun<BrowserConformanceReport> | undefined;
  let report: BrowserConformanceReport;
  let consoleLines: string[] = [];

  beforeAll(async () => {
    run = await runPageInChromium<BrowserConformanceReport>({
      entry: join(dirname(fileURLToPath(import.meta.url)), "conformance-page.ts"),
      title: "onebit kernels conformance",
      globalName: "__onebitConformance",
      timeoutMs: 240_000,
    });
    report = run.report;
    consoleLines = run.console;
  }, 300_000);

  afterAll(async () => {
    await run?.close();
  });

  it("the page is cross-origin isolated and has WebGL2", () => {
    expect(report.fatal, `${report.fatal}\n${consoleLines.join("\n")}`).toBeUndefined();
    expect(report.crossOriginIsolated).toBe(true);
    expect(report.webglRenderer).not.toBe("no WebGL2");
    console.log(`Chromium: ${report.userAgent}; WebGL2 renderer: ${report.webglRenderer}`);
  });

  for (const config of CONFIGS)
    it(`${config}: every conformance case passes`, () => {
      const mine = report.results.filter((r) => r.config === config);
      const failures = mine.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`);
      expect(failures, consoleLines.join("\n")).toEqual([]);
      expect(mine.map((r) => r.name)).toEqual(CONFORMANCE_CASES.map((c) => c.name));
    });
});
