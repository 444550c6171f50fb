/**
 * How runJob hands out a decode GEMV's rows (JOB_SLOT.REGIONS): each thread claims its own contiguous region from the
 * front, in one ascending run, and then takes what is left of the others' from their backs. Threads are simulated by
 * nesting: a kernel call of one thread may start another's runJob, which runs to the end before the first goes on,
 * so every thread sees regions that others have already claimed from.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONTROL_SLOTS, JOB_ABI, JOB_OP, JOB_SLOT, type KernelExports, REGION_UNITS_MAX, WASM_EXPORT } from "./abi";
import { runJob } from "./job-driver";
import { splitRegions } from "./thread-pool";

interface Claim {
  thread: number;
  ra: number;
  rb: number;
}

/** Run a one-token GEMV job of `rows` over `threads` simulated threads; `schedule[k]` starts that thread at the k-th kernel call. */
function simulate(rows: number, threads: number, schedule: number[]): Claim[] {
  const c = new Int32Array(CONTROL_SLOTS);
  c[JOB_SLOT.OP] = JOB_OP.TERNARY_DENSE;
  c[JOB_SLOT.ROWS] = rows;
  c[JOB_SLOT.TERNARY_DENSE.TOKENS] = 1;
  c[JOB_SLOT.TERNARY_DENSE.RELAXED] = 1;
  c[JOB_SLOT.THREADS] = threads;
  splitRegions(c, threads);
  const claims: Claim[] = [];
  const started = new Set<number>();
  let calls = 0;
  const start = (thread: number) => {
    started.add(thread);
    const ex = new Proxy({}, {
      get: (_, name) => (...args: number[]) => {
        expect(name).toBe(WASM_EXPORT.T2_DOT_1_RELAXED);
        claims.push({ thread, ra: args[3]!, rb: args[4]! });
        const next = schedule[calls++];
        if (next !== undefined && next < threads && !started.has(next)) start(next);
      },
    }) as KernelExports;
    runJob(JOB_ABI, ex, c, thread);
  };
  start(0);
  for (let t = 1; t < threads; t++) if (!started.has(t)) start(t);
  return claims;
}

describe("wasm job driver: GEMV rows in owned regions", () => {
  it("claims every row exactly once, each thread's own region from its front in one ascending run", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300_000 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(5), { maxLength: 12 }), (rows, threads, schedule) => {
        const claims = simulate(rows, threads, schedule);
        const sorted = [...claims].sort((a, b) => a.ra - b.ra);
        let next = 0;
        for (const { ra, rb } of sorted) {
          expect(ra).toBe(next);
          expect(rb).toBeGreaterThan(ra);
          expect(ra % 4).toBe(0); // the pair kernels start on even rows
          next = rb;
        }
        expect(next).toBe(rows);
        // a thread's claims inside its own region are contiguous from the region's start, in order
        const c = new Int32Array(CONTROL_SLOTS);
        c[JOB_SLOT.ROWS] = rows;
        splitRegions(c, threads);
        const unit = c[JOB_SLOT.REGION_UNIT]!;
        for (let t = 0; t < threads; t++) {
          const front = (c[JOB_SLOT.REGIONS + t]! >>> 16) * unit;
          const back = Math.min(rows, (c[JOB_SLOT.REGIONS + t]! & 0xffff) * unit);
          const own = claims.filter((x) => x.thread === t && x.ra >= front && x.ra < back);
          let at = front;
          for (const x of own) {
            expect(x.ra).toBe(at);
            at = x.rb;
          }
        }
        if (threads === 1) expect(claims).toEqual([{ thread: 0, ra: 0, rb: rows }]);
      }),
      { numRuns: 300 },
    );
  });

  it("lets a thread that starts alone take the others' rows from the back, in halves", () => {
    // thread 1 never starts: thread 0 runs its region [0, 512), then [512, 1024) from the back
    const claims = simulate(1024, 2, []);
    expect(claims.map((x) => [x.ra, x.rb])).toEqual([
      [0, 256], [256, 384], [384, 448], [448, 480], [480, 496], [496, 512],
      [768, 1024], [640, 768], [576, 640], [544, 576], [528, 544], [512, 528],
    ]);
  });

  it("keeps unit counts within a region word's 16-bit halves", () => {
    const c = new Int32Array(CONTROL_SLOTS);
    for (const [rows, unit] of [[1, 4], [4 * REGION_UNITS_MAX, 4], [4 * REGION_UNITS_MAX + 1, 8], [128_256, 4], [1_000_000, 16]] as const) {
      c[JOB_SLOT.ROWS] = rows;
      splitRegions(c, 3);
      expect(c[JOB_SLOT.REGION_UNIT], `${rows} rows`).toBe(unit);
      expect(c[JOB_SLOT.REGIONS + 2]! & 0xffff).toBe(Math.ceil(rows / unit));
      expect(Math.ceil(rows / unit)).toBeLessThanOrEqual(REGION_UNITS_MAX);
    }
  });
});
