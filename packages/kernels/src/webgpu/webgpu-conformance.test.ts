/**
 * The webgpu backend, checked where it runs: in Debian's Chromium with WebGPU on SwiftShader (the flags
 * --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader give headless Chromium a CPU WebGPU adapter), through
 * every case of the shared conformance suite and the webgpu cases (webgpu-cases.ts), against the js reference.
 * In CI (CI=true) a missing Chromium or WebGPU fails; elsewhere it skips with a warning. In Node, where there is
 * no navigator.gpu, creating the backend must throw and list the backends that are available.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type PageRun, runPageInChromium, skipBrowserTests } from "@onebit/browser-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend } from "../backends";
import { CONFORMANCE_CASES } from "../conformance-cases";
import { webgpuAvailability } from "./webgpu-backend";
import { BITLINEAR_CASE, ROW_LAYOUTS, WEBGPU_CASES } from "./webgpu-cases";
import type { WebgpuReport } from "./webgpu-conformance-page";

const WEBGPU_CHROMIUM_ARGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"];

describe("webgpu where there is no WebGPU (Node)", () => {
  it("says why it is unavailable, and createBackend throws listing the available backends", async () => {
    expect(await webgpuAvailability()).toEqual({ available: false, reason: expect.stringContaining("navigator.gpu is absent") });
    await expect(createBackend("webgpu")).rejects.toThrow(/backend "webgpu" is not available here: navigator.gpu is absent .*; available backends: js, wasm/);
  });
});

describe.skipIf(skipBrowserTests("webgpu conformance"))("webgpu conformance in Chromium (WebGPU on SwiftShader)", () => {
  let run: PageRun<WebgpuReport> | undefined;
  let report: WebgpuReport;
  let log = "";

  beforeAll(async () => {
    run = await runPageInChromium<WebgpuReport>({
      entry: join(dirname(fileURLToPath(import.meta.url)), "webgpu-conformance-page.ts"),
      title: "onebit webgpu conformance",
      globalName: "__onebitWebgpu",
      timeoutMs: 150_000,
      browserArgs: WEBGPU_CHROMIUM_ARGS,
    });
    report = run.report;
    log = run.console.join("\n");
  }, 200_000);

  afterAll(async () => {
    await run?.close();
  });

  it("the page has a WebGPU adapter (in CI it must)", (ctx) => {
    expect(report.fatal, `${report.fatal}\n${log}`).toBeUndefined();
    if (!report.available && !process.env.CI) {
      console.warn(`webgpu conformance skipped: Chromium has no WebGPU adapter here (${report.reason})`);
      ctx.skip();
    }
    expect(report.available, report.reason).toBe(true);
    console.log(`Chromium: ${report.userAgent}; WebGPU adapter: ${report.adapter}; WGSL features: ${report.wgslFeatures.join(", ")}`);
  });

  const bitLinearCases = CONFORMANCE_CASES.filter((c) => BITLINEAR_CASE.test(c.name)).map((c) => c.name);
  for (const [suite, names, what] of [
    ["conformance", CONFORMANCE_CASES.map((c) => c.name), "every shared conformance case passes"],
    ...ROW_LAYOUTS.map((l) => [`conformance, ${2 ** l} threads per row`, bitLinearCases, `the BitLinear cases pass with ${2 ** l} threads per row (a GPU's layout)`] as const),
    ["webgpu", WEBGPU_CASES.map((c) => c.name), "every webgpu case passes"],
  ] as const)
    it(what, (ctx) => {
      if (!report.available && !process.env.CI) ctx.skip();
      const mine = report.results.filter((r) => r.suite === suite);
      expect(mine.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`), log).toEqual([]);
      expect(mine.map((r) => r.name)).toEqual(names);
      for (const r of mine) if (r.measured) console.log(`${r.name}: ${JSON.stringify(r.measured)}`);
    });
});
