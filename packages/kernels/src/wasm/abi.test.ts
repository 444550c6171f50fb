import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { CONTROL_SLOTS, JOB_ABI, JOB_OP, JOB_SLOT, type KernelExports, MAX_THREADS, RELAXED_ONLY_EXPORTS, WASM_EXPORT } from "./abi";
import { runJob } from "./job-driver";
import { kernelsModule, relaxedSimdAvailable } from "./wasm-module";

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
      const log: unknown[][] = [];
      const ex = new Proxy({}, { get: (_, name) => (...args: number[]) => log.push([name, ...args]) }) as KernelExports;
      run(run === runJob ? JOB_ABI : abi, ex, c, index);
      return log;
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
      [JOB_OP.INT4_QUANTIZE, { SRC_PTR: 1024, BLOCKS: 5, DST_PTR: 8192, ROW_STRIDE: 160, NON_FINITE: 0 }],
    ];
    const group = { 1: "TERNARY_DENSE", 2: "TERNARY_SPARSE", 3: "MATMUL_F32", 4: "ATTENTION", 5: "ATTENTION", 6: "W8A16_DENSE", 8: "INT4_QUANTIZE" } as const;
    for (const [op, args] of jobs) {
      c[JOB_SLOT.OP] = op;
      const slots = JOB_SLOT[group[op as keyof typeof group]] as Record<string, number>;
      for (const [k, v] of Object.entries(args)) c[slots[k]!] = v;
      for (const index of [0, 1]) {
        const expected = calls(runJob, c, index);
        expect(expected.length, `op ${op}`).toBeGreaterThan(0);
        for (const run of runners) expect(calls(run, c, index)).toEqual(expected);
      }
    }
    // the table-lookup prefill branch (relaxed t2, ≥ 12 tokens, ≥ 128 rows a thread)
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_DENSE;
    c[JOB_SLOT.ROWS] = 300;
    const lutArgs = { RELAXED: 1, TOKENS: 51, OUT_STRIDE: 300, LUT_PTR: 65536, LUT_BYTES: 1000 };
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

  it("sends relaxed t2 prefill through the table-lookup GEMM in tiles of 32 and 16, the rest through t2_dot_4r / t2_dot_1r", () => {
    const c = new Int32Array(CONTROL_SLOTS);
    const d = JOB_SLOT.TERNARY_DENSE;
    c[JOB_SLOT.OP] = JOB_OP.TERNARY_DENSE;
    c[JOB_SLOT.THREADS] = 2;
    c[JOB_SLOT.ROWS] = 300; // thread 1: rows [152, 300)
    const args = { W_PTR: 1024, ROW_STRIDE: 32, BLOCKS: 2, MASK_PTR: 0, X_PTR: 4096, X_STRIDE: 128, TOKENS: 56, OUT_PTR: 8192, OUT_STRIDE: 300, RELAXED: 1, LUT_PTR: 65536, LUT_BYTES: 1000 };
    for (const [k, v] of Object.entries(args)) c[d[k as keyof typeof d]] = v;
    const log: unknown[][] = [];
    const ex = new Proxy({}, { get: (_, name) => (...a: number[]) => log.push([name, ...a]) }) as KernelExports;
    runJob(JOB_ABI, ex, c, 1);
    const lut = (t: number, n: number) => [WASM_EXPORT.T2_GEMM_LUT, 1024, 32, 2, 152, 300, 0, 4096 + t * 128, 128, n, 8192 + t * 1200, 300, 66536];
    // 56 tokens: 32, then 24 (≥ 20 left): a tile of 24
    expect(log).toEqual([lut(0, 32), lut(32, 24)]);
    // 51: 32, then 19 left: 16, and 3 single tokens per 32-row chunk
    c[d.TOKENS] = 51;
    log.length = 0;
    runJob(JOB_ABI, ex, c, 1);
    expect(log.slice(0, 3)).toEqual([lut(0, 32), lut(32, 16), [WASM_EXPORT.T2_DOT_1_RELAXED, 1024, 32, 2, 152, 184, 0, 4096 + 48 * 128, 8192 + 48 * 1200]]);
    expect(log.length).toBe(2 + 5 * 3); // rows [152, 300): five chunks of ≤ 32 rows
    // 12..19 tokens: one tile of up to 16, 20..32 one of up to 32; fewer than 12, or fewer than 128 rows on the thread: no LUT
    for (const [tokens, rows, tiles] of [[13, 300, [13]], [19, 300, [16]], [21, 300, [21]], [11, 300, []], [40, 250, []]] as const) {
      c[d.TOKENS] = tokens;
      c[JOB_SLOT.ROWS] = rows;
      log.length = 0;
      runJob(JOB_ABI, ex, c, 1);
      expect(log.filter((call) => call[0] === WASM_EXPORT.T2_GEMM_LUT).map((call) => call[9]), `${tokens} tokens, ${rows} rows`).toEqual(tiles);
    }
    // SPLIT_TOKENS: thread 1 of 2 takes tokens [35, 70) over every row — a tile of 32 from token 35, the last 3 tokens
    // through t2_dot_1r per 32-row chunk — and finishes its tokens' rows (the epilogue from token 35)
    Object.assign(c, { [JOB_SLOT.ROWS]: 300, [d.TOKENS]: 70, [d.SPLIT_TOKENS]: 1, [d.EPI_SCALES_PTR]: 20000, [d.EPI_TOK_PTR]: 30000 });
    log.length = 0;
    runJob(JOB_ABI, ex, c, 1);
    expect(log[0]).toEqual([WASM_EXPORT.T2_GEMM_LUT, 1024, 32, 2, 0, 300, 0, 4096 + 35 * 128, 128, 32, 8192 + 35 * 1200, 300, 66536]);
    expect(log[1]).toEqual([WASM_EXPORT.T2_DOT_1_RELAXED, 1024, 32, 2, 0, 32, 0, 4096 + 67 * 128, 8192 + 67 * 1200]);
    expect(log.length).toBe(1 + 10 * 3 + 1); // rows [0, 300): ten chunks of ≤ 32 rows, three tokens each
    expect(log.at(-1)).toEqual([WASM_EXPORT.T2_EPILOGUE, 8192 + 35 * 1200, 300, 35, 0, 300, 30000 + 35 * 16, 20000, 0]);
    runJob(JOB_ABI, ex, c, 0);
    expect(log[32]).toEqual([WASM_EXPORT.T2_GEMM_LUT, 1024, 32, 2, 0, 300, 0, 4096, 128, 32, 8192, 300, 65536]);
  });
});
