/**
 * Worker threads sharing one WebAssembly.Memory. The main thread takes part in every job (it is thread 0), so
 * `threads: 2` means one extra worker. Workers sleep in Atomics.wait and are woken by Atomics.notify; the main
 * thread blocks in Atomics.wait until all have finished (Node's main thread and any Web Worker may block; a
 * browser's main thread may not, so there threads must be 1 or the model must run in a Worker).
 */
import { runJob } from "./job-driver";

const WORKER_SOURCE = (env: "node" | "web") => `
${runJob.toString()}
function start(data, ready) {
  const instance = new WebAssembly.Instance(data.module, { env: { memory: data.memory } });
  const ex = instance.exports;
  ready();
  const c = new Int32Array(data.control);
  let gen = 0;
  for (;;) {
    Atomics.wait(c, 0, gen);
    gen = Atomics.load(c, 0);
    if (Atomics.load(c, 4) === 1) break;
    try { runJob(ex, c, data.index); } finally { Atomics.add(c, 3, 1); Atomics.notify(c, 3); }
  }
}
${env === "node" ? `const { workerData } = require("node:worker_threads"); start(workerData, () => {});` : `self.onmessage = (e) => start(e.data, () => self.postMessage("ready"));`}
`;

interface WorkerHandle {
  terminate(): unknown;
}

export class ThreadPool {
  readonly control = new Int32Array(new SharedArrayBuffer(64 * 4));
  private readonly workers: WorkerHandle[] = [];

  private constructor(readonly threads: number) {}

  static async create(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const pool = new ThreadPool(threads);
    const isNode = typeof process !== "undefined" && !!process.versions?.node;
    for (let index = 1; index < threads; index++) {
      const data = { module, memory, control: pool.control.buffer, index };
      if (isNode) {
        const { Worker } = await import("node:worker_threads");
        const worker = new Worker(WORKER_SOURCE("node"), { eval: true, workerData: data });
        worker.unref();
        pool.workers.push(worker);
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE("web")], { type: "text/javascript" }));
        const worker = new Worker(url);
        pool.workers.push(worker);
        // A browser starts a Web Worker only while its creator's event loop turns; the creator blocks in
        // Atomics.wait during a job, so wait here until the worker has instantiated the module and is listening.
        await new Promise<void>((resolve, reject) => {
          worker.onmessage = () => resolve();
          worker.onerror = (e) => reject(new Error(`wasm thread ${index} failed to start: ${e.message}`));
          worker.postMessage(data);
        });
        URL.revokeObjectURL(url);
      }
    }
    return pool;
  }

  /** Run the job described in control[1], control[8..] on every thread; returns when all are done. */
  // biome-ignore lint/suspicious/noExplicitAny: wasm exports
  run(exports: any): void {
    const c = this.control;
    c[2] = this.threads;
    if (this.threads === 1) {
      runJob(exports, c, 0);
      return;
    }
    Atomics.store(c, 3, 0);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    runJob(exports, c, 0);
    const others = this.threads - 1;
    for (;;) {
      const done = Atomics.load(c, 3);
      if (done >= others) break;
      Atomics.wait(c, 3, done, 1000);
    }
  }

  dispose(): void {
    Atomics.store(this.control, 4, 1);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
