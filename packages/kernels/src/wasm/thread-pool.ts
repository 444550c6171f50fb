/**
 * Worker threads sharing one WebAssembly.Memory. The main thread takes part in every job (it is thread 0), so
 * `threads: 2` means one extra worker.
 *
 * Hand-off: a decode step issues ~200 jobs of 50–500 µs with a little JS between them, and waking a thread
 * parked in Atomics.wait costs tens of µs on a VM (measured: a 640×2560 GEMV took longer on 2 threads than on 1).
 * So both sides spin first: a worker polls the generation counter for up to SPIN_MS after its last job before
 * it parks in Atomics.wait (flagging itself asleep in control[SLEEP_FLAGS + index] so the main thread notifies only
 * then), and the main thread polls the finished counter for up to MAIN_SPIN_MS before it parks too (flag
 * control[MAIN_WAITING]; the last worker to finish notifies). Bounded spins matter when the cores are shared with
 * other processes: a thread that spins while the one it waits for is descheduled burns its whole time slice.
 * Idle workers park within SPIN_MS and use no CPU.
 * Node's main thread and any Web Worker may block; a browser's main thread may not, so there threads must be 1
 * or the model must run in a Worker.
 */
import { runJob } from "./job-driver";

/** How long an idle worker polls for the next job before parking. */
const SPIN_MS = 1;
/** How long the main thread polls for the workers to finish a job before parking. */
const MAIN_SPIN_MS = 0.05;
/** control[MAIN_WAITING] = 1 while the main thread is parked waiting for a job to finish. */
const MAIN_WAITING = 5;
/** control[SLEEP_FLAGS + i] = 1 while worker i is parked in Atomics.wait. */
const SLEEP_FLAGS = 32;

const WORKER_SOURCE = (env: "node" | "web") => `
${runJob.toString()}
const SLEEP_FLAGS = ${SLEEP_FLAGS};
const MAIN_WAITING = ${MAIN_WAITING};
function start(data, ready) {
  const instance = new WebAssembly.Instance(data.module, { env: { memory: data.memory } });
  const ex = instance.exports;
  ready();
  const c = new Int32Array(data.control);
  const asleep = SLEEP_FLAGS + data.index;
  let gen = 0;
  for (;;) {
    // spin for a while: the next job usually comes within microseconds
    const until = performance.now() + ${SPIN_MS};
    let spins = 0;
    while (Atomics.load(c, 0) === gen) {
      if ((++spins & 255) === 0 && performance.now() > until) {
        Atomics.store(c, asleep, 1);
        Atomics.wait(c, 0, gen);
        Atomics.store(c, asleep, 0);
      }
    }
    gen = Atomics.load(c, 0);
    if (Atomics.load(c, 4) === 1) break;
    try { runJob(ex, c, data.index); } finally {
      Atomics.add(c, 3, 1);
      if (Atomics.load(c, MAIN_WAITING) === 1) Atomics.notify(c, 3);
    }
  }
}
${env === "node" ? `const { workerData } = require("node:worker_threads"); start(workerData, () => {});` : `self.onmessage = (e) => start(e.data, () => self.postMessage("ready"));`}
`;

interface WorkerHandle {
  terminate(): unknown;
}

export class ThreadPool {
  readonly control = new Int32Array(new SharedArrayBuffer(128 * 4));
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
    for (let i = 1; i < this.threads; i++)
      if (Atomics.load(c, SLEEP_FLAGS + i) === 1) {
        Atomics.notify(c, 0);
        break;
      }
    runJob(exports, c, 0);
    // the workers started with us and have about as much to do: poll a little, then park
    const others = this.threads - 1;
    const until = performance.now() + MAIN_SPIN_MS;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(c, 3);
      if (done >= others) break;
      if ((++spins & 63) === 0 && performance.now() > until) {
        Atomics.store(c, MAIN_WAITING, 1);
        if (Atomics.load(c, 3) === done) Atomics.wait(c, 3, done, 100);
        Atomics.store(c, MAIN_WAITING, 0);
      }
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
