/**
 * Where a tab says what went wrong (or what to know): a message in the page, never only the console, so a bad file,
 * a model too large for the tab or a missing backend is explained where the user looks, and the page goes on.
 */
import { h } from "./dom";

export type MessageKind = "error" | "warning" | "info";

export class MessageBox {
  readonly element = h("div", { class: "messages", "aria-live": "polite" });

  show(kind: MessageKind, text: string): HTMLElement {
    const close = h("button", { class: "close", title: "dismiss", "aria-label": "dismiss" }, "×");
    const m = h("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status", "data-kind": kind }, h("span", { class: "text" }, text), close);
    close.addEventListener("click", () => m.remove());
    this.element.append(m);
    return m;
  }

  clear(kind?: MessageKind): void {
    for (const m of [...this.element.querySelectorAll<HTMLElement>(".message")]) if (!kind || m.dataset.kind === kind) m.remove();
  }
}
