/**
 * Decode and prefill speed in Chromium (the built playground's Speed test: benchmarkModel in the model worker) beside
 * Node (benchmarkModel on the same backend, in this process), in one run: the shipped b1.58 tiny model and the
 * BitNet b1.58 2B4T shape with random ternary weights, wasm on 1 and 2 threads (and webgl and js for the tiny model).
 * Each configuration runs once in each to warm up (JIT, caches; not counted), then REPS times alternating Chromium
 * and Node, so both see the same machine (ours is shared: a ratio of two runs minutes apart says little); the table
 * gives medians. Both hold the 2B4T at once (≈ 3.5 GB each).
 * Both run the same kernel set: relaxed SIMD (Chromium has it; Node 20 gets it from the flag set below, as
 * `pnpm bench:model` does), or baseline SIMD in both for the rows BENCH_SIMD=baseline (or both) adds for the 2B4T.
 * Run: pnpm --filter @onebit/web bench  (env: BENCH_REPS=3, BENCH_PROMPT=64, BENCH_DECODE=32, BENCH_TINY=0 / BENCH_2B4T=0
 * to skip a model, BENCH_INT8=1 to add the 2B4T with the int8 LM head, BENCH_SIMD=auto|baseline|both for the 2B4T
 * rows in Chromium, BENCH_NO_BUILD=1 to reuse dist/)
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM_PATH } from "@onebit/browser-harness";
import { type Backend, createBackend } from "@onebit/kernels";
import { benchmarkModel, bitnet2B4TSpec, type ModelSpec, type ModelWeights, openModel, randomPackedWeights, Transformer } from "@onebit/model";
import { chromium, type Page } from "playwright-core";
import { startStaticServer } from "../scripts/static-server";

// relaxed SIMD in Node 20 (default from Node 22), before the first wasm backend checks for it
setFlagsFromString("--experimental-wasm-relaxed-simd");

const appRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const REPS = Number(process.env.BENCH_REPS ?? 3);
const PROMPT = Number(process.env.BENCH_PROMPT ?? 64);
const DECODE = Number(process.env.BENCH_DECODE ?? 32);
const WITH_2B4T = process.env.BENCH_2B4T !== "0";
const WITH_INT8 = process.env.BENCH_INT8 === "1";
const WITH_TINY = process.env.BENCH_TINY !== "0";
const SIMD_2B4T: Array<"auto" | "baseline"> = process.env.BENCH_SIMD === "both" ? ["auto", "baseline"] : process.env.BENCH_SIMD === "baseline" ? ["baseline"] : ["auto"];

interface Config {
  model: "tiny" | "2b4t";
  backend: "wasm" | "webgl" | "js";
  threads: number;
  lmHead: "f32" | "int8";
  /** the wasm kernel set, in the page and in Node alike */
  simd?: "auto" | "baseline";
}
interface Result {
  prefill: number;
  decode: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const label = (c: Config) => `${c.backend}${c.backend === "wasm" ? ` ${c.threads} thread${c.threads > 1 ? "s" : ""}, ${c.simd === "baseline" ? "baseline" : "relaxed"} SIMD` : ""}, LM head ${c.lmHead}`;

const configs: Config[] = [
  ...(WITH_TINY
    ? ([
        { model: "tiny", backend: "wasm", threads: 1, lmHead: "f32" },
        { model: "tiny", backend: "wasm", threads: 2, lmHead: "f32" },
        { model: "tiny", backend: "webgl", threads: 1, lmHead: "f32" },
        { model: "tiny", backend: "js", threads: 1, lmHead: "f32" },
      ] as Config[])
    : []),
  ...(WITH_2B4T
    ? SIMD_2B4T.flatMap((simd) =>
        (WITH_INT8 ? (["f32", "int8"] as const) : (["f32"] as const)).flatMap((lmHead) => [1, 2].map((threads): Config => ({ model: "2b4t", backend: "wasm", threads, lmHead, simd }))),
      )
    : []),
];

/** The page's Run tab, driven as a user would: the same controls, the Speed test button, the numbers it shows. */
class PageRunner {
  private open?: Config["model"];
  constructor(private readonly page: Page) {}

  private async errors(): Promise<string> {
    return (await this.page.locator("#run .message.error .text").allInnerTexts()).join("\n");
  }

  async setUp(c: Config): Promise<void> {
    const p = this.page;
    await p.selectOption("[name=backend]", c.backend);
    await p.fill("[name=threads]", String(c.threads));
    await p.selectOption("[name=lm-head]", c.lmHead);
    await p.selectOption("[name=simd]", c.simd ?? "auto");
    if (this.open !== c.model) {
      await p.click(c.model === "tiny" ? "[data-testid=open-shipped]" : "[data-testid=open-random-2b4t]");
      await p.waitForFunction(`(document.querySelector("[data-testid=load-status]")?.textContent ?? "").startsWith("loaded") || document.querySelector("#run .message.error") !== null`, undefined, { timeout: 600_000 });
      this.open = c.model;
    } else {
      await p.click("[data-testid=apply-backend]");
      await p.waitForFunction(`!/switching/.test(document.querySelector("[data-testid=backend-in-use]")?.textContent ?? "switching")`, undefined, { timeout: 300_000 });
    }
    const e = await this.errors();
    if (e) throw new Error(`chromium ${label(c)}: ${e}`);
  }

  async run(): Promise<Result & { backend: string }> {
    const p = this.page;
    await p.click("[data-testid=speed-test]");
    await p.waitForSelector("[data-testid=speed-result][data-decode-tokens-per-second], #run .message.error", { timeout: 600_000 });
    const e = await this.errors();
    if (e) throw new Error(e);
    const d = (await p.evaluate(`({ ...document.querySelector("[data-testid=speed-result]").dataset })`)) as Record<string, string>;
    return { prefill: Number(d.prefillTokensPerSecond), decode: Number(d.decodeTokensPerSecond), backend: d.backend ?? "?" };
  }
}

class NodeRunner {
  private open?: { model: Config["model"]; spec: ModelSpec; weights: ModelWeights };
  private backend?: Backend;
  private transformer?: Transformer;

  async setUp(c: Config): Promise<void> {
    if (this.open?.model !== c.model) {
      this.open = undefined; // one model at a time
      if (c.model === "tiny") {
        const m = await openModel(join(appRoot, "public", "models", "b158-tiny-brown"));
        this.open = { model: "tiny", spec: m.spec, weights: m.weights };
      } else {
        const spec = bitnet2B4TSpec();
        this.open = { model: "2b4t", spec, weights: randomPackedWeights(spec, 1) };
      }
    }
    this.dispose();
    this.backend = c.backend === "wasm" ? await createBackend("wasm", { threads: c.threads, simd: c.simd ?? "auto" }) : await createBackend(c.backend);
    this.transformer = new Transformer(this.open.spec, this.open.weights, { backend: this.backend, lmHead: c.lmHead });
  }

  run(): Result & { backend: string } {
    const r = benchmarkModel(this.transformer!, { promptTokens: PROMPT, decodeTokens: DECODE });
    const b = this.backend!;
    return { prefill: r.prefillTokensPerSecond, decode: r.decodeTokensPerSecond, backend: `${b.name}${b.name === "wasm" ? ` · ${b.threads} thread${b.threads > 1 ? "s" : ""} · ${b.simd} SIMD` : ""}` };
  }

  dispose(): void {
    this.transformer = undefined;
    this.backend?.dispose();
    this.backend = undefined;
  }
}

if (!process.env.BENCH_NO_BUILD) execFileSync(process.execPath, [join(appRoot, "node_modules", "vite", "bin", "vite.js"), "build", "--logLevel", "warn"], { cwd: appRoot, stdio: "inherit" });
const server = await startStaticServer({ root: join(appRoot, "dist") });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"] });
const rows: Array<{ c: Config; browser: Result; node?: Result; kernels: string }> = [];
const started = new Date().toISOString();
const load0 = loadavg()[0]!;
let userAgent = "";
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error(`pageerror: ${e.message}`));
  await page.goto(server.url);
  await page.waitForSelector("body[data-ready=true]");
  userAgent = (await page.evaluate("navigator.userAgent")) as string;
  await page.fill("[name=bench-prompt]", String(PROMPT));
  await page.fill("[name=bench-decode]", String(DECODE));
  const inPage = new PageRunner(page);
  const inNode = new NodeRunner();
  for (const c of configs) {
    // webgl in Node needs gpu.js's native `gl` module, which is not built here: Chromium only
    const withNode = c.backend !== "webgl";
    await inPage.setUp(c);
    if (withNode) await inNode.setUp(c);
    const b: Result[] = [];
    const n: Result[] = [];
    let kernels = "";
    for (let r = -1; r < REPS; r++) {
      const x = await inPage.run();
      const y = withNode ? inNode.run() : undefined;
      const tag = r < 0 ? " (warm-up)" : "";
      kernels = `Chromium: ${x.backend}${y ? `; Node: ${y.backend}` : ""}`;
      console.log(`${c.model}${tag}: Chromium (${x.backend}) prefill ${x.prefill.toFixed(1)} decode ${x.decode.toFixed(2)} tok/s${y ? ` · Node (${y.backend}) prefill ${y.prefill.toFixed(1)} decode ${y.decode.toFixed(2)} tok/s` : ""}`);
      if (r < 0) continue;
      b.push(x);
      if (y) n.push(y);
    }
    const med = (xs: Result[]) => ({ prefill: median(xs.map((x) => x.prefill)), decode: median(xs.map((x) => x.decode)) });
    rows.push({ c, browser: med(b), node: n.length ? med(n) : undefined, kernels });
  }
  inNode.dispose();
} finally {
  await browser.close();
  await server.close();
}

console.log(
  `\n${started} · ${cpus().length} × ${cpus()[0]?.model ?? "?"} · Node ${process.version} · ${userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? userAgent} (${CHROMIUM_PATH}) · load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} · prompt ${PROMPT} tokens, ${DECODE} decode steps, ${REPS} runs each after a warm-up (medians)\n`,
);
console.log("| model | backend | Chromium prefill tok/s | Chromium decode tok/s | Node prefill tok/s | Node decode tok/s | decode Chromium / Node |");
console.log("|---|---|---|---|---|---|---|");
for (const { c, browser: b, node: n } of rows) {
  const model = c.model === "tiny" ? "shipped b1.58 tiny" : "2B4T shape, random";
  console.log(`| ${model} | ${label(c)} | ${b.prefill.toFixed(1)} | ${b.decode.toFixed(2)} | ${n ? n.prefill.toFixed(1) : "—"} | ${n ? n.decode.toFixed(2) : "—"} | ${n ? `${(b.decode / n.decode).toFixed(2)}×` : "—"} |`);
}
console.log("\nkernels in use:");
for (const { c, kernels } of rows) console.log(`- ${c.model} ${label(c)}: ${kernels}`);
