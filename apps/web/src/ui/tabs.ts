/** Tabs: buttons that show one panel at a time; the URL hash (#run, #train, #inspect) remembers which. */
import { h } from "./dom";

export interface Tab {
  id: string;
  title: string;
  panel: HTMLElement;
  onShow?: () => void;
}

export function tabs(list: Tab[]): { nav: HTMLElement; show: (id: string) => void } {
  const buttons = new Map<string, HTMLButtonElement>();
  const show = (id: string) => {
    const tab = list.find((t) => t.id === id) ?? list[0]!;
    for (const t of list) {
      const active = t === tab;
      t.panel.hidden = !active;
      buttons.get(t.id)!.setAttribute("aria-selected", String(active));
    }
    if (location.hash !== `#${tab.id}`) history.replaceState(null, "", `#${tab.id}`);
    tab.onShow?.();
  };
  const nav = h("nav", { class: "tabs", role: "tablist" });
  for (const t of list) {
    const b = h("button", { role: "tab", "aria-controls": t.id, "data-testid": `tab-${t.id}` }, t.title);
    b.addEventListener("click", () => show(t.id));
    buttons.set(t.id, b);
    nav.append(b);
  }
  return { nav, show };
}
