/**
 * Browser entry for the conformance suite (bundled by browser-conformance.test.ts and loaded into Chromium).
 * On the page: the webgl backend (WebGL2 through gpu.js) and wasm on 1 thread, baseline and relaxed SIMD (a page's
 * main thread may not block in Atomics.wait, so it cannot drive worker threads). The same bundle, started as a
 * module Web Worker, runs wasm (relaxed SIMD) on 2 threads — the worker blocks while its own Web Workers share its WebAssembly.Memory.
 * Results land in `globalThis.__onebitConformance`.
 */
import type { Backend } from "../backend";
import { createBackend } from "../backends";
import { CONFORMANCE_CASES } from "../conformance-cases";
import { createJsBackend } from "../js/js-backend";

export interface BrowserCaseResult {
  config: string;
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export interface BrowserConformanceReport {
  results: BrowserCaseResult[];
  crossOriginIsolated: boolean;
  webglRenderer: string;
  userAgent: string;
  fatal?: string;
}

async function runConfig(config: string, make: () => Promise<Backend>): Promise<BrowserCaseResult[]> {
  let backend: Backend;
  try {
    backend = await make();
  } catch (e) {
    return [{ config, name: "create the backend", ok: false, error: (e as Error).message, ms: 0 }];
  }
  const ref = createJsBackend();
  const results: BrowserCaseResult[] = [];
  for (const c of CONFORMANCE_CASES) {
    const t0 = performance.now();
    try {
      await c.run(backend, ref);
      results.push({ config, name: c.name, ok: true, ms: performance.now() - t0 });
    } catch (e) {
      results.push({ config, name: c.name, ok: false, error: (e as Error).message, ms: performance.now() - t0 });
    }
    const r = results[results.length - 1]!;
    console.log(`${config}: ${r.name} ${r.ok ? "ok" : `FAILED (${r.error})`} in ${r.ms.toFixed(0)} ms`);
  }
  backend.dispose();
  return results;
}

function webglRenderer(): string {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return "no WebGL2";
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

const scope = globalThis as unknown as { __onebitConformance?: BrowserConformanceReport; onmessage: unknown; postMessage(m: unknown): void };

if (typeof document === "undefined") {
  scope.onmessage = async () => scope.postMessage(await runConfig("wasm relaxed SIMD, 2 threads (Web Worker)", () => createBackend("wasm", { threads: 2, simd: "relaxed" })));
} else {
  const report: BrowserConformanceReport = { results: [], crossOriginIsolated: globalThis.crossOriginIsolated === true, webglRenderer: webglRenderer(), userAgent: navigator.userAgent };
  (async () => {
    report.results.push(...(await runConfig("webgl (WebGL2, gpu.js)", () => createBackend("webgl"))));
    report.results.push(...(await runConfig("wasm baseline SIMD, 1 thread (page)", () => createBackend("wasm", { threads: 1, simd: "baseline" }))));
    report.results.push(...(await runConfig("wasm relaxed SIMD, 1 thread (page)", () => createBackend("wasm", { threads: 1, simd: "relaxed" }))));
    const worker = new Worker(new URL(import.meta.url), { type: "module" });
    report.results.push(
      ...(await new Promise<BrowserCaseResult[]>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data as BrowserCaseResult[]);
        worker.onerror = (e) => reject(new Error(`conformance worker: ${e.message}`));
        setTimeout(() => reject(new Error("conformance worker: no answer within 120 s")), 120_000);
        worker.postMessage("run");
      })),
    );
    worker.terminate();
  })()
    .catch((e) => {
      report.fatal = (e as Error).stack ?? String(e);
    })
    .finally(() => {
      scope.__onebitConformance = report;
    });
}
