/**
 * Browser entry of the decode test (bundled by webgpu-decode.test.ts): the tiny trained model of
 * webgpu-decode-fixture.json run by @onebit/model's Transformer on wasm (1 thread, the page) and on webgpu, greedy
 * (temperature 0), with the LM head in f32 and in int8, and with every KV cache precision (f32, f16, 8-, 4- and
 * 3-bit; on webgpu the cache stays on the device), and a4.8's 4-bit QKV (4-bit queries over a 4-bit cache). Reports the generated tokens and the largest difference of the
 * prompt's logits between the two backends. Results land in `globalThis.__onebitWebgpuDecode`.
 * (It lives in @onebit/model, which depends on @onebit/kernels, so the kernels package stays free of the model.)
 */
import { type Backend, createBackend } from "@onebit/kernels";
import { generate } from "../generate";
import { Transformer } from "../transformer";
import { type DecodeFixture, type DecodeReport, fixtureWeights, KV_BITS, NEW_TOKENS, PROMPTS } from "./webgpu-decode-fixture";

const scope = globalThis as unknown as { __onebitWebgpuDecode?: DecodeReport };
const report: DecodeReport = { available: false, runs: [], logitDiff: {}, kvKernelCalls: {} };

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
    const kvChoices = lmHead === "f32" ? KV_BITS : ([32] as const);
    const label = (bits: number) => (bits === 32 ? lmHead : `${lmHead}, ${bits}-bit KV`);
    const logits = new Map<string, Float32Array[]>(kvChoices.map((b) => [label(b), []]));
    for (const backend of [wasm, webgpu]) {
      const model = new Transformer(fixture.spec, weights, { backend, lmHead });
      for (const bits of kvChoices) logits.get(label(bits))!.push(await model.forwardAsync(PROMPTS[0]!, model.newCache({ maxTokens: 64, bits }), { allLogits: true }));
      for (const kvBits of kvChoices)
        for (const prompt of PROMPTS) {
          const t0 = performance.now();
          const tokens: number[] = [];
          for await (const t of generate(model, prompt, { maxTokens: NEW_TOKENS, temperature: 0, stopTokens: [], kvBits })) tokens.push(t.id);
          report.runs.push({ backend: backend.name, lmHead, kvBits, prompt, tokens, ms: performance.now() - t0 });
          console.log(`${backend.name} (LM head ${lmHead}, ${kvBits}-bit KV) ${prompt.join(" ")} → ${tokens.join(" ")} in ${(performance.now() - t0).toFixed(0)} ms`);
        }
      if (lmHead === "f32") {
        // a4.8's 4-bit QKV heads: 4-bit queries (quantized on the device on webgpu) over a 4-bit cache
        const qkv4 = new Transformer(fixture.spec, weights, { backend, lmHead, queryBits: 4 });
        for (const prompt of PROMPTS) {
          const t0 = performance.now();
          const tokens: number[] = [];
          for await (const t of generate(qkv4, prompt, { maxTokens: NEW_TOKENS, temperature: 0, stopTokens: [], kvBits: 4 })) tokens.push(t.id);
          report.runs.push({ backend: backend.name, lmHead, kvBits: 4, queryBits: 4, prompt, tokens, ms: performance.now() - t0 });
          console.log(`${backend.name} (LM head ${lmHead}, 4-bit QKV) ${prompt.join(" ")} → ${tokens.join(" ")} in ${(performance.now() - t0).toFixed(0)} ms`);
        }
      }
    }
    for (const [name, [a, b]] of logits as Map<string, [Float32Array, Float32Array]>)
      report.logitDiff[name] = { maxDiff: Math.max(...a.map((v, i) => Math.abs(v - b[i]!))), maxLogit: Math.max(...a.map(Math.abs)) };
  }
  // the low-bit and f16 caches ran on the device's own KV kernels, never on the host
  for (const k of webgpu.kernels()) if (["quantizeUnsignedInto", "dequantizeUnsigned", "encodeHalf", "decodeHalf"].includes(k.kernel)) report.kvKernelCalls[k.kernel] = k.calls.native;
  webgpu.dispose();
  wasm.dispose();
})()
  .catch((e) => {
    report.fatal = (e as Error).stack ?? String(e);
  })
  .finally(() => {
    scope.__onebitWebgpuDecode = report;
  });
