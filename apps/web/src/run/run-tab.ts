/**
 * The Run tab: open a model (the shipped one, picked files, a folder, a zip, a URL, or the 2B4T shape with random
 * weights), choose the kernel backend, stream a generation with its sampling settings, and see tokens/s, memory by
 * component and activation sparsity. Everything heavy happens in the model worker; this file only talks to it.
 */
import type { ModelSpec, ModelWeights, NamedBlob } from "@onebit/model";
import type { Capabilities } from "../env/capabilities";
import type { MemoryBudget } from "../env/memory-budget";
import { bytes, field, h, numberInput, percent, replace, select, table } from "../ui/dom";
import { MessageBox } from "../ui/message-box";
import { stackedMeter } from "../ui/stacked-meter";
import type { ModelClient } from "./model-client";
import { SHIPPED_MODEL, shippedModelUrl } from "./shipped-model";
import type { BackendChoice, BackendInfo, FromWorker, ModelInfo, ModelRequest, RuntimeSummary } from "./worker-protocol";

export function describeBackend(b: BackendInfo): string {
  if (b.name === "wasm") return `wasm · ${b.threads} thread${b.threads === 1 ? "" : "s"} · ${b.simd ?? "?"} SIMD · LM head ${b.lmHead}`;
  return `${b.name} · LM head ${b.lmHead}`;
}

const MEMORY_PARTS: Array<[keyof RuntimeSummary["memory"], string, string]> = [
  ["embeddings", "embeddings", "#8aa1c1"],
  ["lmHead", "LM head (backend copy)", "#c9a26b"],
  ["attention", "attention projections", "#5b8def"],
  ["ffn", "FFN projections", "#47b39d"],
  ["norms", "norms", "#b07cc6"],
];

export class RunTab {
  readonly element: HTMLElement;
  readonly messages = new MessageBox();
  /** Called whenever a model is loaded or its backend changes (the Look-inside tab refreshes). */
  onModelChanged?: () => void;
  private info?: ModelInfo;
  private busy = false;
  private readonly progress = h("progress", { max: 1, value: 0, class: "load-progress", "data-testid": "load-progress" });
  private readonly status = h("span", { class: "status", "data-testid": "load-status" }, "no model open");
  private readonly modelInfo = h("div", { class: "model-info", "data-testid": "model-info" });
  private readonly urlInput = h("input", { type: "url", placeholder: "https://…/model.gguf, a .zip, or a folder URL ending in /", size: 48, "data-testid": "model-url" });
  private readonly fileInput = h("input", { type: "file", multiple: true, accept: ".gguf,.zip,.json,.safetensors", "data-testid": "model-files" });
  private readonly folderInput = h("input", { type: "file", multiple: true, "data-testid": "model-folder" });
  private readonly backendSelect: HTMLSelectElement;
  private readonly threads: HTMLInputElement;
  private readonly simd = select("simd", [["auto", "auto"], ["relaxed", "relaxed"], ["baseline", "baseline"]], "auto");
  // int4 by default, as `onebit generate`: the 2B4T head is 174 MB of wasm memory instead of 1.3 GB in f32
  private readonly lmHead = select("lm-head", [["f32", "f32 (exact)"], ["int8", "int8 (W8A16, faster)"], ["int4", "int4 (W4A8, fastest, ⅙ of f32's memory)"]], "int4");
  private readonly backendInUse = h("span", { class: "backend-in-use", "data-testid": "backend-in-use" }, "—");
  private readonly prompt = h("textarea", { rows: 3, "data-testid": "prompt" });
  private readonly temperature = numberInput("temperature", 0.8, 0, 5, 0.05);
  private readonly topK = numberInput("top-k", 40, 0, 100000, 1);
  private readonly topP = numberInput("top-p", 0.95, 0.01, 1, 0.01);
  private readonly maxTokens = numberInput("max-tokens", 64, 1, 4096, 1);
  private readonly seed = numberInput("seed", 0, 0, 2 ** 31 - 1, 1);
  private readonly generateButton = h("button", { class: "primary", "data-testid": "generate" }, "Generate");
  private readonly stopButton = h("button", { disabled: true, "data-testid": "stop" }, "Stop");
  private readonly output = h("pre", { class: "output", "data-testid": "output" });
  private readonly rate = h("div", { class: "rate", "data-testid": "tokens-per-second" }, "");
  private readonly summary = h("div", { class: "summary", "data-testid": "generation-summary" });
  private readonly runtime = h("div", { class: "runtime", "data-testid": "runtime" });
  private readonly benchButton = h("button", { "data-testid": "speed-test" }, "Speed test");
  private readonly benchPrompt = numberInput("bench-prompt", 32, 1, 4096, 1);
  private readonly benchDecode = numberInput("bench-decode", 16, 1, 1024, 1);
  private readonly benchResult = h("div", { class: "bench", "data-testid": "speed-result" });
  private readonly loadButtons: HTMLButtonElement[] = [];

  constructor(
    private readonly client: ModelClient,
    caps: Capabilities,
    private readonly budget: () => MemoryBudget,
  ) {
    this.folderInput.setAttribute("webkitdirectory", "");
    const canWasm = caps.sharedArrayBuffer;
    this.backendSelect = select(
      "backend",
      [
        ["wasm", canWasm ? "wasm (SIMD, threads)" : "wasm — needs cross-origin isolation"],
        ["webgl", caps.webgl2 ? "webgl (WebGL2)" : "webgl — no WebGL2 here"],
        ["webgpu", caps.webgpu ? "webgpu (activations stay on the GPU)" : "webgpu — no WebGPU in this browser"],
        ["js", "js (reference)"],
      ],
      canWasm ? "wasm" : caps.webgl2 ? "webgl" : "js",
    );
    this.threads = numberInput("threads", Math.min(caps.cores, 8), 1, Math.max(1, Math.min(caps.cores, 64)), 1);
    this.prompt.value = "The jury said";

    const shipped = h("button", { class: "primary", "data-testid": "open-shipped" }, `Open the shipped model (${SHIPPED_MODEL.name})`);
    shipped.addEventListener("click", () => this.load({ kind: "url", url: shippedModelUrl(), list: SHIPPED_MODEL.files }));
    const openUrl = h("button", { "data-testid": "open-url" }, "Open URL");
    openUrl.addEventListener("click", () => {
      const url = this.urlInput.value.trim();
      if (!url) this.messages.show("error", "URL: type the address of a .gguf file, a .zip, or a model folder (ending in /)");
      else this.load({ kind: "url", url });
    });
    const random = h("button", { "data-testid": "open-random-2b4t", title: "BitNet b1.58 2B4T's shape (2.4 B parameters) with random ternary weights: measures speed and memory; it has no tokenizer" }, "2B4T shape, random weights");
    random.addEventListener("click", () => this.load({ kind: "random-2b4t" }));
    this.loadButtons.push(shipped, openUrl, random);
    this.fileInput.addEventListener("change", () => this.pick(this.fileInput, false));
    this.folderInput.addEventListener("change", () => this.pick(this.folderInput, true));

    const apply = h("button", { "data-testid": "apply-backend" }, "Apply");
    apply.addEventListener("click", () => this.applyBackend());
    this.loadButtons.push(apply);
    this.generateButton.addEventListener("click", () => this.generate());
    this.stopButton.addEventListener("click", () => this.client.send({ type: "stop" }));
    this.benchButton.addEventListener("click", () => this.speedTest());
    this.setModelButtons(false);

    this.element = h(
      "section",
      { class: "tab-panel", id: "run", "data-testid": "run-tab" },
      this.messages.element,
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Model"),
        h("div", { class: "row" }, shipped, random),
        h("div", { class: "row" }, field("Files (.gguf, .zip, or a folder's files)", this.fileInput), field("Folder", this.folderInput)),
        h("div", { class: "row" }, field("URL", this.urlInput), openUrl),
        h("div", { class: "row" }, this.progress, this.status),
        this.modelInfo,
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Backend"),
        h("div", { class: "row" }, field("kernels", this.backendSelect), field("wasm threads", this.threads), field("wasm SIMD", this.simd), field("LM head", this.lmHead), apply),
        h("div", { class: "row" }, h("span", {}, "in use: "), this.backendInUse),
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Generate"),
        field("Prompt", this.prompt),
        h("div", { class: "row" }, field("temperature", this.temperature), field("top-k (0 = off)", this.topK), field("top-p", this.topP), field("max tokens", this.maxTokens), field("seed", this.seed)),
        h("div", { class: "row" }, this.generateButton, this.stopButton, this.rate),
        this.output,
        this.summary,
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Speed test"),
        h("p", { class: "hint" }, "A random prompt in one forward pass, then single-token decode steps (greedy, through the KV cache); the median step gives decode tokens/s — what BENCHMARKS.md quotes (benchmarkModel, as `pnpm bench:model` runs it in Node)."),
        h("div", { class: "row" }, field("prompt tokens", this.benchPrompt), field("decode steps", this.benchDecode), this.benchButton),
        this.benchResult,
      ),
      h("div", { class: "card" }, h("h2", {}, "Memory and sparsity"), this.runtime),
    );
  }

  private choice(): BackendChoice {
    return {
      name: this.backendSelect.value as BackendChoice["name"],
      threads: Math.max(1, Math.floor(Number(this.threads.value) || 1)),
      simd: this.simd.value as BackendChoice["simd"],
      lmHead: this.lmHead.value as BackendChoice["lmHead"],
    };
  }

  /** Whether a model is open (the Look-inside tab asks). */
  get hasModel(): boolean {
    return this.info !== undefined;
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    for (const b of this.loadButtons) b.disabled = busy;
    this.fileInput.disabled = busy;
    this.folderInput.disabled = busy;
    this.setModelButtons(!busy && this.info !== undefined);
  }

  private setModelButtons(enabled: boolean): void {
    this.generateButton.disabled = !enabled;
    this.benchButton.disabled = !enabled;
  }

  private pick(input: HTMLInputElement, folder: boolean): void {
    const list = [...(input.files ?? [])];
    input.value = "";
    if (list.length === 0) return;
    const files: NamedBlob[] = list.map((f) => ({ name: f.webkitRelativePath || f.name, blob: f }));
    const name = folder ? (list[0]!.webkitRelativePath.split("/")[0] ?? "folder") : list.length === 1 ? list[0]!.name : `${list.length} files`;
    void this.load({ kind: "files", name, files });
  }

  /** The worker died and took the model with it (main.ts calls this): say so, and offer to open one again. */
  modelLost(reason: string): void {
    this.info = undefined;
    this.status.textContent = "no model open";
    this.backendInUse.textContent = "—";
    replace(this.modelInfo);
    this.setBusy(false);
    this.messages.show("error", `${reason}. Open the model again.`);
  }

  /** Open a model the Train tab made (packed weights, its spec and tokenizer). */
  openTrained(name: string, spec: ModelSpec, weights: ModelWeights, tokenizer: unknown): Promise<boolean> {
    return this.load({ kind: "weights", name, spec, weights, tokenizer });
  }

  async load(source: ModelRequest): Promise<boolean> {
    if (this.busy) return false;
    this.setBusy(true);
    this.messages.clear();
    this.progress.removeAttribute("value"); // indeterminate until the first tensor
    this.status.textContent = "opening…";
    try {
      const r = await this.client.request<"loaded">({ type: "load", source, backend: this.choice(), budget: this.budget() }, (m: FromWorker) => {
        if (m.type !== "progress") return;
        this.progress.max = m.total;
        this.progress.value = m.done;
        this.status.textContent = `${m.phase}${m.total > 1 ? ` ${m.done}/${m.total}` : ""}`;
      });
      this.info = r.info;
      this.progress.max = 1;
      this.progress.value = 1;
      this.status.textContent = `loaded in ${r.info.loadSeconds.toFixed(1)} s`;
      this.showInfo(r.info);
      if (r.backend) this.backendInUse.textContent = describeBackend(r.backend);
      else this.backendInUse.textContent = "none";
      if (r.backendError) this.messages.show("error", `${r.backendError}. The model is loaded: pick another backend and press Apply.`);
      replace(this.runtime, h("p", { class: "hint" }, "generate some text to see memory by component and activation sparsity"));
      replace(this.output);
      replace(this.summary);
      this.rate.textContent = "";
      this.onModelChanged?.();
      return true;
    } catch (e) {
      this.progress.max = 1;
      this.progress.value = 0;
      this.status.textContent = this.info ? `still open: ${this.info.name}` : "no model open";
      this.messages.show("error", (e as Error).message);
      return false;
    } finally {
      this.setBusy(false);
    }
  }

  private showInfo(i: ModelInfo): void {
    replace(
      this.modelInfo,
      table([
        ["model", i.name],
        ["format", `${i.format} (architecture ${i.architecture})`],
        ["variant", i.variant],
        ["shape", `${i.layers} layers · hidden ${i.hidden} · FFN ${i.intermediate} · heads ${i.heads}`],
        ["parameters", `${(i.parameters / 1e6).toFixed(2)} M`],
        ["vocabulary · context", `${i.vocab} · ${i.context}`],
        ["tokenizer", i.tokenizer ?? "none"],
      ]),
      i.notes.length > 0 ? h("ul", { class: "notes" }, ...i.notes.map((n) => h("li", {}, n))) : null,
    );
  }

  private async applyBackend(): Promise<void> {
    if (!this.info) {
      this.messages.show("info", "the backend is set up when a model is opened; open one first");
      return;
    }
    this.setBusy(true);
    this.messages.clear();
    this.backendInUse.textContent = "switching…";
    try {
      // a model whose weights went into the old backend is read again (files, URL, random shape): show it
      const status = this.status.textContent;
      const r = await this.client.request<"backend-ready">({ type: "backend", backend: this.choice() }, (m: FromWorker) => {
        if (m.type !== "progress") return;
        this.progress.max = m.total;
        this.progress.value = m.done;
        this.status.textContent = `${m.phase}${m.total > 1 ? ` ${m.done}/${m.total}` : ""}`;
      });
      this.status.textContent = status;
      this.progress.max = 1;
      this.progress.value = 1;
      this.backendInUse.textContent = describeBackend(r.backend);
      this.onModelChanged?.();
    } catch (e) {
      this.backendInUse.textContent = "none";
      this.messages.show("error", (e as Error).message);
    } finally {
      this.setBusy(false);
    }
  }

  private sampling() {
    const num = (el: HTMLInputElement, name: string, ok: (v: number) => boolean, want: string) => {
      const v = Number(el.value);
      if (el.value.trim() === "" || !ok(v)) throw new Error(`${name}: expected ${want}, found ${JSON.stringify(el.value)}`);
      return v;
    };
    return {
      temperature: num(this.temperature, "temperature", (v) => v >= 0, "a number ≥ 0 (0 = greedy)"),
      topK: num(this.topK, "top-k", (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0 (0 = off)"),
      topP: num(this.topP, "top-p", (v) => v > 0 && v <= 1, "a number in (0, 1]"),
      maxTokens: num(this.maxTokens, "max tokens", (v) => Number.isInteger(v) && v >= 1, "a positive integer"),
      seed: num(this.seed, "seed", (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0"),
    };
  }

  private async generate(): Promise<void> {
    let sampling: ReturnType<RunTab["sampling"]>;
    try {
      sampling = this.sampling();
    } catch (e) {
      this.messages.show("error", (e as Error).message);
      return;
    }
    this.setBusy(true);
    this.messages.clear("error");
    this.stopButton.disabled = false;
    replace(this.output, h("span", { class: "prompt-text" }, this.prompt.value));
    delete this.output.dataset.tokens;
    replace(this.summary);
    this.rate.textContent = "prefill…";
    try {
      const r = await this.client.request<"generated">({ type: "generate", prompt: this.prompt.value, sampling }, (m) => {
        if (m.type !== "token") return;
        this.output.append(m.text);
        this.rate.textContent = m.tokensPerSecond > 0 ? `${m.tokensPerSecond.toFixed(1)} tokens/s · ${m.index + 1} tokens` : `${m.index + 1} token`;
      });
      this.output.append(r.text);
      const s = r.summary;
      this.output.dataset.tokens = String(s.generatedTokens);
      this.rate.textContent = `${s.decodeTokensPerSecond.toFixed(1)} tokens/s`;
      replace(this.summary, `${s.promptTokens} prompt tokens at ${s.prefillTokensPerSecond.toFixed(1)} tokens/s · ${s.generatedTokens} generated at ${s.decodeTokensPerSecond.toFixed(1)} tokens/s · stopped: ${s.stopReason}`);
      this.showRuntime(r.runtime);
      this.onModelChanged?.();
    } catch (e) {
      this.rate.textContent = "";
      this.messages.show("error", (e as Error).message);
    } finally {
      this.stopButton.disabled = true;
      this.setBusy(false);
    }
  }

  private async speedTest(): Promise<void> {
    this.setBusy(true);
    this.messages.clear("error");
    this.benchResult.textContent = "running…";
    for (const k of ["decodeTokensPerSecond", "prefillTokensPerSecond", "decodeMsMedian", "backend"]) delete this.benchResult.dataset[k];
    try {
      const promptTokens = Math.floor(Number(this.benchPrompt.value));
      const decodeTokens = Math.floor(Number(this.benchDecode.value));
      if (!(promptTokens >= 1 && decodeTokens >= 1)) throw new Error(`speed test: prompt tokens and decode steps must be positive integers, found ${this.benchPrompt.value} and ${this.benchDecode.value}`);
      const r = await this.client.request<"bench-result">({ type: "bench", promptTokens, decodeTokens });
      const b = r.result;
      Object.assign(this.benchResult.dataset, { decodeTokensPerSecond: String(b.decodeTokensPerSecond), prefillTokensPerSecond: String(b.prefillTokensPerSecond), decodeMsMedian: String(b.decodeMsMedian), backend: describeBackend(r.backend) });
      this.benchResult.textContent = `${describeBackend(r.backend)}: prefill ${b.prefillTokensPerSecond.toFixed(1)} tokens/s · decode ${b.decodeTokensPerSecond.toFixed(1)} tokens/s (median step ${b.decodeMsMedian.toFixed(1)} ms)`;
    } catch (e) {
      this.benchResult.textContent = "";
      this.messages.show("error", (e as Error).message);
    } finally {
      this.setBusy(false);
    }
  }

  showRuntime(r: RuntimeSummary): void {
    const mem = r.memory;
    const sparsityRows = Object.entries(r.sparsity).map(([k, v]) => [k, percent(v)] as [string, string]);
    replace(
      this.runtime,
      h(
        "div",
        { class: "two-col" },
        h("div", {}, h("h3", {}, "Memory by component"), table([...MEMORY_PARTS.map(([k, name]) => [name, bytes(mem[k])] as [string, string]), ["total", bytes(mem.total)]], "kv memory-table")),
        h("div", {}, h("h3", {}, "Activation sparsity (zero inputs)"), sparsityRows.length > 0 ? table(sparsityRows, "kv sparsity-table") : h("p", {}, "no tokens run yet")),
      ),
      stackedMeter(
        "Memory by component",
        MEMORY_PARTS.map(([k, name, color]) => ({ name, value: mem[k], color, text: bytes(mem[k]) })),
      ),
    );
  }
}
