/**
 * The conformance suite in a real browser: bundles conformance-page.ts with esbuild, serves it cross-origin
 * isolated (COOP + COEP, so SharedArrayBuffer and shared WebAssembly.Memory exist), and drives Debian's Chromium
 * with Playwright. Runs the webgl backend (WebGL2 on SwiftShader when there is no GPU), wasm on 1 thread (page;
 * baseline and relaxed SIMD) and on 2 threads (Web Workers), each through every case in conformance-cases.ts.
 * Chromium is found at $CHROMIUM_PATH or /usr/bin/chromium; CI installs it (.ci/apt-packages). Outside CI a
 * machine without Chromium skips this file with a warning; in CI a missing Chromium fails it.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFORMANCE_CASES } from "../conformance-cases";
import type { BrowserConformanceReport } from "./conformance-page";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) console.warn(`browser conformance skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const CONFIGS = ["webgl (WebGL2, gpu.js)", "wasm baseline SIMD, 1 thread (page)", "wasm relaxed SIMD, 1 thread (page)", "wasm relaxed SIMD, 2 threads (Web Worker)"];

describe.skipIf(!haveChromium && !process.env.CI)("conformance in Chromium (Playwright)", () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let report: BrowserConformanceReport;
  const consoleLines: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
    const bundle = await build({
      entryPoints: [join(dirname(fileURLToPath(import.meta.url)), "conformance-page.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["source"],
      external: ["node:*"],
      write: false,
      logLevel: "silent",
    });
    const script = bundle.outputFiles[0]!.contents;
    server = createServer((req, res) => {
      res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
      if (req.url === "/") {
        res.setHeader("Content-Type", "text/html");
        res.end('<!doctype html><meta charset="utf-8"><title>onebit kernels conformance</title><script type="module" src="/conformance.js"></script>');
      } else if (req.url === "/conformance.js") {
        res.setHeader("Content-Type", "text/javascript");
        res.end(script);
      } else {
        if (req.url !== "/favicon.ico") consoleLines.push(`server: 404 for ${req.url}`);
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
    });
    const page = await browser.newPage();
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    try {
      await page.waitForFunction(() => (globalThis as { __onebitConformance?: unknown }).__onebitConformance !== undefined, null, { timeout: 240_000 });
    } catch (e) {
      throw new Error(`the conformance page did not finish: ${(e as Error).message}\npage console:\n${consoleLines.join("\n")}`);
    }
    report = (await page.evaluate(() => (globalThis as { __onebitConformance?: unknown }).__onebitConformance)) as BrowserConformanceReport;
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
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
