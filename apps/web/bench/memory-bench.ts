/**
 * The playground's resident memory while it decodes a model file, in Chromium: `BENCH_MODEL=<file.gguf> pnpm --filter
 * @onebit/web bench:memory`. The built site is served cross-origin isolated; the file goes in through the page's file
 * picker (as a user opens it), on wasm (BENCH_THREADS, default 2; int4 LM head, the page's default), then the Speed
 * test runs (BENCH_PROMPT, default 64, then BENCH_DECODE, default 16 steps). Printed: the RSS of the tab's renderer
 * process — the page and its model worker, whose wasm memory holds the weights — read from /proc (Linux), its peak,
 * and the decode speed; compare with the native engine's peak on the same file (`/usr/bin/time -f %M llama-bench -m
 * <file> …`, or `pnpm bench:model` with LLAMA_BENCH). Chromium runs with `--js-flags=--expose-gc` so the worker can
 * collect the copies it released before the numbers are read (a page without the flag has no `gc` and skips it).
 * BENCH_NO_BUILD=1 reuses dist/.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM_PATH } from "@onebit/browser-harness";
import { chromium } from "playwright-core";
import { startStaticServer } from "../scripts/static-server";

const appRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const file = process.env.BENCH_MODEL;
if (!file || !existsSync(file)) throw new Error(`BENCH_MODEL=<a model file> is required (got ${JSON.stringify(file)})`);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const PROMPT = Number(process.env.BENCH_PROMPT ?? 64);
const DECODE = Number(process.env.BENCH_DECODE ?? 16);
const mb = (b: number) => (b / 1e6).toFixed(0);

/** Resident and peak resident bytes (VmRSS, VmHWM) of this process's descendants whose command line says `--type=renderer`. */
function rendererMemory(): { rss: number; peak: number; pids: number[] } {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // (the process ended while the table was read)
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let rss = 0;
  let peak = 0;
  const pids: number[] = [];
  for (const pid of parent.keys()) {
    if (!descends(pid)) continue;
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmd.includes("--type=renderer")) continue;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    rss += kb("VmRSS");
    peak += kb("VmHWM");
    pids.push(pid);
  }
  return { rss, peak, pids };
}

if (!process.env.BENCH_NO_BUILD) execFileSync(process.execPath, [join(appRoot, "node_modules", "vite", "bin", "vite.js"), "build", "--logLevel", "warn"], { cwd: appRoot, stdio: "inherit" });
const server = await startStaticServer({ root: join(appRoot, "dist") });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox", "--js-flags=--expose-gc"] });
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error(`pageerror: ${e.message}`));
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready=true]");
  const before = rendererMemory();
  await page.selectOption("[name=backend]", "wasm");
  await page.fill("[name=threads]", String(THREADS));
  await page.selectOption("[name=lm-head]", "int4");
  await page.fill("[name=bench-prompt]", String(PROMPT));
  await page.fill("[name=bench-decode]", String(DECODE));
  const t0 = performance.now();
  await page.setInputFiles("[data-testid=model-files]", file);
  await page.waitForFunction(`(document.querySelector("[data-testid=load-status]")?.textContent ?? "").startsWith("loaded") || document.querySelector("#run .message.error") !== null`, undefined, { timeout: 900_000 });
  const errors = async () => (await page.locator("#run .message.error .text").allInnerTexts()).join("\n");
  if (await errors()) throw new Error(`loading ${file}: ${await errors()}`);
  const loadSeconds = (performance.now() - t0) / 1000;
  const loaded = rendererMemory();
  await page.click("[data-testid=speed-test]");
  await page.waitForSelector("[data-testid=speed-result][data-decode-tokens-per-second], #run .message.error", { timeout: 900_000 });
  if (await errors()) throw new Error(`speed test: ${await errors()}`);
  const speed = (await page.evaluate(`({ ...document.querySelector("[data-testid=speed-result]").dataset })`)) as Record<string, string>;
  const after = rendererMemory();
  const notes = await page.locator("[data-testid=model-info] .notes li").allInnerTexts();
  console.log(`${file} (${mb(statSync(file).size)} MB) in ${(await page.evaluate("navigator.userAgent") as string).match(/Chrome\/[\d.]+/)?.[0]}, wasm ${THREADS} threads, int4 LM head`);
  console.log(`  notes: ${notes.join(" · ")}`);
  console.log(`  opened in ${loadSeconds.toFixed(1)} s; speed test (${PROMPT}-token prompt, ${DECODE} steps): prefill ${Number(speed.prefillTokensPerSecond).toFixed(1)} tok/s, decode ${Number(speed.decodeTokensPerSecond).toFixed(2)} tok/s`);
  console.log(`  renderer RSS: ${mb(before.rss)} MB before opening, ${mb(loaded.rss)} MB opened, ${mb(after.rss)} MB after decoding (peak ${mb(after.peak)} MB; ${after.pids.length} renderer process${after.pids.length === 1 ? "" : "es"})`);
} finally {
  await browser.close();
  await server.close();
}
