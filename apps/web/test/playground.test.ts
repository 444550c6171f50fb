/**
 * The playground end to end: builds the site with vite, serves dist/ on 127.0.0.1 cross-origin isolated (COOP +
 * COEP, as scripts/static-server.ts does for `pnpm --filter @onebit/web serve`), and drives it in Debian's Chromium
 * through playwright-core (WebGL2 on SwiftShader where there is no GPU). It checks that the page loads isolated,
 * generates with the shipped model on wasm with 2 threads and on webgl, shows the look-inside charts, explains a file
 * that is not a model and a model too large for the tab in the page, opens a TQ2_0 GGUF picked from disk (its tensors
 * read from the file a piece at a time as the worker places them) and generates, trains fp and b1.58 for a few steps on webgl
 * with the chart drawn, exports the result (GGUF, and a onebit .zip that it opens again), and that a page served
 * without the isolation headers says so and still runs. A screenshot of each tab goes to apps/web/test-output/.
 * Any console error (page or worker) fails the test. Outside CI a machine without Chromium skips this file with a
 * warning; in CI it fails.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CHROMIUM_PATH, skipBrowserTests } from "@onebit/browser-harness";
import { convertModel, initWeights, openModel, preset, saveCheckpoint, trainBpeTokenizer } from "@onebit/model";
import { type Browser, type ConsoleMessage, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StaticServer, startStaticServer } from "../scripts/static-server";

const appRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(appRoot, "dist");
const outDir = join(appRoot, "test-output");

/** A page with every console error and page error it produced (its workers' included). */
interface Watched {
  page: Page;
  errors: string[];
  log: string[];
}

async function watch(browser: Browser, url: string): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 }, acceptDownloads: true });
  const w: Watched = { page, errors: [], log: [] };
  const onConsole = (where: string) => (m: ConsoleMessage) => {
    const line = `${where} ${m.type()}: ${m.text()}`;
    w.log.push(line);
    if (m.type() === "error") w.errors.push(line);
  };
  page.on("console", onConsole("page"));
  page.on("worker", (worker) => worker.on("console", onConsole(`worker ${worker.url().split("/").pop()}`)));
  page.on("pageerror", (e) => w.errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  return w;
}

const text = (w: Watched, testid: string) => w.page.locator(`[data-testid=${testid}]`).innerText();

/** Waits until the Run tab's load finished: "loaded in …" or an error message. */
async function waitLoaded(w: Watched): Promise<string> {
  await w.page.waitForFunction(() => {
    const s = document.querySelector("[data-testid=load-status]")?.textContent ?? "";
    return s.startsWith("loaded") || document.querySelector("#run .message.error") !== null;
  }, undefined, { timeout: 60_000 });
  return text(w, "load-status");
}

async function runErrors(w: Watched): Promise<string[]> {
  return w.page.locator("#run .message.error .text").allInnerTexts();
}

/** Generates `tokens` tokens greedily and returns the tokens made and the tokens/s line. */
async function generate(w: Watched, tokens: number): Promise<{ generated: number; rate: string; output: string }> {
  await w.page.fill("[name=temperature]", "0");
  await w.page.fill("[name=max-tokens]", String(tokens));
  await w.page.click("[data-testid=generate]");
  await w.page.waitForFunction(() => {
    const out = document.querySelector<HTMLElement>("[data-testid=output]");
    return out?.dataset.tokens !== undefined || document.querySelector("#run .message.error") !== null;
  }, undefined, { timeout: 90_000 });
  expect(await runErrors(w)).toEqual([]);
  const generated = Number(await w.page.locator("[data-testid=output]").getAttribute("data-tokens"));
  return { generated, rate: await text(w, "tokens-per-second"), output: await text(w, "output") };
}

describe.skipIf(skipBrowserTests("web playground end-to-end"))("the onebit playground in Chromium (built site, Playwright)", () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let plain: StaticServer | undefined;
  let w: Watched;

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    // the site as it ships: `vite build` of this checkout
    await promisify(execFile)(process.execPath, [join(appRoot, "node_modules", "vite", "bin", "vite.js"), "build", "--logLevel", "warn"], { cwd: appRoot, maxBuffer: 1 << 24 });
    server = await startStaticServer({ root: dist });
    plain = await startStaticServer({ root: dist, isolated: false });
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
    });
    w = await watch(browser, server.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await plain?.close();
  });

  it("loads cross-origin isolated, with WebGL2 and no warnings at the top", async () => {
    expect(await w.page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await text(w, "capabilities")).toMatch(/cross-origin isolated \(wasm threads\) · WebGL2/);
    expect(await w.page.locator("[data-testid=isolation-warning]").count()).toBe(0);
    expect(w.errors).toEqual([]);
  });

  it("generates with the shipped model on wasm with 2 threads", async () => {
    await w.page.selectOption("[name=backend]", "wasm");
    await w.page.fill("[name=threads]", "2");
    await w.page.click("[data-testid=open-shipped]");
    expect(await waitLoaded(w), (await runErrors(w)).join("\n")).toMatch(/^loaded in/);
    expect(await text(w, "model-info")).toMatch(/b1\.58/);
    // read from a URL: its weights go into the backend, not kept in the tab as well (switching backends reads them again)
    expect(await text(w, "model-info")).toMatch(/the weights live in the backend alone/);
    expect(await text(w, "backend-in-use")).toMatch(/^wasm · 2 threads · (relaxed|baseline) SIMD · LM head int4$/);
    const g = await generate(w, 24);
    expect(g.generated).toBeGreaterThan(1);
    expect(g.rate).toMatch(/^\d+(\.\d)? tokens\/s$/);
    expect(Number.parseFloat(g.rate)).toBeGreaterThan(0);
    expect(g.output.length).toBeGreaterThan("The jury said".length);
    // memory by component and sparsity after a run
    expect(await text(w, "runtime")).toMatch(/Memory by component[\s\S]*total[\s\S]*Activation sparsity[\s\S]*down/);
    console.log(`wasm, 2 threads: ${g.generated} tokens, ${g.rate}: ${JSON.stringify(g.output)}`);
    // Stop ends a long generation between tokens
    await w.page.fill("[name=max-tokens]", "400");
    await w.page.click("[data-testid=generate]");
    await w.page.waitForFunction(() => /tokens\/s · \d+ tokens/.test(document.querySelector("[data-testid=tokens-per-second]")?.textContent ?? ""), undefined, { timeout: 60_000 });
    await w.page.click("[data-testid=stop]");
    await w.page.waitForSelector("[data-testid=output][data-tokens]", { timeout: 60_000 });
    expect(await text(w, "generation-summary")).toMatch(/stopped: aborted$/);
    expect(Number(await w.page.locator("[data-testid=output]").getAttribute("data-tokens"))).toBeLessThan(400);
    // the speed test (benchmarkModel in the worker), small
    await w.page.fill("[name=bench-prompt]", "16");
    await w.page.fill("[name=bench-decode]", "8");
    await w.page.click("[data-testid=speed-test]");
    await w.page.waitForSelector("[data-testid=speed-result][data-decode-tokens-per-second]", { timeout: 60_000 });
    expect(Number(await w.page.locator("[data-testid=speed-result]").getAttribute("data-decode-tokens-per-second"))).toBeGreaterThan(0);
    expect(await text(w, "speed-result")).toMatch(/^wasm · 2 threads · (relaxed|baseline) SIMD · LM head int4: prefill [\d.]+ tokens\/s · decode [\d.]+ tokens\/s \(median step [\d.]+ ms\)$/);
    await w.page.screenshot({ path: join(outDir, "run-tab.png"), fullPage: true });
    expect(w.errors).toEqual([]);
  }, 120_000);

  it("switches to webgl and generates there", async () => {
    await w.page.selectOption("[name=backend]", "webgl");
    await w.page.click("[data-testid=apply-backend]");
    await w.page.waitForFunction(() => /^(webgl|none)/.test(document.querySelector("[data-testid=backend-in-use]")?.textContent ?? ""), undefined, { timeout: 60_000 });
    expect(await runErrors(w)).toEqual([]);
    expect(await text(w, "backend-in-use")).toBe("webgl · LM head int4");
    const g = await generate(w, 8);
    expect(g.generated).toBeGreaterThan(1);
    expect(Number.parseFloat(g.rate)).toBeGreaterThan(0);
    console.log(`webgl: ${g.generated} tokens, ${g.rate}`);
    expect(w.errors).toEqual([]);
  }, 150_000);

  it("looks inside: ternary shares, scales and ReLU² sparsity per layer, as charts", async () => {
    await w.page.click("[data-testid=tab-inspect]");
    await w.page.waitForSelector("[data-testid=inspect-body][data-layers='4']", { timeout: 30_000 });
    const captions = await w.page.locator("[data-testid=inspect-body] figcaption").allInnerTexts();
    expect(captions).toEqual([
      "Ternary weight distribution per layer (bars: q k v o gate up down)",
      expect.stringMatching(/^Weight scale per projection/),
      "ReLU² sparsity: share of zero inputs to the down projection, per layer",
      "Input sparsity per projection (share of zero activation codes)",
    ]);
    // 4 layers × 7 projections × 3 shares in the first chart
    expect(await w.page.locator("[data-testid=inspect-body] figure").first().locator("rect.segment").count()).toBe(4 * 7 * 3);
    await w.page.screenshot({ path: join(outDir, "inspect-tab.png"), fullPage: true });
    await w.page.click("[data-testid=tab-run]");
    expect(w.errors).toEqual([]);
  }, 60_000);

  it("says in the page that a file is not a model, and keeps the open one", async () => {
    await w.page.setInputFiles("[data-testid=model-files]", { name: "notes.gguf", mimeType: "application/octet-stream", buffer: Buffer.from("these are my notes, not a model\n") });
    await waitLoaded(w);
    const errors = await runErrors(w);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe('notes.gguf: magic: not a GGUF file (expected the bytes "GGUF" first, found the bytes "thes"); models are .gguf files or folders (or zips) with config.json');
    expect(await text(w, "load-status")).toMatch(/^still open: http:\/\/127\.0\.0\.1:\d+\/models\/b158-tiny-brown$/);
    expect(w.errors).toEqual([]);
  }, 60_000);

  it("opens a GGUF picked from disk: its TQ2_0 projections and Q6_K table read from the file as the worker places them", async () => {
    // 256-wide rows: every projection a TQ2_0 tensor, the (tied) embedding a Q6_K table — all left in the picked file
    // at load and read a piece at a time (FileReaderSync) while the wasm backend places them
    const spec = preset("b1.58", "tiny", { hidden_size: 256, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 300, max_position_embeddings: 64 });
    const tok = trainBpeTokenizer("The jury said the city was fine, and the city said the jury was fine. ".repeat(20), { vocabSize: 300 });
    const src = join(outDir, "picked-src");
    const gguf = join(outDir, "picked-tq2_0.gguf");
    rmSync(src, { recursive: true, force: true });
    await saveCheckpoint(src, { spec, weights: initWeights(spec, 11), tokenizer: tok.toJSON() });
    await convertModel(await openModel(src), gguf, { to: "gguf", type: "tq2_0", embeddingType: "q6_k", force: true });
    await w.page.selectOption("[name=backend]", "wasm");
    await w.page.setInputFiles("[data-testid=model-files]", gguf);
    expect(await waitLoaded(w), (await runErrors(w)).join("\n")).toMatch(/^loaded in/);
    expect(await text(w, "model-info")).toMatch(/8 tensors \([\d.]+ MiB\) are read from the file as the backend places them/);
    expect(await text(w, "backend-in-use")).toMatch(/^wasm · /);
    const g = await generate(w, 8);
    expect(g.generated).toBeGreaterThan(1);
    expect(w.errors).toEqual([]);
  }, 90_000);

  it("says in the page that a model is too large for the tab", async () => {
    const small = await watch(browser!, `${server!.url}?memory-limit-mib=0.5`);
    await small.page.click("[data-testid=open-shipped]");
    await waitLoaded(small);
    const errors = await runErrors(small);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/model\.safetensors: too large for this tab: it needs about [\d.]+ MiB \(its tensors, plus the backend's copy of them\), and this tab allows 0\.50 MiB \(the page's memory-limit-mib=0\.5 setting\); nothing was loaded$/);
    expect(await text(small, "load-status")).toBe("no model open");
    expect(small.errors).toEqual([]);
    await small.page.close();
  }, 60_000);

  it("trains fp and b1.58 for a few steps on webgl, charts them, runs and exports the result", async () => {
    await w.page.click("[data-testid=tab-train]");
    await w.page.selectOption("[name=size]", "micro");
    await w.page.fill("[name=steps]", "3");
    await w.page.fill("[name=batch]", "4");
    await w.page.fill("[name=seq-len]", "32");
    await w.page.fill("[name=eval-every]", "1");
    expect(await w.page.locator("[name=tf-backend]").inputValue()).toBe("webgl");
    await w.page.click("[data-testid=train]");
    await w.page.waitForFunction(() => {
      const s = document.querySelector<HTMLElement>("[data-testid=train-status]");
      return s?.dataset.done === "true" || document.querySelector("#train .message.error") !== null;
    }, undefined, { timeout: 150_000 });
    expect(await w.page.locator("#train .message.error .text").allInnerTexts()).toEqual([]);
    expect(await text(w, "train-status")).toBe("done");
    // both curves in both charts: 3 training losses, 3 validation points (the last one the final validation)
    const series = await w.page.locator("[data-testid=train-charts] path.series").evaluateAll((ps) => ps.map((p) => `${p.getAttribute("data-series")}:${p.getAttribute("data-points")}`));
    expect(series).toEqual(["BitNet b1.58:3", "fp baseline:3", "BitNet b1.58:3", "fp baseline:3"]);
    const rows = await w.page.locator("[data-testid=train-results] tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-variant")));
    expect(rows).toEqual(["b1.58", "fp"]);
    for (const ppl of await w.page.locator("[data-testid=train-results] td.ppl").allInnerTexts()) expect(Number(ppl)).toBeGreaterThan(1);
    expect(await w.page.locator("[data-testid=train-results] tbody tr td:nth-child(5)").allInnerTexts()).toEqual([expect.stringMatching(/\(webgl\)$/), expect.stringMatching(/\(webgl\)$/)]);
    await w.page.screenshot({ path: join(outDir, "train-tab.png"), fullPage: true });

    // GGUF download: a GGUF file
    const [gguf] = await Promise.all([w.page.waitForEvent("download"), w.page.click('[data-testid="download-gguf-b1.58"]')]);
    const ggufPath = join(outDir, gguf.suggestedFilename());
    await gguf.saveAs(ggufPath);
    expect(gguf.suggestedFilename()).toBe("onebit-b1.58-micro-brown.gguf");
    expect(readFileSync(ggufPath).subarray(0, 4).toString("latin1")).toBe("GGUF");
    // onebit folder as a zip, opened again in the Run tab, and it generates
    const [zip] = await Promise.all([w.page.waitForEvent("download"), w.page.click('[data-testid="download-onebit-b1.58"]')]);
    const zipPath = join(outDir, zip.suggestedFilename());
    await zip.saveAs(zipPath);
    await w.page.click("[data-testid=tab-run]");
    await w.page.selectOption("[name=backend]", "wasm");
    await w.page.setInputFiles("[data-testid=model-files]", zipPath);
    expect(await waitLoaded(w), (await runErrors(w)).join("\n")).toMatch(/^loaded in/);
    expect(await text(w, "model-info")).toMatch(/onebit-b1\.58-micro-brown[\s\S]*format\s+onebit[\s\S]*2 layers · hidden 64/);
    const onWasm = await generate(w, 4);
    expect(onWasm.generated).toBeGreaterThan(0);
    // a picked file's weights went into the backend; another backend reads the file again, and greedy decoding on
    // the js reference gives the same text (the wasm kernels equal it bit for bit)
    expect(await text(w, "model-info")).toMatch(/the weights live in the backend alone/);
    await w.page.selectOption("[name=backend]", "js");
    await w.page.click("[data-testid=apply-backend]");
    await w.page.waitForFunction(() => /^js/.test(document.querySelector("[data-testid=backend-in-use]")?.textContent ?? ""), undefined, { timeout: 60_000 });
    expect(await runErrors(w)).toEqual([]);
    expect(await generate(w, 4)).toMatchObject({ generated: onWasm.generated, output: onWasm.output });
    // "Run it" hands the trained weights to the Run tab directly
    await w.page.click("[data-testid=tab-train]");
    await w.page.click("[data-testid=run-trained-fp]");
    expect(await waitLoaded(w), (await runErrors(w)).join("\n")).toMatch(/^loaded in/);
    expect(await text(w, "model-info")).toMatch(/fp baseline \(trained here\)[\s\S]*variant\s+fp/);
    expect(await text(w, "model-info")).not.toMatch(/the weights live in the backend alone/); // (kept: nothing to read again)
    expect(w.errors, w.log.join("\n")).toEqual([]);
  }, 240_000);

  it("says what is missing on a page served without cross-origin isolation, and still runs on js", async () => {
    const p = await watch(browser!, plain!.url);
    expect(await p.page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
    expect(await text(p, "isolation-warning")).toMatch(/^This page is not cross-origin isolated .*so SharedArrayBuffer is missing: the wasm backend cannot run/);
    expect(await p.page.locator("[name=backend] option[value=wasm]").innerText()).toBe("wasm — needs cross-origin isolation");
    await p.page.screenshot({ path: join(outDir, "not-isolated.png"), fullPage: true });
    // wasm refused in the page, with the reason, and the page goes on
    await p.page.selectOption("[name=backend]", "wasm");
    await p.page.click("[data-testid=open-shipped]");
    await waitLoaded(p);
    expect((await runErrors(p))[0]).toMatch(/^backend "wasm": wasm backend needs SharedArrayBuffer \(in a browser: serve the page cross-origin isolated, COOP \+ COEP headers\)\. The model is loaded/);
    await p.page.selectOption("[name=backend]", "js");
    await p.page.click("[data-testid=apply-backend]");
    await p.page.waitForFunction(() => document.querySelector("[data-testid=backend-in-use]")?.textContent === "js · LM head int4");
    expect((await generate(p, 4)).generated).toBeGreaterThan(0);
    expect(p.errors).toEqual([]);
    await p.page.close();
  }, 90_000);

  it("no console errors in the whole run", () => {
    expect(w.errors, w.log.join("\n")).toEqual([]);
  });
});
