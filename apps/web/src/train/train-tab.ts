/**
 * The Train tab: train tiny BitNet b1.58 / a4.8 / BitNet / fp models on the Brown corpus in this page with tfjs
 * (webgl unless the user picks wasm or cpu), one variant after another so the training-loss and validation-perplexity
 * curves of fp and 1-bit share a chart as they grow; then run a result in the Run tab or download it as a onebit
 * folder (.zip) or a GGUF file.
 */
import type { ModelSpec, ModelWeights } from "@onebit/model";
import type { Capabilities } from "../env/capabilities";
import { shippedModelUrl } from "../run/shipped-model";
import { field, h, numberInput, replace, select } from "../ui/dom";
import { lineChart, type Series } from "../ui/line-chart";
import { MessageBox } from "../ui/message-box";
import type { TrainClient } from "./train-client";
import type { TfBackend, TrainResultSummary, TrainSize, TrainVariant } from "./train-protocol";
import { TRAIN_SIZES, VARIANT_LABELS } from "./train-spec";

const COLORS: Record<TrainVariant, string> = { "b1.58": "#3b7dd8", "a4.8": "#8e5bd0", bitnet: "#e08a2c", fp: "#333333" };

interface Trained {
  result: TrainResultSummary;
  size: TrainSize;
  spec: ModelSpec;
  weights: ModelWeights;
  tokenizer: unknown;
}

export class TrainTab {
  readonly element: HTMLElement;
  readonly messages = new MessageBox();
  /** The Run tab opens a trained model (set by main.ts). */
  onRun?: (name: string, spec: ModelSpec, weights: ModelWeights, tokenizer: unknown) => void;
  private readonly variantBoxes = new Map<TrainVariant, HTMLInputElement>();
  private readonly size = select("size", Object.entries(TRAIN_SIZES).map(([k, v]) => [k, v.label]), "tiny");
  private readonly steps = numberInput("steps", 200, 1, 100000, 1);
  private readonly batch = numberInput("batch", 8, 1, 256, 1);
  private readonly seqLen = numberInput("seq-len", 64, 2, 255, 1);
  private readonly lr = h("input", { type: "text", name: "lr", value: "auto", size: 6, title: "peak learning rate; auto = 5e-3 for 1-bit, 3e-3 for fp (onebit train's defaults)" });
  private readonly evalEvery = numberInput("eval-every", 20, 1, 100000, 1);
  private readonly backend: HTMLSelectElement;
  private readonly trainButton = h("button", { class: "primary", "data-testid": "train" }, "Train");
  private readonly stopButton = h("button", { disabled: true, "data-testid": "train-stop" }, "Stop");
  private readonly status = h("div", { class: "status", "data-testid": "train-status" }, "");
  private readonly progress = h("progress", { max: 1, value: 0, "data-testid": "train-progress" });
  private readonly charts = h("div", { class: "two-col charts", "data-testid": "train-charts" });
  private readonly results = h("div", { class: "results", "data-testid": "train-results" });
  private readonly losses = new Map<TrainVariant, Array<[number, number]>>();
  private readonly perplexities = new Map<TrainVariant, Array<[number, number]>>();
  private readonly trained = new Map<TrainVariant, Trained>();
  private running = false;
  private stopped = false;

  constructor(
    private readonly client: TrainClient,
    caps: Capabilities,
  ) {
    this.backend = select(
      "tf-backend",
      [
        ["webgl", caps.webgl2 ? "webgl (default)" : "webgl — no WebGL2 here"],
        ["wasm", caps.crossOriginIsolated ? "wasm (SIMD, threads)" : "wasm (SIMD, no threads: not cross-origin isolated)"],
        ["cpu", "cpu (plain JavaScript, slow)"],
      ],
      "webgl",
    );
    const boxes = (Object.keys(VARIANT_LABELS) as TrainVariant[]).map((v) => {
      const box = h("input", { type: "checkbox", name: `variant-${v}`, "data-testid": `variant-${v}` });
      box.checked = v === "b1.58" || v === "fp";
      this.variantBoxes.set(v, box);
      return h("label", { class: "check" }, box, VARIANT_LABELS[v]);
    });
    this.trainButton.addEventListener("click", () => void this.train());
    this.stopButton.addEventListener("click", () => {
      this.stopped = true;
      this.client.send({ type: "stop" });
    });
    this.drawCharts();
    this.element = h(
      "section",
      { class: "tab-panel", id: "train", "data-testid": "train-tab" },
      this.messages.element,
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Train on the Brown corpus, in this page"),
        h("p", { class: "hint" }, "A slice of the Brown corpus (48 training and 4 validation documents of the split `onebit train --data brown` uses), encoded with the shipped model's 1024-token BPE. Variants train one after another on the same rows, batches and schedule."),
        h("div", { class: "row" }, ...boxes),
        h(
          "div",
          { class: "row" },
          field("size", this.size),
          field("steps", this.steps),
          field("batch", this.batch),
          field("sequence length", this.seqLen),
          field("peak lr", this.lr),
          field("validate every", this.evalEvery),
          field("tfjs backend", this.backend),
        ),
        h("div", { class: "row" }, this.trainButton, this.stopButton, this.progress, this.status),
      ),
      h("div", { class: "card" }, h("h2", {}, "Loss and perplexity: fp against 1-bit"), this.charts),
      h("div", { class: "card" }, h("h2", {}, "Results"), this.results),
    );
  }

  private drawCharts(): void {
    const series = (m: Map<TrainVariant, Array<[number, number]>>): Series[] => [...m].map(([v, points]) => ({ name: VARIANT_LABELS[v], color: COLORS[v], points, dashed: v === "fp" }));
    replace(
      this.charts,
      lineChart({ title: "Training loss", xLabel: "step", yLabel: "cross-entropy (nats)" }, series(this.losses)),
      lineChart({ title: "Validation perplexity", xLabel: "step", yLabel: "perplexity" }, series(this.perplexities)),
    );
  }

  private settings() {
    const int = (el: HTMLInputElement, name: string, min: number) => {
      const v = Number(el.value);
      if (!Number.isInteger(v) || v < min) throw new Error(`${name}: expected an integer ≥ ${min}, found ${JSON.stringify(el.value)}`);
      return v;
    };
    const variants = [...this.variantBoxes].filter(([, b]) => b.checked).map(([v]) => v);
    if (variants.length === 0) throw new Error("variants: tick at least one (b1.58 and fp to compare them)");
    const lrText = this.lr.value.trim();
    const lr = lrText === "" || lrText === "auto" ? undefined : Number(lrText);
    if (lr !== undefined && !(lr > 0 && lr < 1)) throw new Error(`peak lr: expected "auto" or a number in (0, 1), found ${JSON.stringify(lrText)}`);
    return {
      variants,
      size: this.size.value as TrainSize,
      steps: int(this.steps, "steps", 1),
      batchSize: int(this.batch, "batch", 1),
      seqLen: int(this.seqLen, "sequence length", 2),
      evalEvery: int(this.evalEvery, "validate every", 1),
      lr,
      backend: this.backend.value as TfBackend,
    };
  }

  private async train(): Promise<void> {
    if (this.running) return;
    let s: ReturnType<TrainTab["settings"]>;
    try {
      s = this.settings();
    } catch (e) {
      this.messages.show("error", (e as Error).message);
      return;
    }
    this.running = true;
    this.stopped = false;
    this.trainButton.disabled = true;
    this.stopButton.disabled = false;
    this.messages.clear();
    this.losses.clear();
    this.perplexities.clear();
    this.trained.clear();
    this.drawCharts();
    this.renderResults();
    const base = new URL("data/brown-slice.json", document.baseURI).href;
    try {
      for (const variant of s.variants) {
        if (this.stopped) break;
        const losses: Array<[number, number]> = [];
        const ppl: Array<[number, number]> = [];
        this.losses.set(variant, losses);
        this.perplexities.set(variant, ppl);
        let lastDraw = 0;
        const r = await this.client.request<"trained">(
          { type: "train", run: { variant, size: s.size, steps: s.steps, batchSize: s.batchSize, seqLen: s.seqLen, lr: s.lr, evalEvery: s.evalEvery, backend: s.backend, seed: 1, dataUrl: base, tokenizerUrl: `${shippedModelUrl()}tokenizer.json` } },
          (m) => {
            if (m.type === "status") this.status.textContent = `${VARIANT_LABELS[variant]}: ${m.text}`;
            if (m.type !== "step") return;
            losses.push([m.step, m.loss]);
            if (m.validationLoss !== undefined) ppl.push([m.step, Math.exp(m.validationLoss)]);
            this.progress.max = m.steps;
            this.progress.value = m.step;
            this.status.textContent = `${VARIANT_LABELS[variant]}: step ${m.step}/${m.steps} · loss ${m.loss.toFixed(3)} · ${m.tokensPerSecond.toFixed(0)} tokens/s`;
            // redraw at most a few times a second: the chart is rebuilt whole
            const now = performance.now();
            if (now - lastDraw > 250 || m.step === m.steps) {
              lastDraw = now;
              this.drawCharts();
            }
          },
        );
        // the final validation is the curve's last point (it replaces a periodic one at the same step)
        if (ppl.at(-1)?.[0] === r.result.steps) ppl.pop();
        ppl.push([r.result.steps, r.result.validationPerplexity]);
        this.trained.set(variant, { result: r.result, size: s.size, spec: r.spec, weights: r.weights, tokenizer: r.tokenizer });
        this.drawCharts();
        this.renderResults();
      }
      this.status.textContent = this.stopped ? "stopped" : "done";
      this.status.dataset.done = "true";
    } catch (e) {
      this.status.textContent = "failed";
      this.messages.show("error", (e as Error).message);
    } finally {
      this.running = false;
      this.trainButton.disabled = false;
      this.stopButton.disabled = true;
    }
  }

  private renderResults(): void {
    if (this.trained.size === 0) {
      replace(this.results, h("p", { class: "hint" }, "train a model to see its validation perplexity, run it and download it"));
      return;
    }
    const rows = [...this.trained].map(([variant, t]) => {
      const r = t.result;
      const name = `onebit-${variant}-${t.size}-brown`;
      const run = h("button", { "data-testid": `run-trained-${variant}` }, "Run it");
      run.addEventListener("click", () => this.onRun?.(`${VARIANT_LABELS[variant]} (trained here)`, t.spec, t.weights, t.tokenizer));
      const zip = h("button", { "data-testid": `download-onebit-${variant}` }, "onebit folder (.zip)");
      zip.addEventListener("click", () => void this.download(variant, name, "onebit"));
      const gguf = h("button", { "data-testid": `download-gguf-${variant}` }, "GGUF");
      gguf.addEventListener("click", () => void this.download(variant, name, "gguf"));
      return h(
        "tr",
        { "data-variant": variant },
        h("td", {}, VARIANT_LABELS[variant]),
        h("td", {}, `${r.steps}${r.stoppedEarly ? " (stopped)" : ""}`),
        h("td", {}, r.trainLoss.toFixed(3)),
        h("td", { class: "ppl" }, r.validationPerplexity.toFixed(1)),
        h("td", {}, `${r.tokensPerSecond.toFixed(0)} (${r.backend})`),
        h("td", {}, `${r.seconds.toFixed(1)} s`),
        h("td", {}, `${(r.parameters / 1e6).toFixed(2)} M`),
        h("td", { class: "actions" }, run, zip, gguf),
      );
    });
    const fp = this.trained.get("fp")?.result.validationPerplexity;
    replace(
      this.results,
      h(
        "table",
        { class: "results-table" },
        h("thead", {}, h("tr", {}, ...["model", "steps", "train loss", "val. perplexity", "tokens/s", "time", "parameters", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...rows),
      ),
      fp !== undefined && this.trained.size > 1
        ? h("p", { class: "hint" }, [...this.trained].filter(([v]) => v !== "fp").map(([v, t]) => `${VARIANT_LABELS[v]}: ${(100 * (t.result.validationPerplexity / fp - 1)).toFixed(1)} % perplexity vs fp`).join(" · "))
        : null,
    );
  }

  private async download(variant: TrainVariant, name: string, format: "onebit" | "gguf"): Promise<void> {
    const t = this.trained.get(variant);
    if (!t) return;
    try {
      const r = await this.client.request<"exported">({ type: "export", format, name, spec: t.spec, weights: t.weights, tokenizer: t.tokenizer });
      const a = h("a", { href: URL.createObjectURL(r.file), download: r.fileName });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
      for (const n of r.notes) this.messages.show("info", `${r.fileName}: ${n}`);
    } catch (e) {
      this.messages.show("error", (e as Error).message);
    }
  }
}
