/** Building the page without a framework: one element factory and a few small helpers. */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined>;

/** h("button", { class: "x", onclick: fn, disabled: true }, "text", child): attributes, properties for on*, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "value") (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

/** A labelled form control: <label>text <control></label>. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return h("label", { class: "field", title: hint }, h("span", {}, label), control);
}

export function numberInput(name: string, value: number, min: number, max: number, step: number): HTMLInputElement {
  return h("input", { type: "number", name, value, min, max, step });
}

export function select(name: string, options: Array<[string, string]>, value: string): HTMLSelectElement {
  const s = h("select", { name }, ...options.map(([v, text]) => h("option", { value: v }, text)));
  s.value = value;
  return s;
}

/** A definition table of label → value rows. */
export function table(rows: Array<[string, string]>, cls = "kv"): HTMLTableElement {
  return h("table", { class: cls }, h("tbody", {}, ...rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v)))));
}

export function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function percent(x: number | undefined): string {
  return x === undefined ? "—" : `${(100 * x).toFixed(1)} %`;
}
