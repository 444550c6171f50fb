/**
 * Run a page script in a real browser, for tests: bundle `entry` with esbuild (the "source" export condition, so
 * workspace packages resolve to their TypeScript), serve it on 127.0.0.1 only — cross-origin isolated (COOP +
 * COEP, so SharedArrayBuffer and shared WebAssembly.Memory exist) — open it in Debian's Chromium through
 * playwright-core (WebGL2 on SwiftShader where there is no GPU), wait until the page sets
 * `globalThis[globalName]`, and hand back that report with the page's console.
 * Chromium comes from $CHROMIUM_PATH or /usr/bin/chromium; CI installs it (.ci/apt-packages).
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM_PATH);

/** Outside CI a machine without Chromium skips browser tests (with a warning); in CI it fails them. */
export function skipBrowserTests(what: string): boolean {
  if (!haveChromium && !process.env.CI) console.warn(`${what} skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return !haveChromium && !process.env.CI;
}

export interface PageRunOptions {
  /** The page script (TypeScript), bundled for the browser. */
  entry: string;
  title: string;
  /** The page reports by setting globalThis[globalName]. */
  globalName: string;
  timeoutMs: number;
  /** Extra files served beside the script: path ("/job.json") → body. */
  files?: Record<string, { contentType: string; body: string }>;
  /** Console lines to leave out of the log (noise). */
  ignoreConsole?: (text: string) => boolean;
  /**
   * Extra Chromium flags, after the defaults. WebGPU headless without a GPU:
   * ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"] (Chromium 156; no Vulkan feature flag needed).
   */
  browserArgs?: string[];
}

export interface PageRun<R> {
  report: R;
  /** The page's console, page errors and server 404s, in order. */
  console: string[];
  /** The bundled script. */
  bundleText: string;
  close(): Promise<void>;
}

export async function runPageInChromium<R>(o: PageRunOptions): Promise<PageRun<R>> {
  if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  const bundle = await build({
    entryPoints: [o.entry],
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
  const lines: string[] = [];
  const server: Server = createServer((req, res) => {
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    const file = o.files?.[req.url ?? ""];
    if (req.url === "/") {
      res.setHeader("Content-Type", "text/html");
      res.end(`<!doctype html><meta charset="utf-8"><title>${o.title}</title><script type="module" src="/page.js"></script>`);
    } else if (req.url === "/page.js") {
      res.setHeader("Content-Type", "text/javascript");
      res.end(script);
    } else if (file) {
      res.setHeader("Content-Type", file.contentType);
      res.end(file.body);
    } else {
      if (req.url !== "/favicon.ico") lines.push(`server: 404 for ${req.url}`);
      res.statusCode = 404;
      res.end();
    }
  });
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
  };
  try {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", ...(o.browserArgs ?? [])],
    });
    const page = await browser.newPage();
    page.on("console", (m) => {
      if (!o.ignoreConsole?.(m.text())) lines.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => lines.push(`pageerror: ${e.message}`));
    // only the navigation itself: a page's module can run its whole suite before "load" fires (awaits of promises
    // already settled never yield to the event loop), so on a slow host the default wait (load, 30 s) ran out while
    // the page was still within its own timeoutMs (2026-12-02: a fresh-clone CI run on a busy machine C, the kernels'
    // conformance page). The page's end is waitForFunction's to wait for.
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "commit", timeout: o.timeoutMs });
    try {
      await page.waitForFunction((name) => (globalThis as Record<string, unknown>)[name] !== undefined, o.globalName, { timeout: o.timeoutMs });
    } catch (e) {
      throw new Error(`the page "${o.title}" did not finish: ${(e as Error).message}\npage console:\n${lines.join("\n")}`);
    }
    const report = (await page.evaluate((name) => (globalThis as Record<string, unknown>)[name], o.globalName)) as R;
    return { report, console: lines, bundleText: bundle.outputFiles[0]!.text, close };
  } catch (e) {
    await close();
    throw e;
  }
}
