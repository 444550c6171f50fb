/**
 * A Web Worker as a request → promise service: every request gets an id, the worker answers it with one final
 * message (or "error"), and may send events for it before (progress, tokens, steps); it says { type: "ready" } once
 * its module has loaded. If the worker dies (out of memory, a crash), every pending request fails with the reason
 * and a fresh worker takes its place, so the page keeps working; one that dies before it is ready is not restarted
 * (it cannot load: every request then fails with that reason).
 */

type WithId = { type: string; id: number };
type WithoutId<T> = T extends { id: number } ? Omit<T, "id"> : never;

interface Pending<F> {
  onEvent?: (m: F) => void;
  resolve: (m: F) => void;
  reject: (e: Error) => void;
}

export class WorkerClient<To extends { type: string }, From extends WithId> {
  private worker!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<From>>();
  /** Called when the worker died and was replaced (whatever it held is gone). */
  onRestart?: (reason: string) => void;

  constructor(
    private readonly make: () => Worker,
    /** the message types that are events on the way, not the final answer */
    private readonly eventTypes: ReadonlyArray<From["type"]>,
    private readonly label: string,
  ) {
    this.start();
  }

  /** Set when the worker cannot even start (its script fails to load): restarting would only fail again. */
  private broken?: string;
  /** The worker said "ready" (its module loaded and its handler is installed). */
  private ready = false;

  private start(): void {
    this.ready = false;
    this.worker = this.make();
    this.worker.onmessage = (e: MessageEvent<From>) => {
      const m = e.data;
      if (m.type === "ready") {
        this.ready = true;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      if (this.eventTypes.includes(m.type)) {
        p.onEvent?.(m);
        return;
      }
      this.pending.delete(m.id);
      if (m.type === "error") p.reject(new Error((m as unknown as { message: string }).message));
      else p.resolve(m);
    };
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.restart(`the ${this.label} stopped: ${e.message || "it crashed (out of memory?)"}`);
    };
  }

  private restart(reason: string): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    if (!this.ready) {
      // it died before its module finished loading: a new one would die the same way
      this.broken = `the ${this.label} cannot start: ${reason}`;
      this.onRestart?.(this.broken);
      return;
    }
    this.start();
    this.onRestart?.(`${reason}; a new one was started`);
  }

  request<T extends From["type"]>(message: WithoutId<To>, onEvent?: (m: From) => void): Promise<Extract<From, { type: T }>> {
    const id = this.nextId++;
    if (this.broken) return Promise.reject(new Error(this.broken));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { onEvent, resolve: resolve as (m: From) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  /** A message that expects no answer (stop). */
  send(message: To): void {
    this.worker.postMessage(message);
  }
}
