/**
 * Seeded fuzzing in a worker thread with a memory cap and a time limit, for tests (not exported from the
 * package). A parser that allocates from a hostile length or loops forever would otherwise take the test runner
 * down with it; in a worker it is one counted crash or hang, and the counts still come back.
 *
 * A target is a module exporting `fuzzTarget(seed)` → FuzzTarget. The worker runs its cases in order; each case
 * is accepted (run() returns), refused (run() throws an error the target's refusal() recognises: its named error
 * class, naming the file or field) or a crash (any other error — a TypeError from deep inside, say). run() throws
 * FuzzMismatch when an accepted input breaks a property (e.g. different logits): counted apart, as a finding.
 *
 * Node 20 applies no TypeScript loader inside a worker on its own, so a small eval'd bootstrap registers tsx's
 * ESM hooks in the worker first (with the "source" condition, so @onebit/* resolve to src/ as in the tests).
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export interface FuzzCase {
  /** What was mutated, for the report of a failing case. */
  what: string;
  run(): unknown | Promise<unknown>;
}

export interface FuzzTarget {
  next(rand: () => number, index: number): FuzzCase | Promise<FuzzCase>;
  /** undefined when `err` is an expected refusal; otherwise why it is a crash (wrong class, message names nothing). */
  refusal(err: unknown): string | undefined;
  dispose?(): unknown | Promise<unknown>;
}

/** Thrown by a case's run() when the input was accepted but a property of the result does not hold. */
export class FuzzMismatch extends Error {
  override name = "FuzzMismatch";
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** The whole run, worker start-up included; past it the worker is terminated and the case in flight is a hang. */
  timeLimitMs?: number;
  /** A case slower than this counts as a hang (it finished, but a parser should never take this long). */
  caseLimitMs?: number;
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
}

export interface FuzzCounts {
  cases: number;
  accepted: number;
  refused: number;
  crashes: number;
  hangs: number;
  mismatches: number;
  /** The first few crashes, hangs and mismatches, with their case labels. */
  failures: string[];
  slowestMs: number;
}

const MAX_FAILURES = 10;

function emptyCounts(): FuzzCounts {
  return { cases: 0, accepted: 0, refused: 0, crashes: 0, hangs: 0, mismatches: 0, failures: [], slowestMs: 0 };
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 300)}${err.stack ? ` @ ${err.stack.split("\n").slice(1, 4).join(" ").replace(/\s+/g, " ")}` : ""}` : String(err);
}

/** The loop itself; also usable in-process (no memory cap then) for a quick look at one target. */
export async function runFuzzLoop(target: FuzzTarget, options: FuzzOptions, onCase?: (index: number, what: string, counts: FuzzCounts) => void): Promise<FuzzCounts> {
  const { seededRandom } = await import("../sampling");
  const rand = seededRandom(options.seed);
  const counts = emptyCounts();
  const fail = (line: string) => {
    if (counts.failures.length < MAX_FAILURES) counts.failures.push(line);
  };
  for (let i = 0; i < options.cases; i++) {
    const c = await target.next(rand, i);
    const label = `seed ${options.seed} case ${i} [${c.what}]`;
    onCase?.(i, label, counts);
    const started = performance.now();
    try {
      await c.run();
      counts.accepted++;
    } catch (err) {
      if (err instanceof FuzzMismatch) {
        counts.mismatches++;
        fail(`${label}: ${err.message}`);
      } else {
        const why = target.refusal(err);
        if (why === undefined) counts.refused++;
        else {
          counts.crashes++;
          fail(`${label}: ${why}: ${describeError(err)}`);
        }
      }
    }
    const ms = performance.now() - started;
    counts.slowestMs = Math.max(counts.slowestMs, ms);
    if (options.caseLimitMs !== undefined && ms > options.caseLimitMs) {
      counts.hangs++;
      fail(`${label}: took ${ms.toFixed(0)} ms (limit ${options.caseLimitMs} ms)`);
    }
    counts.cases++;
  }
  await target.dispose?.();
  return counts;
}

type WorkerMessage = { type: "case"; index: number; what: string; counts: FuzzCounts } | { type: "done"; counts: FuzzCounts };

/** Run `targetModule`'s fuzzTarget(seed) in a worker under `options`' limits; resolves with the counts, never rejects for the target's sake. */
export function runFuzzInWorker(targetModule: URL, options: FuzzOptions): Promise<FuzzCounts> {
  const require = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(require.resolve("tsx/package.json").replace(/package\.json$/, "dist/esm/api/index.mjs")).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); }).then((h) => h.fuzzWorkerMain());`;
  const worker = new Worker(bootstrap, {
    eval: true,
    execArgv: ["--conditions=source"],
    workerData: { target: targetModule.href, options },
    resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb ?? 256, maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb ?? 32 },
    stdout: false,
    stderr: false,
  });
  return new Promise((resolve) => {
    let last: { index: number; what: string; counts: FuzzCounts } | undefined;
    let settled = false;
    // what the worker had finished when it died, plus the case it died in
    const partial = (kind: "crashes" | "hangs", why: string) => {
      const counts = last ? { ...last.counts, failures: [...last.counts.failures] } : emptyCounts();
      counts[kind]++;
      counts.cases++;
      counts.failures.push(`${last?.what ?? "worker start-up"}: ${why}`); // always: the case that killed the worker
      return counts;
    };
    const finish = (counts: FuzzCounts) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(counts);
    };
    const limit = options.timeLimitMs ?? 60_000;
    const timer = setTimeout(() => finish(partial("hangs", `still running after the ${limit} ms time limit; worker terminated`)), limit);
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "case") last = m;
      else finish(m.counts);
    });
    worker.on("error", (err) => finish(partial("crashes", `worker died: ${describeError(err)}${(err as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY" ? " (over the memory cap)" : ""}`)));
    worker.on("exit", (code) => finish(partial("crashes", `worker exited with code ${code} before finishing`)));
  });
}

/** The worker's side: import the target, run the loop, report each case as it starts (so a hang names its case). */
export async function fuzzWorkerMain(): Promise<void> {
  if (isMainThread || !parentPort) throw new Error("fuzzWorkerMain: runs only inside runFuzzInWorker's worker");
  const { target, options } = workerData as { target: string; options: FuzzOptions };
  const mod = (await import(target)) as { fuzzTarget(seed: number): FuzzTarget | Promise<FuzzTarget> };
  const port = parentPort;
  const counts = await runFuzzLoop(await mod.fuzzTarget(options.seed), options, (index, what, c) => port.postMessage({ type: "case", index, what, counts: c } satisfies WorkerMessage));
  port.postMessage({ type: "done", counts } satisfies WorkerMessage);
}
