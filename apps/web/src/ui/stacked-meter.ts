/** One horizontal bar split into parts by size (memory by component): widths proportional, values in the titles. */
import { h } from "./dom";

export interface MeterPart {
  name: string;
  value: number;
  color: string;
  text: string;
}

export function stackedMeter(title: string, parts: MeterPart[]): HTMLElement {
  const total = parts.reduce((s, p) => s + p.value, 0) || 1;
  return h(
    "figure",
    { class: "chart-figure meter" },
    h("figcaption", {}, title),
    h("div", { class: "meter-bar", role: "img", "aria-label": title }, ...parts.filter((p) => p.value > 0).map((p) => h("span", { class: "meter-part", style: `width:${((100 * p.value) / total).toFixed(3)}%;background:${p.color}`, title: `${p.name}: ${p.text}` }))),
    h("div", { class: "legend" }, ...parts.map((p) => h("span", { class: "legend-item" }, h("i", { style: `background:${p.color}` }), `${p.name} ${p.text}`))),
  );
}
