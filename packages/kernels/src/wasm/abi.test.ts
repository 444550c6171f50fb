import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { CONTROL_SLOTS, DENSE_DECODERS, JOB_ABI, JOB_OP, JOB_SLOT, type KernelExports, MAX_THREADS, RELAXED_ONLY_EXPORTS, WASM_EXPORT } from "./abi";
import { runJob } from "./job-driver";
import { kernelsModule, relaxedSimdAvailable } from "./wasm-module";
import { LUT_MIN_ROWS, lutTiles } from "./t2-gemm-lut.wat";

const HEADER = ["JOB_STATE", "OP", "THREADS", "FINISHED", "SHUTDOWN", "MAIN_WAITING", "ROWS"] as const;
const ARG_GROUPS = ["TERNARY_DENSE", "TERNARY_SPARSE", "MATMUL_F32", "ATTENTION", "W8A16_DENSE", "W4A8_DENSE", "INT4_QUANTIZE", "ATTENTION_CAUSAL", "ELEMENTWISE_ROWS"] as const;

describe("wasm job ABI", () => {
  it("gives each op's arguments distinct slots between the hand-off slots and the sleep flags", () => {
    const header = HEADER.map((k) => JOB_SLOT[k]);
    expect(new Set(header).size).toBe(header.length);
    for (const group of ARG_GROUPS) {
      const slots = Object.values(JOB_SLOT[group]) as number[];
      expect(new Set(slots).size, group).toBe(slots.length);
      for (const s of slots) {
        expect(header, `${group} slot ${s}`).not.toContain(s);
        expect(s, group).toBeGreaterThan(JOB_SLOT.MAIN_WAITING);
        expect(s, group).toBeLessThan(JOB_SLOT.SLEEP_FLAGS);
      }
    }
    expect(JOB_SLOT.SLEEP_FLAGS + MAX_THREADS).toBeLessThanOrEqual(CONTROL_SLOTS);
    expect(new Set(Object.values(JOB_OP)).size).toBe(Object.keys(JOB_OP).length);
  });

  it("names only functions the kernel modules export", () => {
    const names = (simd: "baseline" | "relaxed") => WebAssembly.Module.exports(kernelsModule(simd)).filter((e) => e.kind === "function").map((e) => e.name);
    const baseline = names("baseline");
    for (const name of Object.values(WASM_EXPORT)) if (!RELAXED_ONLY_EXPORTS.includes(name)) expect(baseline).toContain(name);
    if (relaxedSimdAvailable()) {
      const relaxed = names("relaxed");
      for (const name of Object.values(WASM_EXPORT)) expect(relaxed).toContain(name);
    }
  });

  it("runs the job driver from its source text alone, as a worker does, however the file was transformed", () => {
    type RunJob = typeof runJob;
    // what tsx does to job-driver.ts (esbuild, keepNames: its __name helper), and a minifying bundler
    const transformed = [{ keepNames: true }, { keepNames: true, minify: true }].map((options) => {
      const { code } = transformSync(readFileSync(new URL("./job-driver.ts", import.meta.url), "utf8"), { loader: "ts", format: "cjs", ...options });
      const module = { exports: {} as { runJob?: RunJob } };
      new Function("module", "exports", code)(module, module.exports);
      return module.exports.runJob!;
    });
    // a worker evaluates the function's text over a JSON copy of the ABI: nothing else is in scope
    const isolated = (fn: RunJob): RunJob => new Function(`return (${fn.toString()});`)();
    const abi = JSON.parse(JSON.stringify(JOB_ABI)) as typeof JOB_ABI;
    const runners = [runJob, ...transformed].map(isolated);
    const calls = (run: RunJob, c: Int32Array, index: number) => {
      const t = lutThread(c, index, "own");
      run(run === runJob ? JOB_ABI : abi, t.ex, c, index);
      return t.log;
    };
    const c = new Int32Array(CONTROL_SLOTS);
    c[JOB_SLOT.THREADS] = 2;
    c[JOB_SLOT.ROWS] = 10;
    const jobs: Array<[number, Record<string, number>]> = [
      [JOB_OP.TERNARY_DENSE, { W_PTR: 1024, ROW_STRIDE: 32, BLOCKS: 2, MASK_PTR: 0, X_PTR: 4096, X_STRIDE: 256, TOKENS: 6, OUT_PTR: 8192, OUT_STRIDE: 10, RELAXED: 0 }],
      [JOB_OP.TERNARY_SPARSE, { W_PTR: 1024, ROW_STRIDE: 32, MASK_PTR: 16, IDX_PTR: 2048, VAL_PTR: 3072, NNZ: 5, OUT_PTR: 8192 }],
      [JOB_OP.MATMUL_F32, { W_PTR: 1024, IN_FEATURES: 7, X_PTR: 2048, TOKENS: 3, OUT_PTR: 4096 }],
      [JOB_OP.ATTENTION_SCORES, { IN_PTR: 1024, STORE_PTR: 2048, OUT_PTR: 4096, KV_HEADS: 2, GROUP: 5, HEAD_DIM: 8, POSITIONS: 9 }],
      [JOB_OP.ATTENTION_VALUES, { IN_PTR: 1024, STORE_PTR: 2048, OUT_PTR: 4096, KV_HEADS: 2, GROUP: 5, HEAD_DIM: 8, POSITIONS: 9 }],
      [JOB_OP.W8A16_DENSE, { W_PTR: 1024, IN_FEATURES: 256, SCALES_PTR: 2048, BLOCKS: 1, BLOCK_LEN: 256, X_PTR: 4096, OUT_PTR: 8192 }],
      // float32 rows, then rows each decoder decodes first (looked up by code in the ABI's DENSE_DECODERS)
      [JOB_OP.INT4_QUANTIZE, { SRC_PTR: 1024, BLOCKS: 5, DST_PTR: 8192, ROW_STRIDE: 160, NON_FINITE: 0, ENCODING: 0, ENC_PTR: 0, ENC_ROW_BYTES: 0 }],
      ...Object.values(DENSE_DECODERS).map(
        (d): [number, Record<string, number>] => [JOB_OP.INT4_QUANTIZE, { SRC_PTR: 1024, BLOCKS: 8, DST_PTR: 8192, ROW_STRIDE: 160, NON_FINITE: 0, ENCODING: d.code, ENC_PTR: 65536, ENC_ROW_BYTES: (256 / d.unit) * d.unitBytes }],
      ),
    ];
    const group = { 1: "TERNARY_DENSE", 2: "TERNARY_SPARSE", 3: "MATMUL_F32", 4: "ATTENTION", 5: "ATTENTION", 6: "W8A16_DENSE", 8: "INT4_QUANTIZE" } as const;
    for (const [op, args] of jobs) {
      c[JOB_SLOT.OP] = op;
      const slots = JOB_SLOT[group[op as keyof typeof group]] as Record<string, number>;
      for (const [k, v] of Object.entries(args)) c[slots[k]!] = v;
      for (const index of [0, 1]) {
        const expected = calls(runJob, c, index);
        expect(expected.length, `op ${op}`).toBeGreaterThan(0);
        const decoder = Object.values(DENSE_DECODERS).find((d) => d.code === args.ENCODING);
        if (decoder) expect(expected[0], `op ${op}, encoding ${args.ENCODING}`).toEqual([decoder.decode, 65536 + (index === 0 ? 0 : 8) * args.ENC_ROW_BYTES!, (index === 0 ? 8 : 2) * 256 / decoder.unit, 1024 + (index === 0 ? 0 : 8) * 8 * 128]);
        for (const run of runners) expect(calls(run, c, index)).toEqual(expected);
      }
    }
    // the table-lookup prefill branch (relaxed t2, ≥ 12 tokens, ≥ 128 rows a thread)
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_DENSE;
    c[JOB_SLOT.ROWS] = 300;
    const lutArgs = { RELAXED: 1, TOKENS: 51, OUT_STRIDE: 300, LUT_PTR: 65536, LUT_BYTES: 1000, LUT_UNITS_PTR: 90000, LUT_UNITS_CAP: 5 };
    for (const [k, v] of Object.entries(lutArgs)) c[JOB_SLOT.TERNARY_DENSE[k as keyof typeof lutArgs]] = v;
    for (const index of [0, 1]) {
      const expected = calls(runJob, c, index);
      expect(expected.some((call) => call[0] === WASM_EXPORT.T2_GEMM_LUT)).toBe(true);
      for (const run of runners) expect(calls(run, c, index)).toEqual(expected);
    }
    c[JOB_SLOT.ROWS] = 10;
    // thread 1 of 2 over 10 rows: rows [8, 10) (ranges are multiples of 4)
    const m = JOB_SLOT.MATMUL_F32;
    c[JOB_SLOT.OP] = JOB_OP.MATMUL_F32;
    c[m.W_PTR] = 1024;
    c[m.IN_FEATURES] = 7;
    c[m.X_PTR] = 2048;
    c[m.TOKENS] = 3;
    c[m.OUT_PTR] = 4096;
    expect(calls(runJob, c, 1)).toEqual([[WASM_EXPORT.MATMUL_F32, 2048, 1024, 4096, 3, 10, 7, 8, 10]]);
  });

  it("sends relaxed t2 prefill through the table-lookup GEMM in tiles of 64, 32 and 16, the rest through t2_dot_4r / t2_dot_1r", () => {
    const c = new Int32Array(CONTROL_SLOTS);
    const d = JOB_SLOT.TERNARY_DENSE;
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_DENSE;
    c[JOB_SLOT.THREADS] = 2;
    c[JOB_SLOT.ROWS] = 300; // thread 1: rows [152, 300)
    const args = { W_PTR: 1024, ROW_STRIDE: 32, BLOCKS: 2, MASK_PTR: 0, X_PTR: 4096, X_STRIDE: 128, TOKENS: 56, OUT_PTR: 8192, OUT_STRIDE: 300, RELAXED: 1, LUT_PTR: 65536, LUT_BYTES: 1000, LUT_UNITS_PTR: 90000, LUT_UNITS_CAP: 6 };
    for (const [k, v] of Object.entries(args)) c[d[k as keyof typeof d]] = v;
    // only this thread's own units (the others' are closed): the unit protocol as one thread sees it, unlogged
    let { ex, log } = lutThread(c, 1, "own");
    runJob(JOB_ABI, ex, c, 1);
    const { START, FLUSH, EPILOGUE } = JOB_ABI.LUT_GEMM;
    const lut = (t: number, n: number, flags: number, c0 = 0, c1 = 2) => [WASM_EXPORT.T2_GEMM_LUT, 1024, 32, c0, c1, 152, 300, 0, 4096 + t * 128, 128, n, 8192 + t * 1200, 300, 66536, flags, 0, 0];
    // 56 tokens (more than 48): one tile of 56; its 2 blocks in one claim, then its sums written out
    expect(log).toEqual([lut(0, 56, START), lut(0, 56, FLUSH, 0, 0)]);
    // 83: 64, then 19 left: 16, and 3 single tokens per 32-row chunk
    c[d.TOKENS] = 83;
    ({ ex, log } = lutThread(c, 1, "own"));
    runJob(JOB_ABI, ex, c, 1);
    expect(log.slice(0, 5)).toEqual([lut(0, 64, START), lut(0, 64, FLUSH, 0, 0), lut(64, 16, START), lut(64, 16, FLUSH, 0, 0), [WASM_EXPORT.T2_DOT_1_RELAXED, 1024, 32, 2, 152, 184, 0, 4096 + 80 * 128, 8192 + 80 * 1200]]);
    expect(log.length).toBe(4 + 5 * 3); // rows [152, 300): five chunks of ≤ 32 rows
    // 12..19 tokens: one tile of up to 16, 20..48 up to 32 (then 16 if 12 remain), more: up to 64; fewer than 12, or
    // fewer than 128 rows on the thread: no LUT
    const cases = [[13, 300, [13]], [19, 300, [16]], [21, 300, [21]], [48, 300, [32, 16]], [49, 300, [49]], [99, 300, [64, 32]], [11, 300, []], [40, 250, []]] as const;
    for (const [tokens, rows, tiles] of cases) {
      c[d.TOKENS] = tokens;
      c[JOB_SLOT.ROWS] = rows;
      ({ ex, log } = lutThread(c, 1, "own"));
      runJob(JOB_ABI, ex, c, 1);
      expect(log.filter((call) => call[0] === WASM_EXPORT.T2_GEMM_LUT && call[14] === START).map((call) => call[10]), `${tokens} tokens, ${rows} rows`).toEqual(tiles);
      // the tiling bit-linear-ops.ts prices (lutTiles) is the one the threads run
      if (rows >= LUT_MIN_ROWS * 2) expect(lutTiles(tokens).tiles, `lutTiles(${tokens})`).toEqual(tiles);
    }
    // SPLIT_TOKENS: thread 1 of 2 takes tokens [35, 70) over every row — a tile of 32 from token 35, its float output
    // written from its sums (the only thread in it), then the last 3 tokens through t2_dot_1r per 32-row chunk and
    // their epilogue
    Object.assign(c, { [JOB_SLOT.ROWS]: 300, [d.TOKENS]: 70, [d.SPLIT_TOKENS]: 1, [d.EPI_SCALES_PTR]: 20000, [d.EPI_TOK_PTR]: 30000 });
    ({ ex, log } = lutThread(c, 1, "own"));
    runJob(JOB_ABI, ex, c, 1);
    const tile35 = (flags: number, c0: number, c1: number, tok = 0, scales = 0) => [WASM_EXPORT.T2_GEMM_LUT, 1024, 32, c0, c1, 0, 300, 0, 4096 + 35 * 128, 128, 32, 8192 + 35 * 1200, 300, 66536, flags, tok, scales];
    expect(log.slice(0, 3)).toEqual([tile35(START, 0, 2), tile35(FLUSH | EPILOGUE, 0, 0, 30000 + 35 * 16, 20000), [WASM_EXPORT.T2_DOT_1_RELAXED, 1024, 32, 2, 0, 32, 0, 4096 + 67 * 128, 8192 + 67 * 1200]]);
    expect(log.length).toBe(2 + 10 * 3 + 1); // rows [0, 300): ten chunks of ≤ 32 rows, three tokens each
    expect(log.at(-1)).toEqual([WASM_EXPORT.T2_EPILOGUE, 8192 + 67 * 1200, 300, 3, 0, 300, 30000 + 67 * 16, 20000, 0]);
    ({ ex, log } = lutThread(c, 0, "own"));
    runJob(JOB_ABI, ex, c, 0);
    expect(log[0]).toEqual([WASM_EXPORT.T2_GEMM_LUT, 1024, 32, 0, 2, 0, 300, 0, 4096, 128, 32, 8192, 300, 65536, START, 0, 0]);
  });

  it("has a thread with no work of its own left sum the others' chunks from the back, their last unit first", () => {
    const c = new Int32Array(CONTROL_SLOTS);
    const d = JOB_SLOT.TERNARY_DENSE;
    const { START, FLUSH, EPILOGUE } = JOB_ABI.LUT_GEMM;
    // 2 threads split by tokens, 96 each (tiles of 64 and 32), 7 blocks: claims of up to 3
    Object.assign(c, { [JOB_SLOT.OP]: JOB_OP.TERNARY_DENSE, [JOB_SLOT.THREADS]: 2, [JOB_SLOT.ROWS]: 256 });
    const args = { W_PTR: 1024, ROW_STRIDE: 112, BLOCKS: 7, MASK_PTR: 0, X_PTR: 4096, X_STRIDE: 448, TOKENS: 192, OUT_PTR: 1 << 20, OUT_STRIDE: 256, RELAXED: 1, LUT_PTR: 65536, LUT_BYTES: 1000, LUT_UNITS_PTR: 90000, LUT_UNITS_CAP: 11, SPLIT_TOKENS: 1, EPI_SCALES_PTR: 20000, EPI_TOK_PTR: 30000 };
    for (const [k, v] of Object.entries(args)) c[d[k as keyof typeof d]] = v;
    const units = lutUnits();
    // thread 1 has summed the first chunk of its first tile (token 96) and is busy with the second
    const u = (thread: number, tile: number) => 90000 + (thread * 11 + tile) * 16;
    units.join(u(1, 0));
    expect(units.claim(u(1, 0), 7, 1)).toBe(3 << 16);
    // thread 0 does its own two tiles, then thread 1's second tile whole, last chunk first, then what is left of its
    // first — its part stored (the first), the rows left to thread 1, which is not done with its own part yet
    const { ex, log } = lutThread(c, 0, "all", units);
    runJob(JOB_ABI, ex, c, 0);
    // (tiles of 64 from tokens 0 and 96, of 32 from 64 and 160)
    const n = (t: number) => (t % 96 === 0 ? 64 : 32);
    const call = (t: number, c0: number, c1: number, flags: number, tok = 0, scales = 0) => [WASM_EXPORT.T2_GEMM_LUT, 1024, 112, c0, c1, 0, 256, 0, 4096 + t * 448, 448, n(t), (1 << 20) + t * 1024, 256, 65536, flags, tok, scales];
    // (a unit no other thread joined: its float output written from the sums at once)
    const alone = (t: number) => call(t, 0, 0, FLUSH | EPILOGUE, 30000 + t * 16, 20000);
    const tile = (t: number, claims: number[][]) => claims.map(([c0, c1], i) => call(t, c0!, c1!, i === 0 ? START : 0));
    expect(log).toEqual([
      ...tile(0, [[0, 3], [3, 6], [6, 7]]),
      alone(0),
      ...tile(64, [[0, 3], [3, 6], [6, 7]]),
      alone(64),
      ...tile(160, [[4, 7], [1, 4], [0, 1]]),
      alone(160),
      ...tile(96, [[4, 7], [3, 4]]),
      call(96, 0, 0, FLUSH),
    ]);
    // thread 1, back from its chunk: its part is the second (added), and it is the last member (it finishes the rows)
    expect([units.lock(u(1, 0)), units.finish(u(1, 0))]).toEqual([1, 1]);
  });
});

/** A sequential model of lut-work.wat.ts's unit state, keyed by address. */
function lutUnits() {
  const state = new Map<number, { front: number; back: number; joined: number; finished: number; closed: boolean; parts: number }>();
  const at = (u: number) => state.get(u) ?? state.set(u, { front: 0, back: 0, joined: 0, finished: 0, closed: false, parts: 0 }).get(u)!;
  return {
    join: (u: number) => {
      const s = at(u);
      if (s.closed) return 0;
      s.joined++;
      return 1;
    },
    claim: (u: number, blocks: number, front: number) => {
      const s = at(u);
      const left = blocks - s.front - s.back;
      if (left <= 0) return -1;
      const n = Math.min(3, left);
      const first = front ? s.front : blocks - s.back - n;
      if (front) s.front += n;
      else s.back += n;
      return (n << 16) | first;
    },
    finish: (u: number) => {
      const s = at(u);
      s.finished++;
      s.closed = s.finished === s.joined;
      return s.closed ? 1 : 0;
    },
    closeAlone: (u: number) => {
      const s = at(u);
      if (s.joined !== 1 || s.finished !== 0 || s.closed) return 0;
      s.finished = 1;
      s.closed = true;
      return 1;
    },
    lock: (u: number) => at(u).parts,
    unlock: (u: number) => {
      at(u).parts++;
    },
  };
}

/**
 * Kernel exports for runJob on thread `index` that log every kernel call but the unit protocol's, which `units`
 * answers ("own": units of other threads are closed to this one).
 */
function lutThread(c: Int32Array, index: number, joins: "own" | "all", units = lutUnits()) {
  const d = JOB_SLOT.TERNARY_DENSE;
  const owner = (u: number) => Math.floor((u - c[d.LUT_UNITS_PTR]!) / JOB_ABI.LUT_GEMM.UNIT_BYTES / c[d.LUT_UNITS_CAP]!);
  const protocol: Record<string, (...a: number[]) => unknown> = {
    [WASM_EXPORT.LUT_JOIN]: (u) => (joins === "own" && owner(u!) !== index ? 0 : units.join(u!)),
    [WASM_EXPORT.LUT_CLAIM]: (u, blocks, front) => units.claim(u!, blocks!, front!),
    [WASM_EXPORT.LUT_FINISH]: (u) => units.finish(u!),
    [WASM_EXPORT.LUT_CLOSE_ALONE]: (u) => units.closeAlone(u!),
    [WASM_EXPORT.LUT_LOCK]: (u) => units.lock(u!),
    [WASM_EXPORT.LUT_UNLOCK]: (u) => units.unlock(u!),
  };
  const log: unknown[][] = [];
  const ex = new Proxy({}, { get: (_, name) => protocol[name as string] ?? ((...a: number[]) => log.push([name, ...a])) }) as KernelExports;
  return { ex, log };
}
