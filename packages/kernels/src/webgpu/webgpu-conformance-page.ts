/**
 * Browser entry for the webgpu checks (bundled by webgpu-conformance.test.ts and loaded into Chromium): the
 * shared conformance suite and the webgpu cases (webgpu-cases.ts), each against the js reference, on the backend
 * `createBackend("webgpu")` makes (on SwiftShader: one thread per BitLinear row), then the BitLinear cases again
 * with 64 and 4 threads per row (the layout a GPU gets). Results land in `globalThis.__onebitWebgpu`.
 */
import type { Backend } from "../backend";
import { createBackend } from "../backends";
import { CONFORMANCE_CASES } from "../conformance-cases";
import { createJsBackend } from "../js/js-backend";
import { navigatorGpu } from "./webgpu-api";
import { createWebgpuBackend, webgpuAvailability } from "./webgpu-backend";
import { BITLINEAR_CASE, ROW_LAYOUTS, WEBGPU_CASES } from "./webgpu-cases";

export interface WebgpuCaseResult {
  suite: string;
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
  measured?: Record<string, number>;
}

export interface WebgpuReport {
  available: boolean;
  reason?: string;
  adapter?: string;
  wgslFeatures: string[];
  userAgent: string;
  results: WebgpuCaseResult[];
  kernels?: string[];
  fatal?: string;
}

async function runCase(suite: string, name: string, fn: () => Promise<Record<string, number> | undefined>): Promise<WebgpuCaseResult> {
  const t0 = performance.now();
  let result: WebgpuCaseResult;
  try {
    const measured = await fn();
    result = { suite, name, ok: true, ms: performance.now() - t0, ...(measured ? { measured } : {}) };
  } catch (e) {
    result = { suite, name, ok: false, error: (e as Error).message, ms: performance.now() - t0 };
  }
  console.log(`webgpu ${suite}: ${name} ${result.ok ? "ok" : `FAILED (${result.error})`} in ${result.ms.toFixed(0)} ms`);
  return result;
}

const scope = globalThis as unknown as { __onebitWebgpu?: WebgpuReport };
const report: WebgpuReport = { available: false, wgslFeatures: [...(navigatorGpu()?.wgslLanguageFeatures ?? [])], userAgent: navigator.userAgent, results: [] };

(async () => {
  const availability = await webgpuAvailability();
  report.available = availability.available;
  report.reason = availability.reason;
  if (!availability.available) return;
  const adapter = await navigatorGpu()!.requestAdapter();
  report.adapter = [adapter?.info?.vendor, adapter?.info?.architecture, adapter?.info?.description].filter(Boolean).join(" ");
  const b: Backend = await createBackend("webgpu");
  const ref = createJsBackend();
  for (const c of CONFORMANCE_CASES) report.results.push(await runCase("conformance", c.name, async () => void (await c.run(b, ref))));
  for (const c of WEBGPU_CASES) report.results.push(await runCase("webgpu", c.name, () => c.run(b, ref)));
  report.kernels = b.kernels().map((k) => `${k.kernel}: ${k.source} — ${k.description} (${k.calls.native} calls)`);
  b.dispose();
  for (const lanes of ROW_LAYOUTS) {
    const rows = await createWebgpuBackend({ bitLinearLanesLog2: lanes });
    for (const c of CONFORMANCE_CASES.filter((c) => BITLINEAR_CASE.test(c.name)))
      report.results.push(await runCase(`conformance, ${2 ** lanes} threads per row`, c.name, async () => void (await c.run(rows, ref))));
    rows.dispose();
  }
})()
  .catch((e) => {
    report.fatal = (e as Error).stack ?? String(e);
  })
  .finally(() => {
    scope.__onebitWebgpu = report;
  });
