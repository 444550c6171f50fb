/**
 * Browser entry of the decode test (bundled by webgpu-decode.test.ts): the tiny trained model of
 * webgpu-decode-fixture.json run by @onebit/model's Transformer on wasm (1 thread, the page) and on webgpu, greedy
 * (temperature 0), with the LM head in f32 and in int8. Reports the generated tokens and the largest difference
 * of the prompt's logits between the two backends. Results land in `globalThis.__onebitWebgpuDecode`.
 * (It lives in @onebit/model, which depends on @onebit/kernels, so the kernels package stays free of the model.)
 */
import { type Backend, createBackend } from "@onebit/kernels";
import { generate } from "../generate";
import { Transformer } from "../transformer";
import { type DecodeFixture, type DecodeReport, fixtureWeights, NEW_TOKENS, PROMPTS } from "./webgpu-decode-fixture";

const scope = globalThis as unknown as { __onebitWebgpuDecode?: DecodeReport };
const report: DecodeReport = { available: false, runs: [], logitDiff: {} };

(async () => {
  const fixture = (await (await fetch("/fixture.json")).json()) as DecodeFixture;
  const weights = fixtureWeights(fixture);
  const wasm = await createBackend("wasm", { threads: 1 });
  let webgpu: Backend;
  try {
    webgpu = await createBackend("webgpu");
  } catch (e) {
    report.reason = (e as Error).message;
    return;
  }
  report.available = true;
  for (const lmHead of ["f32", "int8"] as const) {
    const logits: Float32Array[] = [];
    for (const backend of [wasm, webgpu]) {
      const model = new Transformer(fixture.spec, weights, { backend, lmHead });
      logits.push(await model.forwardAsync(PROMPTS[0]!, model.newCache({ maxTokens: 64 }), { allLogits: true }));
      for (const prompt of PROMPTS) {
        const t0 = performance.now();
        const tokens: number[] = [];
        for await (const t of generate(model, prompt, { maxTokens: NEW_TOKENS, temperature: 0, stopTokens: [] })) tokens.push(t.id);
        report.runs.push({ backend: backend.name, lmHead, prompt, tokens, ms: performance.now() - t0 });
        console.log(`${backend.name} (LM head ${lmHead}) ${prompt.join(" ")} → ${tokens.join(" ")} in ${(performance.now() - t0).toFixed(0)} ms`);
      }
    }
    const [a, b] = logits as [Float32Array, Float32Array];
    report.logitDiff[lmHead] = { maxDiff: Math.max(...a.map((v, i) => Math.abs(v - b[i]!))), maxLogit: Math.max(...a.map(Math.abs)) };
  }
  webgpu.dispose();
  wasm.dispose();
})()
  .catch((e) => {
    report.fatal = (e as Error).stack ?? String(e);
  })
  .finally(() => {
    scope.__onebitWebgpuDecode = report;
  });
