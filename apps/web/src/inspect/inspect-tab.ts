/**
 * The Look-inside tab: per layer, the shares of −1 / 0 / +1 in every projection's packed weights, the weight
 * scales, and the activation sparsity the running model has seen — above all the ReLU² output feeding the down
 * projection (b1.58 2B4T's squared ReLU makes most of it exactly zero; a4.8 relies on that). Asked of the model
 * worker whenever the tab is shown or the model changes.
 */
import type { ModelClient } from "../run/model-client";
import type { LayerInspection } from "../run/worker-protocol";
import { type BarGroup, barChart } from "../ui/bar-chart";
import { h, percent, replace } from "../ui/dom";
import { MessageBox } from "../ui/message-box";

const CODE_COLORS = { minus: "#d9534f", zero: "#b8b8b8", plus: "#3b7dd8" };
const PROJECTION_COLORS: Record<string, string> = { q: "#5b8def", k: "#7aa6f7", v: "#9dbdfa", o: "#3a63b8", gate: "#47b39d", up: "#6fcab6", down: "#2e7f6e" };

export class InspectTab {
  readonly element: HTMLElement;
  readonly messages = new MessageBox();
  private readonly body = h("div", { class: "inspect-body", "data-testid": "inspect-body" }, h("p", { class: "hint" }, "open a model in the Run tab first"));
  private readonly refresh = h("button", { "data-testid": "inspect-refresh" }, "Refresh");
  private pending = false;

  constructor(
    private readonly client: ModelClient,
    private readonly hasModel: () => boolean,
  ) {
    this.refresh.addEventListener("click", () => void this.update());
    this.element = h(
      "section",
      { class: "tab-panel", id: "inspect", "data-testid": "inspect-tab" },
      this.messages.element,
      h("div", { class: "card" }, h("h2", {}, "Look inside the running model"), h("div", { class: "row" }, this.refresh), this.body),
    );
  }

  async update(): Promise<void> {
    if (this.pending) return;
    if (!this.hasModel()) {
      replace(this.body, h("p", { class: "hint" }, "open a model in the Run tab first"));
      return;
    }
    this.pending = true;
    this.refresh.disabled = true;
    this.messages.clear();
    try {
      const r = await this.client.request<"inspection">({ type: "inspect" });
      replace(this.body, ...render(r.layers));
      this.body.dataset.layers = String(r.layers.length);
    } catch (e) {
      this.messages.show("error", (e as Error).message);
    } finally {
      this.pending = false;
      this.refresh.disabled = false;
    }
  }
}

function render(layers: LayerInspection[]): HTMLElement[] {
  const quantized = layers.some((l) => l.projections.some((p) => p.kind !== "float"));
  const out: HTMLElement[] = [];
  if (quantized) {
    const shares: BarGroup[] = layers.map((l) => ({
      label: `L${l.layer}`,
      bars: l.projections
        .filter((p) => p.kind !== "float")
        .map((p) => {
          const n = p.minus + p.zero + p.plus || 1;
          return {
            label: p.projection,
            segments: [
              { value: p.minus / n, color: CODE_COLORS.minus, title: `−1 ${percent(p.minus / n)}` },
              { value: p.zero / n, color: CODE_COLORS.zero, title: `0 ${percent(p.zero / n)}` },
              { value: p.plus / n, color: CODE_COLORS.plus, title: `+1 ${percent(p.plus / n)}` },
            ],
          };
        }),
    }));
    out.push(
      barChart(
        {
          title: "Ternary weight distribution per layer (bars: q k v o gate up down)",
          yLabel: "share",
          yMax: 1,
          format: (v) => `${Math.round(v * 100)}%`,
          legend: [
            { name: "−1", color: CODE_COLORS.minus },
            { name: "0", color: CODE_COLORS.zero },
            { name: "+1", color: CODE_COLORS.plus },
          ],
        },
        shares,
      ),
    );
    const scales: BarGroup[] = layers.map((l) => ({
      label: `L${l.layer}`,
      bars: l.projections
        .filter((p) => p.kind !== "float")
        .map((p) => {
          const mean = p.scales.reduce((a, b) => a + b, 0) / Math.max(1, p.scales.length);
          return { label: p.projection, segments: [{ value: mean, color: PROJECTION_COLORS[p.projection] ?? "#888", title: `scale ${mean.toPrecision(4)}${p.scales.length > 1 ? ` (mean of ${p.scales.length} groups)` : ""}` }] };
        }),
    }));
    out.push(
      barChart(
        { title: "Weight scale per projection (the dequantization multiplier: mean |W| of the latent weights for b1.58)", yLabel: "scale", legend: Object.entries(PROJECTION_COLORS).map(([name, color]) => ({ name, color })) },
        scales,
      ),
    );
  } else out.push(h("p", { class: "hint" }, "this model's projections are full precision (fp): there are no ternary codes to count"));
  const ran = layers.some((l) => l.ffnSparsity !== undefined);
  if (ran) {
    out.push(
      barChart(
        { title: "ReLU² sparsity: share of zero inputs to the down projection, per layer", yLabel: "zeros", yMax: 1, format: (v) => `${Math.round(v * 100)}%` },
        layers.map((l) => ({ label: `L${l.layer}`, bars: [{ label: "down input", segments: [{ value: l.ffnSparsity ?? 0, color: "#2e7f6e", title: percent(l.ffnSparsity) }] }] })),
      ),
    );
    out.push(
      barChart(
        { title: "Input sparsity per projection (share of zero activation codes)", yLabel: "zeros", yMax: 1, format: (v) => `${Math.round(v * 100)}%`, legend: Object.entries(PROJECTION_COLORS).map(([name, color]) => ({ name, color })) },
        layers.map((l) => ({
          label: `L${l.layer}`,
          bars: Object.entries(l.inputSparsity).map(([p, v]) => ({ label: p, segments: [{ value: v ?? 0, color: PROJECTION_COLORS[p] ?? "#888", title: percent(v) }] })),
        })),
      ),
    );
  } else out.push(h("p", { class: "hint", "data-testid": "sparsity-hint" }, "generate some text in the Run tab to see the activation sparsity"));
  return out;
}
