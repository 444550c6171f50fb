/**
 * The decode test of the webgpu backend: a tiny b1.58 model trained on counting sequences (webgpu-decode-fixture.json,
 * made by scripts/make-webgpu-decode-fixture.ts) decoded greedily by @onebit/model's Transformer on wasm and on
 * webgpu in Chromium (WebGPU on SwiftShader): the same tokens, with the LM head in f32 and in int8, with f32, f16,
 * 8-, 4- and 3-bit KV caches (on webgpu kept, written and decoded on the device), and the continuation the model
 * was trained to produce. In CI a missing Chromium or WebGPU fails; elsewhere it skips.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type PageRun, runPageInChromium, skipBrowserTests } from "@onebit/browser-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DecodeReport, KV_BITS, NEW_TOKENS, PROMPTS } from "./webgpu-decode-fixture";

const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(skipBrowserTests("webgpu decode"))("decode on webgpu = decode on wasm (Chromium, WebGPU on SwiftShader)", () => {
  let run: PageRun<DecodeReport> | undefined;
  let report: DecodeReport;
  let log = "";

  beforeAll(async () => {
    run = await runPageInChromium<DecodeReport>({
      entry: join(here, "webgpu-decode-page.ts"),
      title: "onebit webgpu decode",
      globalName: "__onebitWebgpuDecode",
      timeoutMs: 300_000,
      files: { "/fixture.json": { contentType: "application/json", body: readFileSync(join(here, "webgpu-decode-fixture.json"), "utf8") } },
      browserArgs: ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"],
    });
    report = run.report;
    log = run.console.join("\n");
  }, 330_000);

  afterAll(async () => {
    await run?.close();
  });

  it("greedy tokens are the same on webgpu and wasm, and continue the trained sequences", (ctx) => {
    expect(report.fatal, `${report.fatal}\n${log}`).toBeUndefined();
    if (!report.available && !process.env.CI) {
      console.warn(`webgpu decode skipped: ${report.reason}`);
      ctx.skip();
    }
    expect(report.available, report.reason).toBe(true);
    const settings = [...KV_BITS.map((b) => ["f32", b, undefined] as const), ["f32", 4, 4] as const, ["int8", 32, undefined] as const];
    for (const [lmHead, kvBits, queryBits] of settings)
      for (const prompt of PROMPTS) {
        const where = `LM head ${lmHead}, ${queryBits ? "4-bit QKV" : `${kvBits}-bit KV`}, prompt ${prompt}`;
        const runs = report.runs.filter((r) => r.lmHead === lmHead && r.kvBits === kvBits && r.queryBits === queryBits && r.prompt.join() === prompt.join());
        const wasm = runs.find((r) => r.backend === "wasm")!;
        const webgpu = runs.find((r) => r.backend === "webgpu")!;
        expect(webgpu.tokens, where).toEqual(wasm.tokens);
        expect(webgpu.tokens).toHaveLength(NEW_TOKENS);
        // the model learned to count: the continuation keeps the prompt's step (mod 32)
        const step = (prompt[1]! - prompt[0]! + 32) % 32;
        expect(webgpu.tokens.slice(0, 8), where).toEqual(Array.from({ length: 8 }, (_, i) => (prompt[prompt.length - 1]! + (i + 1) * step) % 32));
      }
    for (const r of report.runs) console.log(`${r.backend} (LM head ${r.lmHead}, ${r.queryBits ? "4-bit QKV" : `${r.kvBits}-bit KV`}) ${r.prompt.join(" ")}: ${r.ms.toFixed(0)} ms`);
    for (const [lmHead, d] of Object.entries(report.logitDiff)) console.log(`prompt logits, LM head ${lmHead}: max |webgpu − wasm| ${d.maxDiff.toExponential(2)} (max |logit| ${d.maxLogit.toFixed(2)})`);
    // f16 and low-bit caches were written and decoded by webgpu's own kernels (the device path, no host decode)
    for (const k of ["quantizeUnsignedInto", "dequantizeUnsigned", "encodeHalf", "decodeHalf"]) expect(report.kvKernelCalls[k], k).toBeGreaterThan(0);
    console.log(`webgpu KV kernel calls: ${JSON.stringify(report.kvKernelCalls)}`);
  });
});
