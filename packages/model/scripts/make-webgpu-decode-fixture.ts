/**
 * Writes src/browser/webgpu-decode-fixture.json: a tiny b1.58 model (2 layers, hidden 64, ReLU² FFN, SubLN) trained by
 * @onebit/train on counting sequences mod 32 (step 1, 2, 3, 5 or 7 — the model must read the step from the
 * context), packed for inference. webgpu-decode.test.ts decodes it greedily on webgpu and wasm in Chromium.
 * Training takes about 40 s on two cores (tfjs wasm), so the result is committed; rerun after a change of the
 * packed formats:
 *   npx tsx --conditions=source packages/kernels/scripts/make-webgpu-decode-fixture.ts
 * (@onebit/train is imported by relative path: it depends on @onebit/model, so the model package cannot depend on it; this script is not part of the package).
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packLatentWeights, preset } from "../src/index";
import { trainInMemory } from "../../train/src/train-in-memory";

const spec = preset("b1.58", "tiny", {
  vocab_size: 32,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  max_position_embeddings: 64,
});
const seq = 16;
const rows: Int32Array[] = [];
for (let s = 0; s < 160; s++) {
  const step = [1, 2, 3, 5, 7][s % 5]!;
  rows.push(Int32Array.from({ length: seq + 1 }, (_, i) => (Math.floor(s / 5) + i * step) % 32));
}
const t0 = Date.now();
const result = await trainInMemory({ spec, trainRows: rows, valRows: rows.slice(0, 10), steps: 300, batchSize: 16, lr: 3e-3, seed: 1 });
console.log(`trained ${result.steps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s: validation loss ${result.validationLoss.toFixed(4)}`);

const weights: Record<string, unknown> = {};
const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
for (const [name, w] of packLatentWeights(spec, result.weights)) {
  if (w instanceof Float32Array) weights[name] = { f32: b64(w) };
  else if ("data" in w) weights[name] = { kind: w.kind, outFeatures: w.outFeatures, inFeatures: w.inFeatures, scaleAxis: w.scaleAxis, data: b64(w.data), scales: b64(w.scales) };
  else throw new Error(`${name}: unexpected tensor type`);
}
const out = join(dirname(fileURLToPath(import.meta.url)), "../src/browser/webgpu-decode-fixture.json");
writeFileSync(out, `${JSON.stringify({ about: "tiny b1.58 model trained on counting sequences mod 32 (scripts/make-webgpu-decode-fixture.ts)", validationLoss: result.validationLoss, spec, weights })}\n`);
console.log(`wrote ${out}`);
