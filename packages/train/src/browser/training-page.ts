/**
 * Browser entry for the webgl training test (bundled by browser-training.test.ts with the "source" condition and
 * loaded into Chromium). It imports only @onebit/train/browser (../browser.ts), so the bundle proves that entry is
 * browser-safe. On the page: tfjs webgl (WebGL2; SwiftShader where there is no GPU), then
 *   1. the fake quantizers on the Node test's inputs (Node compares them with @onebit/quant),
 *   2. a BPE tokenizer trained in the page on the job's documents, and the packed token rows,
 *   3. trainInMemory on those rows (default backend in a browser: webgl), the per-step losses.
 * The job comes from /job.json; the report lands in `globalThis.__onebitTraining`.
 */
import type { ActivationQuant, WeightQuant } from "@onebit/layers";
import { type ModelSpec, trainBpeTokenizer } from "@onebit/model";
import {
  activationStatistic,
  defaultTrainBackend,
  fakeQuantActivation,
  fakeQuantWeight,
  splitDocuments,
  tf,
  tokenRows,
  trainInMemory,
  useTrainBackend,
  weightStatistics,
} from "../browser";

export interface QuantCase {
  name: string;
  /** which fake quantizer and its options, as ste-quant.ts takes them */
  target: "activation" | "weight";
  kind: string;
  options: Record<string, unknown>;
  shape: [number, number];
  x: number[];
}

export interface BrowserTrainingJob {
  documents: string[];
  vocabSize: number;
  seqLen: number;
  spec: ModelSpec;
  hyper: { steps: number; batchSize: number; lr: number; seed: number; evalBatches: number; warmupSteps: number };
  quantCases: QuantCase[];
}

export interface BrowserTrainingReport {
  userAgent: string;
  renderer: string;
  defaultBackend: string;
  backend: string;
  webglVersion: number;
  float32Textures: boolean;
  webglPack: boolean;
  /**
   * Per case: the fake-quantized values, and the statistics the quantizer scaled by, as webgl computed them
   * (activations: max|x| or mean|x| per token and group; weights: mean|W| and mean(W) per group).
   */
  quant: Array<{ name: string; values: number[]; stat: number[]; mean?: number[] }>;
  tokenizerVocab: number;
  trainRows: number[][];
  valRows: number[][];
  losses: number[];
  validationLoss: number;
  trainSeconds: number;
  /** useTrainBackend("webgl") with float32 render targets switched off: the error, and the backend left in place. */
  float16Refusal: string;
  backendAfterRefusal: string;
  fatal?: string;
}

function webglRenderer(): string {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return "no WebGL2";
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

const scope = globalThis as unknown as { __onebitTraining?: Partial<BrowserTrainingReport> };

(async () => {
  const report: Partial<BrowserTrainingReport> = { userAgent: navigator.userAgent, renderer: webglRenderer(), defaultBackend: defaultTrainBackend() };
  try {
    const job = (await (await fetch("/job.json")).json()) as BrowserTrainingJob;
    await useTrainBackend("webgl");
    report.backend = tf.getBackend();
    report.webglVersion = tf.env().getNumber("WEBGL_VERSION");
    report.float32Textures = tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED");
    report.webglPack = tf.env().getBool("WEBGL_PACK");

    report.quant = job.quantCases.map((c) =>
      tf.tidy(() => {
        const x = tf.tensor(c.x, c.shape);
        if (c.target === "activation") {
          const values = Array.from(fakeQuantActivation(x, c.kind as ActivationQuant, c.options).dataSync());
          const stat = Array.from(activationStatistic(x, c.kind as Exclude<ActivationQuant, "none">, (c.options.groups as number | undefined) ?? 1).dataSync());
          return { name: c.name, values, stat };
        }
        const values = Array.from(fakeQuantWeight(x, c.kind as WeightQuant, c.options).dataSync());
        const st = weightStatistics(x, c.options);
        return { name: c.name, values, stat: Array.from(st.absMean.dataSync()), mean: Array.from(st.mean.dataSync()) };
      }),
    );

    const corpus = { name: "job", documents: job.documents };
    const tokenizer = trainBpeTokenizer(splitDocuments(corpus).train.join("\n\n"), { vocabSize: job.vocabSize });
    const { trainRows, valRows } = tokenRows(corpus, tokenizer, job.seqLen);
    report.tokenizerVocab = tokenizer.vocabSize;
    report.trainRows = trainRows.map((r) => Array.from(r));
    report.valRows = valRows.map((r) => Array.from(r));

    const t0 = performance.now();
    const r = await trainInMemory({ spec: job.spec, trainRows, valRows, ...job.hyper }); // no backend named: webgl, the browser default
    report.trainSeconds = (performance.now() - t0) / 1000;
    report.backend = tf.getBackend();
    report.losses = r.history.map((h) => h.loss);
    report.validationLoss = r.validationLoss;

    // a WebGL without float32 render targets would make tfjs train in float16: useTrainBackend must refuse it
    await useTrainBackend("cpu");
    tf.env().set("WEBGL_RENDER_FLOAT32_ENABLED", false);
    try {
      await useTrainBackend("webgl");
      report.float16Refusal = "(no error)";
    } catch (e) {
      report.float16Refusal = (e as Error).message;
    }
    report.backendAfterRefusal = tf.getBackend();
    tf.env().set("WEBGL_RENDER_FLOAT32_ENABLED", true);
  } catch (e) {
    report.fatal = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
  }
  scope.__onebitTraining = report;
})();
