/**
 * `pnpm --filter @onebit/kernels bench:simd-width` — how far onebit's two ternary wasm kernels are from the same work
 * in native code, at wasm's vector width (128 bits) and at AVX2's (256 bits, what bitnet.cpp's I2_S and llama.cpp's
 * TQ2_0 kernels use). bench/simd-width.c holds both written in C with x86-64 intrinsics (SSE4.1, AVX2); it is built
 * here with $CC or cc (-O2 -march=native) and each of its variants runs in its own process:
 *   - C, 128-bit: the instruction mix V8 emits (every vector loaded into a register, then used);
 *   - C, 128-bit fused: the compiler's own code (loads folded into the arithmetic);
 *   - C, 256-bit (AVX2, where the CPU has it).
 * Prefill, the table-lookup GEMM's row sweep (src/wasm/t2-gemm-lut.wat.ts over tri5 rows, 32-token tiles), in ns per
 * row and table ("row-group": 5 weights × 32 tokens = 160 multiply-adds), against
 *   - wasm, the same loop: the C program's structure as wasm text (assembled here), run by V8;
 *   - wasm kernel: tri5_gemm_lut itself, its row sweep's cost taken as the difference between 6912 and 256 rows of a
 *     2560-input, 32-token call (which cancels the tables' build and the transposes; the writing out of each row's
 *     32 sums stays in, under 1 % of a row's 512 lookups' work).
 * Decode, the ternary GEMV (t2_dot_1r) on 60 matrices of 6912 × 2560 cycled, 265 MB streaming from memory as a
 * token's weights do, in µs per matrix, against the wasm kernel t2_dot_1r on the same bytes.
 * One thread. The variants alternate for BENCH_ROUNDS rounds (default 5; a shared host's speed drifts by a third
 * within minutes): medians of each round's median, printed with ratios to C's 128-bit V8 mix. Every variant must give
 * the same results (checksums) as the C one. Options (env): BENCH_ROUNDS, CC.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import wabtFactory from "wabt";
setFlagsFromString("--experimental-wasm-relaxed-simd");
import { LUT_FLUSH, LUT_START, lutScratchBytes } from "../src/wasm/t2-gemm-lut.wat";
import { kernelsModule } from "../src/wasm/wasm-module";
import { printMarkdownTable } from "./markdown-table";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS: expected a positive integer, got ${JSON.stringify(process.env.BENCH_ROUNDS)}`);
const CC = process.env.CC ?? "cc";
const ENTRIES = 243;
const ENTRY_BYTES = 64; // 32 tokens × i16
const TABLE_BYTES = ENTRIES * ENTRY_BYTES;
const ROWS = 6912;
const CHUNK_GROUPS = 48;
const MATRICES = 60; // 6912 × 2560 t2 matrices for the GEMV: 265 MB
const GEMV_COLS = 2560;
const GEMV_BLOCKS = GEMV_COLS / 64;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
/** simd-width.c's generator: x ← x·1103515245 + 12345 (mod 2³²), each call the next x. */
const lcg = (seed: number) => () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);

/** bench/simd-width.c built into a temporary folder. */
function buildC(dir: string): string {
  const src = join(dirname(fileURLToPath(import.meta.url)), "simd-width.c");
  const bin = join(dir, "simd-width");
  const res = spawnSync(CC, ["-O2", "-march=native", src, "-o", bin], { encoding: "utf8" });
  if (res.error || res.status !== 0) throw new Error(`bench:simd-width: ${CC} could not build ${src} (set CC to a C compiler): ${res.error?.message ?? res.stderr}`);
  return bin;
}

/**
 * One C variant's time (its median; lut: ns per row-group over 21 sweeps, gemv: µs per matrix over 9 passes) and
 * checksum, or undefined where the CPU lacks it (no AVX2).
 */
function runC(bin: string, variant: string): { time: number; check: string } | undefined {
  const args = variant.startsWith("lut-") ? [variant, String(ROWS), "21"] : [variant, String(MATRICES), "9"];
  const res = spawnSync(bin, args, { encoding: "utf8" });
  if (res.status === 3) return undefined;
  const m = /^(\S+) ([\d.]+) ([0-9a-f]{8})$/.exec(res.stdout.trim());
  if (res.status !== 0 || !m) throw new Error(`simd-width ${variant} failed (exit ${res.status}): ${res.stderr}${res.stdout}`);
  return { time: Number(m[2]), check: m[3]! };
}

/**
 * simd-width.c's row sweep as wasm: a chunk's 6 passes of 8 tables over row pairs, per row 8 entry addresses and per
 * 8-token vector a tree of 8 loads (+ the row's i16 sums), stored; the last pass widens into i32 sums.
 */
function mirrorWat(): string {
  const vec = (h: number, v: number, mode: "first" | "middle" | "last") => {
    let t = range(8).map((g) => `(v128.load offset=${g * TABLE_BYTES + 16 * v} (local.get $p${g}))`);
    while (t.length > 1) t = range(t.length / 2).map((j) => `(i16x8.add ${t[2 * j]} ${t[2 * j + 1]})`);
    const a = h * ENTRY_BYTES + 16 * v;
    const s = mode === "first" ? t[0] : `(i16x8.add ${t[0]} (v128.load offset=${a} (local.get $ap)))`;
    if (mode !== "last") return `(v128.store offset=${a} (local.get $ap) ${s})`;
    const q = h * 128 + 32 * v;
    return `(local.set $e ${s})
      (v128.store offset=${q} (local.get $aq) (i32x4.add (v128.load offset=${q} (local.get $aq)) (i32x4.extend_low_i16x8_s (local.get $e))))
      (v128.store offset=${q + 16} (local.get $aq) (i32x4.add (v128.load offset=${q + 16} (local.get $aq)) (i32x4.extend_high_i16x8_s (local.get $e))))`;
  };
  const row = (h: number, mode: "first" | "middle" | "last") =>
    `${range(8)
      .map((g) => `(local.set $p${g} (i32.add (local.get $tb) (i32.shl (i32.load8_u offset=${h * 16 + g} (local.get $wp)) (i32.const 6))))`)
      .join("\n      ")}
      ${range(4)
        .map((v) => vec(h, v, mode))
        .join("\n      ")}`;
  const pass = (mode: "first" | "middle" | "last") => `(local.set $r (i32.const 0)) (local.set $ap (local.get $acc)) (local.set $aq (local.get $acc32))
    (local.set $wp (i32.add (local.get $w) (i32.add (i32.mul (local.get $k) (i32.const 32)) (local.get $b0))))
    (loop $rows_${mode}
      ${row(0, mode)}
      ${row(1, mode)}
      (local.set $wp (i32.add (local.get $wp) (i32.const 96)))
      (local.set $ap (i32.add (local.get $ap) (i32.const ${2 * ENTRY_BYTES})))
      (local.set $aq (i32.add (local.get $aq) (i32.const 256)))
      (local.set $r (i32.add (local.get $r) (i32.const 2)))
      (br_if $rows_${mode} (i32.lt_u (local.get $r) (local.get $rows))))`;
  return `(module (import "env" "memory" (memory 1 65536 shared))
  (func (export "sweep") (param $tab i32) (param $w i32) (param $acc i32) (param $acc32 i32) (param $rows i32)
    (local $k i32) (local $b0 i32) (local $r i32) (local $wp i32) (local $ap i32) (local $aq i32) (local $tb i32) (local $e v128)
    ${range(8)
      .map((g) => `(local $p${g} i32)`)
      .join(" ")}
    (loop $blocks
      (local.set $b0 (i32.const 0))
      (loop $passes
        (local.set $tb (i32.add (local.get $tab) (i32.mul (i32.add (i32.mul (local.get $k) (i32.const 16)) (local.get $b0)) (i32.const ${TABLE_BYTES}))))
        (if (i32.eqz (i32.or (local.get $k) (local.get $b0)))
          (then ${pass("first")})
          (else (if (i32.and (i32.eq (local.get $k) (i32.const 2)) (i32.eq (local.get $b0) (i32.const 8)))
            (then ${pass("last")})
            (else ${pass("middle")}))))
        (local.set $b0 (i32.add (local.get $b0) (i32.const 8)))
        (br_if $passes (i32.lt_u (local.get $b0) (i32.const 16))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $blocks (i32.lt_u (local.get $k) (i32.const 3))))))`;
}

/** The wasm loop on the C program's data (same generator, so the same sums): ns per row-group and checksum. */
async function wasmMirror(): Promise<() => { time: number; check: string }> {
  const wabt = await wabtFactory();
  const parsed = wabt.parseWat("simd-width.wat", mirrorWat(), { simd: true, threads: true });
  const bytes = parsed.toBinary({}).buffer;
  parsed.destroy();
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const sweep = (new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { memory } }).exports as { sweep: (...a: number[]) => void }).sweep;
  const TAB = 4096;
  const W = TAB + CHUNK_GROUPS * TABLE_BYTES;
  const ACC = W + (ROWS / 2) * 96 + 64;
  const ACC32 = ACC + ROWS * ENTRY_BYTES;
  const end = ACC32 + ROWS * 128;
  memory.grow(Math.ceil(end / 65536));
  const u8 = new Uint8Array(memory.buffer);
  // as simd-width.c fills them: tables first, then the weight bytes
  const next = lcg(12345);
  for (let i = 0; i < CHUNK_GROUPS * TABLE_BYTES; i++) u8[TAB + i] = next() >>> 24;
  for (let i = 0; i < (ROWS / 2) * 96; i++) u8[W + i] = (next() >>> 8) % ENTRIES;
  const i32 = new Int32Array(memory.buffer, ACC32, ROWS * 32);
  return () => {
    const t: number[] = [];
    for (let rep = -3; rep < 21; rep++) {
      i32.fill(0);
      const t0 = performance.now();
      sweep(TAB, W, ACC, ACC32, ROWS);
      if (rep >= 0) t.push(performance.now() - t0);
    }
    let check = 0;
    for (let i = 0; i < ROWS * 32; i++) check = (Math.imul(check, 31) + i32[i]!) >>> 0;
    return { time: (median(t) * 1e6) / (ROWS * CHUNK_GROUPS), check: check.toString(16).padStart(8, "0") };
  };
}

/** tri5_gemm_lut's row sweep: (time of 6912 rows − time of 256 rows) per row-group, 2560 inputs, 32 tokens. */
function lutKernel(): () => number {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const lut = (new WebAssembly.Instance(kernelsModule("relaxed"), { env: { memory } }).exports as { tri5_gemm_lut: (...a: number[]) => void }).tri5_gemm_lut;
  const cols = 2560;
  const blocks = cols / 80;
  const rowStride = blocks * 16;
  const tokens = 32;
  const W = 65536;
  const X = W + ROWS * rowStride;
  const S = (X + tokens * cols + 63) & ~63;
  const OUT = S + lutScratchBytes(ROWS, tokens);
  const end = OUT + tokens * ROWS * 4;
  memory.grow(Math.ceil(end / 65536));
  const u8 = new Uint8Array(memory.buffer);
  const next = lcg(777);
  for (let i = 0; i < ROWS * rowStride; i++) u8[W + i] = (next() >>> 8) % ENTRIES;
  for (let i = 0; i < tokens * cols; i++) u8[X + i] = next() >>> 24;
  const call = (rows: number) => lut(W, rowStride, 0, blocks, 0, rows, 0, X, cols, tokens, OUT, rows, S, LUT_START | LUT_FLUSH, 0, 0);
  for (let i = 0; i < 40; i++) call(i % 2 ? ROWS : 256); // V8 optimises the kernel after its first calls
  return () => {
    const big: number[] = [];
    const small: number[] = [];
    for (let i = 0; i < 21; i++) {
      let t0 = performance.now();
      call(ROWS);
      big.push(performance.now() - t0);
      t0 = performance.now();
      call(256);
      small.push(performance.now() - t0);
    }
    return ((median(big) - median(small)) * 1e6) / ((ROWS - 256) * blocks * 16);
  };
}

/** t2_dot_1r over the C program's GEMV weights (same generator): µs per matrix (median of 9 passes) and checksum. */
function gemvKernel(): () => { time: number; check: string } {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const dot = (new WebAssembly.Instance(kernelsModule("relaxed"), { env: { memory } }).exports as { t2_dot_1r: (...a: number[]) => void }).t2_dot_1r;
  const rowStride = GEMV_BLOCKS * 16;
  const bytes = ROWS * rowStride;
  const W = 65536;
  const X = W + MATRICES * bytes;
  const OUT = X + GEMV_COLS;
  const end = OUT + MATRICES * ROWS * 4;
  memory.grow(Math.ceil(end / 65536));
  const u8 = new Uint8Array(memory.buffer);
  for (let i = 0; i < MATRICES * bytes; i++) u8[W + i] = (Math.imul(i, 2654435761) >>> 13) & 0xaa;
  const i8 = new Int8Array(memory.buffer, X, GEMV_COLS);
  for (let i = 0; i < GEMV_COLS; i++) i8[i] = ((i * 7919) % 255) - 127;
  const out = new Int32Array(memory.buffer, OUT, MATRICES * ROWS);
  const pass = () => {
    for (let m = 0; m < MATRICES; m++) dot(W + m * bytes, rowStride, GEMV_BLOCKS, 0, ROWS, 0, X, OUT + m * ROWS * 4);
  };
  for (let i = 0; i < 3; i++) pass(); // V8 optimises the kernel after its first calls
  return () => {
    const t: number[] = [];
    for (let rep = 0; rep < 9; rep++) {
      const t0 = performance.now();
      pass();
      t.push(performance.now() - t0);
    }
    let check = 0;
    for (let i = 0; i < out.length; i++) check = (Math.imul(check, 31) + out[i]!) >>> 0;
    return { time: (median(t) * 1000) / MATRICES, check: check.toString(16).padStart(8, "0") };
  };
}

/** Rows of the result table: each variant's median over the rounds, and its time as a ratio of the first's. */
function summary(names: string[], times: number[][], unit: string, rate: (t: number) => string, rateName: string): void {
  const base = median(times[0]!);
  printMarkdownTable(
    ["variant", unit, rateName, "time ÷ C 128-bit"],
    names.map((name, i) => {
      const t = median(times[i]!);
      return Number.isNaN(t) ? [name, "(no AVX2)", "-", "-"] : [name, t.toFixed(3), rate(t), (t / base).toFixed(2)];
    }),
  );
}

const lutNamesShort = "C 128, C 128 fused, C 256, wasm loop, wasm kernel";
const gemvNamesShort = "C 128, C 128 fused, C 256, wasm kernel";

async function main() {
  const os = await import("node:os");
  console.log(
    `onebit's ternary wasm kernels against the same work in C at 128 and 256 bits — ${new Date().toISOString()} — node ${process.version}, ${os.cpus()[0]?.model}, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(`one thread, ${ROUNDS} alternated rounds (prefill ns per row-group: ${lutNamesShort}; decode µs per matrix: ${gemvNamesShort})\n`);
  const dir = mkdtempSync(join(tmpdir(), "onebit-simd-width-"));
  try {
    const bin = buildC(dir);
    const mirror = await wasmMirror();
    const lut = lutKernel();
    const gemv = gemvKernel();
    const lutNames = ["C, 128-bit (V8's instruction mix)", "C, 128-bit fused", "C, 256-bit (AVX2)", "wasm, the same loop", "wasm kernel (tri5_gemm_lut)"];
    const gemvNames = ["C, 128-bit (V8's instruction mix)", "C, 128-bit fused", "C, 256-bit (AVX2)", "wasm kernel (t2_dot_1r)"];
    const lutTimes: number[][] = lutNames.map(() => []);
    const gemvTimes: number[][] = gemvNames.map(() => []);
    const same = (what: string, base: { check: string }, others: Array<[string, { check: string } | undefined]>) => {
      for (const [name, r] of others)
        if (r && r.check !== base.check) throw new Error(`bench:simd-width: ${what}, ${name}: results differ from C's 128-bit ones (checksum ${r.check}, expected ${base.check})`);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const l128 = runC(bin, "lut-128")!;
      const lFused = runC(bin, "lut-128-fused")!;
      const l256 = runC(bin, "lut-256");
      const loop = mirror();
      same("prefill", l128, [["128-bit fused", lFused], ["256-bit", l256], ["wasm loop", loop]]);
      const lRow = [l128.time, lFused.time, l256?.time ?? Number.NaN, loop.time, lut()];
      lRow.forEach((t, i) => lutTimes[i]!.push(t));
      const g128 = runC(bin, "gemv-128")!;
      const gFused = runC(bin, "gemv-128-fused")!;
      const g256 = runC(bin, "gemv-256");
      const kernel = gemv();
      same("decode", g128, [["128-bit fused", gFused], ["256-bit", g256], ["t2_dot_1r", kernel]]);
      const gRow = [g128.time, gFused.time, g256?.time ?? Number.NaN, kernel.time];
      gRow.forEach((t, i) => gemvTimes[i]!.push(t));
      console.log(`  round ${round + 1}: prefill ns/row-group ${lRow.map((t) => t.toFixed(3)).join(" ")}; decode µs/matrix ${gRow.map((t) => t.toFixed(1)).join(" ")}`);
    }
    console.log("\nPrefill: the lookup GEMM's row sweep (tri5 rows, 32-token tiles, 6912 rows × a chunk of 48 tables)");
    summary(lutNames, lutTimes, "ns / row-group", (t) => (160 / t).toFixed(0), "G multiply-adds/s");
    console.log("\nDecode: the ternary GEMV, 60 matrices of 6912 × 2560 cycled (265 MB)");
    summary(gemvNames, gemvTimes, "µs / matrix", (t) => ((ROWS * GEMV_BLOCKS * 16) / (t * 1000)).toFixed(2), "weights GB/s");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
