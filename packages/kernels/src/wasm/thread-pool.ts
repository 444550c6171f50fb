/**
 * Worker threads sharing one WebAssembly.Memory. The main thread takes part in every job (it is thread 0), so
 * `threads: 2` means one extra worker.
 *
 * Hand-off: a decode step issues ~200 jobs of 50–500 µs with a little JS between them, and waking a thread
 * parked in Atomics.wait costs tens of µs on a VM (measured: a 640×2560 GEMV took longer on 2 threads than on 1).
 * So both sides spin first: a worker polls the job word for up to SPIN_MS after its last job before it parks in
 * Atomics.wait (flagging itself asleep in control[JOB_SLOT.SLEEP_FLAGS + index] so the main thread notifies only
 * then), and the main thread polls the finished counter for up to MAIN_SPIN_MS before it parks too (flag
 * control[JOB_SLOT.MAIN_WAITING]; a finishing worker notifies). Bounded spins matter when the cores are shared with
 * other processes: a thread that spins while the one it waits for is descheduled burns its whole time slice.
 * Idle workers park within SPIN_MS and use no CPU.
 *
 * Joining: the job word (JOB_SLOT.JOB_STATE) is generation << 8 | JOB_CLOSED | workers joined. A worker that sees a
 * new generation joins by compare-exchange, runs its share and counts itself finished. A job whose rows are all
 * claimed at run time (runJob returns true: the decode GEMVs, the int4 head, causal attention, a prompt's
 * element-wise rows) is closed by the main thread once it finds no rows left, and the main thread then waits only
 * for the workers that joined before: a worker the OS has not scheduled yet (or one still waking from
 * Atomics.wait) would otherwise hold up a job it has no rows of — measured on a 2-vCPU VM, 2.8 of every 2B4T decode
 * step's ≈ 210 jobs waited > 0.3 ms for a worker that had not started. A job split by thread index is never closed: the main thread waits for every worker.
 * Node's main thread and any Web Worker may block; a browser's main thread may not, so there threads must be 1
 * or the model must run in a Worker.
 */
import { COLUMN_PANELS, CONTROL_SLOTS, DENSE_DECODERS, ELEMENTWISE_KIND, JOB_ABI, JOB_CLOSED, JOB_OP, JOB_SLOT, type KernelExports, LUT_GEMM, REGION_UNITS_MAX, TERNARY_PLACE_FORMAT, WASM_EXPORT } from "./abi";
import { runJob } from "./job-driver";

/** How long an idle worker polls for the next job before parking. */
const SPIN_MS = 1;
/** How long the main thread polls for the workers to finish a job before parking. */
const MAIN_SPIN_MS = 0.05;

// A worker runs runJob from its source text over JSON copies of the same ABI objects (as an expression, so that
// the name it is called by does not depend on what a bundler named the declaration).
const WORKER_SOURCE = (env: "node" | "web") => `
const JOB_OP = ${JSON.stringify(JOB_OP)};
const JOB_SLOT = ${JSON.stringify(JOB_SLOT)};
const WASM_EXPORT = ${JSON.stringify(WASM_EXPORT)};
const DENSE_DECODERS = ${JSON.stringify(DENSE_DECODERS)};
const TERNARY_PLACE_FORMAT = ${JSON.stringify(TERNARY_PLACE_FORMAT)};
const ELEMENTWISE_KIND = ${JSON.stringify(ELEMENTWISE_KIND)};
const LUT_GEMM = ${JSON.stringify(LUT_GEMM)};
const COLUMN_PANELS = ${JSON.stringify(COLUMN_PANELS)};
const JOB_ABI = { JOB_OP, JOB_SLOT, WASM_EXPORT, DENSE_DECODERS, TERNARY_PLACE_FORMAT, ELEMENTWISE_KIND, LUT_GEMM, COLUMN_PANELS };
const runJob = (${runJob.toString()});
function start(data, ready) {
  const instance = new WebAssembly.Instance(data.module, { env: { memory: data.memory } });
  const ex = instance.exports;
  ready();
  const c = new Int32Array(data.control);
  const asleep = JOB_SLOT.SLEEP_FLAGS + data.index;
  let gen = 0;
  for (;;) {
    // spin for a while: the next job usually comes within microseconds
    const until = performance.now() + ${SPIN_MS};
    let spins = 0;
    let s = Atomics.load(c, JOB_SLOT.JOB_STATE);
    while ((s >>> 8) === gen) {
      if ((++spins & 255) === 0 && performance.now() > until) {
        Atomics.store(c, asleep, 1);
        Atomics.wait(c, JOB_SLOT.JOB_STATE, s);
        Atomics.store(c, asleep, 0);
      }
      s = Atomics.load(c, JOB_SLOT.JOB_STATE);
    }
    gen = s >>> 8;
    if (Atomics.load(c, JOB_SLOT.SHUTDOWN) === 1) break;
    // join the job unless the main thread has closed it (then every row is taken)
    let joined = false;
    while ((s & ${JOB_CLOSED}) === 0 && (s >>> 8) === gen) {
      const prev = Atomics.compareExchange(c, JOB_SLOT.JOB_STATE, s, s + 1);
      if (prev === s) { joined = true; break; }
      s = prev;
    }
    if (!joined) continue;
    try { runJob(JOB_ABI, ex, c, data.index); } finally {
      Atomics.add(c, JOB_SLOT.FINISHED, 1);
      if (Atomics.load(c, JOB_SLOT.MAIN_WAITING) === 1) Atomics.notify(c, JOB_SLOT.FINISHED);
    }
  }
}
${env === "node" ? `const { workerData } = require("node:worker_threads"); start(workerData, () => {});` : `self.onmessage = (e) => start(e.data, () => self.postMessage("ready"));`}
`;

/**
 * Give each thread its contiguous region of the job's rows (JOB_SLOT.REGIONS, claimed by job-driver.ts), in units
 * of REGION_UNIT rows: a multiple of 4 (the pair kernels start on even rows), as small as lets the count of units
 * fit a region word's 16-bit halves.
 */
export function splitRegions(c: Int32Array, threads: number): void {
  const rows = c[JOB_SLOT.ROWS]!;
  const unit = 4 * Math.max(1, Math.ceil(rows / (4 * REGION_UNITS_MAX)));
  const units = Math.ceil(rows / unit);
  const per = Math.ceil(units / threads);
  c[JOB_SLOT.REGION_UNIT] = unit;
  for (let i = 0; i < threads; i++) c[JOB_SLOT.REGIONS + i] = (Math.min(units, i * per) << 16) | Math.min(units, (i + 1) * per);
}

interface WorkerHandle {
  terminate(): unknown;
}

export class ThreadPool {
  /** The control block (abi.ts JOB_SLOT): a job is written here, then run(). */
  readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  private readonly workers: WorkerHandle[] = [];
  /** The generation of the last job posted (JOB_SLOT.JOB_STATE >>> 8). */
  private generation = 0;

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

  /**
   * Run the job written in the control block (its op and arguments) on every thread, or on this thread alone
   * (`threads` 1: a job too small to repay waking a worker); returns when all are done.
   */
  run(exports: KernelExports, threads = this.threads): void {
    const c = this.control;
    c[JOB_SLOT.THREADS] = threads;
    c[JOB_SLOT.NEXT_ROW] = 0;
    splitRegions(c, threads);
    if (threads === 1) {
      runJob(JOB_ABI, exports, c, 0);
      return;
    }
    Atomics.store(c, JOB_SLOT.FINISHED, 0);
    this.post();
    const claimed = runJob(JOB_ABI, exports, c, 0);
    // every row of a claimed job is taken: close it, and wait only for the workers that joined before
    let others = this.threads - 1;
    if (claimed) {
      let s = Atomics.load(c, JOB_SLOT.JOB_STATE);
      for (let prev = Atomics.compareExchange(c, JOB_SLOT.JOB_STATE, s, s | JOB_CLOSED); prev !== s; prev = Atomics.compareExchange(c, JOB_SLOT.JOB_STATE, s, s | JOB_CLOSED)) s = prev;
      others = s & (JOB_CLOSED - 1);
    }
    // the workers started with us and have about as much to do: poll a little, then park
    const until = performance.now() + MAIN_SPIN_MS;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(c, JOB_SLOT.FINISHED);
      if (done >= others) break;
      if ((++spins & 63) === 0 && performance.now() > until) {
        Atomics.store(c, JOB_SLOT.MAIN_WAITING, 1);
        if (Atomics.load(c, JOB_SLOT.FINISHED) === done) Atomics.wait(c, JOB_SLOT.FINISHED, done, 100);
        Atomics.store(c, JOB_SLOT.MAIN_WAITING, 0);
      }
    }
  }

  /** Start a new generation of the job word (open, no worker joined) and wake the workers that sleep. */
  private post(): void {
    const c = this.control;
    this.generation = (this.generation + 1) & 0x7fffff; // (the word's sign bit stays clear)
    Atomics.store(c, JOB_SLOT.JOB_STATE, this.generation << 8);
    for (let i = 1; i < this.threads; i++)
      if (Atomics.load(c, JOB_SLOT.SLEEP_FLAGS + i) === 1) {
        Atomics.notify(c, JOB_SLOT.JOB_STATE);
        break;
      }
  }

  dispose(): void {
    Atomics.store(this.control, JOB_SLOT.SHUTDOWN, 1);
    this.post();
    Atomics.notify(this.control, JOB_SLOT.JOB_STATE);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
