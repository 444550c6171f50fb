/**
 * Prefill GEMM of onebit-t2 weights by table lookup (relaxed-SIMD module only): `t2_gemm_lut`, a tile of up to
 * LUT_TILE tokens against rows [rowStart, rowEnd) of a weight in the pair layout. Same contract as t2_dot_4r:
 * out[t][r] = Σ_i code[r, i]·x[t, i] (i32, code = w + 1), bit for bit; rows whose mask byte is 0 are skipped.
 *
 * The idea (the "Four Russians" method; T-MAC, arXiv 2407.00088, does the same for low-bit weights): one byte of a
 * t2 block holds the codes of four weights of the same row — byte b of block k holds those of inputs 64k + b,
 * 64k + 16 + b, 64k + 32 + b, 64k + 48 + b at bits 0, 2, 4, 6. For each such group of four inputs, the 3⁴ = 81
 * possible signed dots Σ_j w_j·x[t, 64k + 16j + b] (w_j = field_j − 1) are computed once per token tile into a
 * table, the NT tokens in i16 lanes; then each row adds, per weight byte, the entry the byte selects: NT/8 v128 loads
 * and i16x8 adds per four weights and NT tokens, where t2_dot_4r spends a shift, an and, a relaxed dot and an add
 * per 16 weights and token, plus the widening. The byte itself is the index (entries NT·2 bytes apart, 171 a group:
 * bytes 0..0xAA): a lookup is a load8_u, a shift and an add. Only the 81 bytes whose fields are all ≤ 2 are built:
 * onebit-t2 has no code 3 (the js reference would read one as w = 2); a byte holding one reads a stale or another
 * group's entry, within the scratch (slack follows the tables), so such input gives wrong dots but no trap.
 *
 * Bounds (all exact): x ∈ [−128, 127], so |entry| ≤ 4·128 = 512, held in i16. A row sums entries in i16 over a
 * chunk of LUT_CHUNK = 3 blocks (48 groups): |Σ| ≤ 48·512 = 24576 < 2¹⁵; then the sums are widened into the row's
 * i32 accumulators. (i16 adds wrap modulo 2¹⁶, so only a chunk's true total must fit; 4 blocks could reach +32768,
 * every w = −1 against x = −128.) Σ code·x = Σ w·x + Σx: the per-token Σx over the blocks read (the activations'
 * zero padding included) is added when the dots are stored.
 *
 * A call (one thread, one token tile) reads the blocks [cStart, cEnd) and sums them into the scratch, over as many
 * calls as its caller likes (lut-work.wat.ts: the threads share a tile's blocks): LUT_START clears the sums (Σx and
 * acc32) first, LUT_FLUSH writes them out after. Chunk by chunk:
 *   1. per block of the chunk, the activations transposed to xT[i][t] (i16, tokens in lanes; 8×8 transposes by
 *      i16/i32/i64 interleaves, tokens past the tile's count read as zeros) and summed into Σx[t] (i16 per block:
 *      |Σ| ≤ 64·128); then its 16 groups' tables, each by a walk over the 81 codes in a reflected base-3 Gray code:
 *      consecutive codes differ in one field by ±1, so each entry is the previous one ± x_j, one add and one store —
 *      two of a group's 8-token vectors walked in step, as a walk is a chain of dependent adds (one at a time, a
 *      tri5 table's 243-step chains were ≈ 10 % of a 2560-row GEMM; two at a time its fixed costs fell 15–20 %);
 *   2. passes of LUT_PASS = 8 groups: every selected row (in pairs, as the layout stores them) adds its 8 entries
 *      into its i16 sums acc16[r] (in scratch); the pass's 8 tables (8·81 entries of NT·2 bytes) are what the
 *      row sweep keeps in L1/L2. A chunk's first pass stores acc16[r] (nothing to add to) and its last adds
 *      acc16[r] + its entries, widened, into acc32[r] (acc16 is neither stored back nor cleared). A separate sweep
 *      widening every row after the chunk cost ≈ 1 ms of a 19 ms 6912×2560 × 128-token GEMM (Zen 5, one thread).
 * LUT_FLUSH: out[t·outStride + r] = acc32[r][t] + Σx[t] (or, LUT_ADD, out += that: the part of another thread
 * that summed other blocks) for the tile's tokens and the selected rows: four selected rows
 * four tokens at a time through a 4×4 transpose (one store per token), the rest one value at a time. A scalar loop
 * over every value had cost ≈ 0.5 ms of a 19 ms 6912×2560 × 128-token GEMM on one thread.
 *
 * Tuning, 6912×2560 and 2560×6912 with 32 tokens against t2_dot_4r in one process (a 2-vCPU AMD EPYC VM, Zen 3:
 * 32 KiB L1d, 512 KiB L2 a core; noisy, so ±10 %): the order one would write first — a chunk's 48 tables read by
 * every row in turn, its sums kept in registers — ran at 0.6–0.7×: every lookup missed L1 and the rows' i32 sums
 * and weights streamed through L2 past the tables. Passes of 4 groups over all rows: 1.5×, once each row's address
 * was computed inline (a $rowAddr call per row and pass had cost more than the lookups: TurboFan does not inline);
 * of 8 groups with every v128 sum stored right after its loads (below): 1.7–1.9×; of 16: 1.5×. Row blocks of
 * 512–2048 rows (their sums and weight lines kept in L2 across a chunk): no better. 81-entry tables behind a byte →
 * entry map (one more dependent load a lookup): no better. NT = 64: no better, twice the scratch.
 *
 * Again on Zen 5 (a 2-vCPU EPYC VM, 48 KiB L1d, 1 MiB L2; 6912×2560 × 128 tokens, one thread, against t2_dot_4r in one
 * process): passes of 4, 8 and 16 groups, NT = 32 or 64, all within ±4 % (NT = 16 alone: 0.85×); the pass's weight
 * bytes read as two i32 words rather than eight bytes, and one-byte table displacements (each group's base in its own
 * register), no change; constant weights (every lookup from the same entries, in L1) 3 % faster. What remains is
 * about one table load and one i16x8.add a cycle (TurboFan's code for a row and pass: 8 byte loads, 8 shifts, 8 adds,
 * 32 table loads and 32 i16 adds, the sums' 4 loads and 4 stores, no spills).
 *
 * Scratch (per thread, lutScratchBytes; 16-byte aligned): [Σx: 64 i32][128 zero bytes][xT: 80·64 i16][tables:
 * 48·171·NT·2 bytes (tri5: 48·243·NT·2), then 128·NT·2 of slack][acc16: rows·NT i16][acc32: rows·NT i32]. Three widths
 * are compiled, NT = 64, 32 and 16, and a tile takes the narrowest that holds its tokens (LUT_TILES: how job-driver.ts
 * cuts a thread's tokens into tiles). The 64-token width had measured no better over t2 rows (above); over tri5
 * rows it pays (LUT_TILES), measured with each variant in its own processes, alternated: one process's placement of
 * the scratch moves a 128-token GEMM by up to ±10 %, which in-process A/B runs took for differences between kernels.
 *
 * `tri5_gemm_lut` is the same kernel over a weight in the tri5 layout (tri5-layout.wat.ts), which bit-linear-ops.ts
 * makes from the t2 rows for a prompt's GEMM: a byte holds five weights as the base-3 index Σ code_i·3^i of inputs
 * 80m + 16i + j, so a group is five inputs, its table 3⁵ = 243 entries (a Gray walk over five fields), a block 80
 * inputs (xT 80 rows) — and each lookup does 5/4 the work of a t2 one for the same instructions. Bounds: |entry| ≤
 * 5·128 = 640, a 3-block chunk 48·640 = 30720 < 2¹⁵. The cost per weight byte barely moves with the larger tables
 * (the same kernel reading random bytes over 243 entries against t2's 81: within 3 %, Zen 5).
 */

import { lutWorkWat } from "./lut-work.wat";
import { TRI5_BLOCK } from "./tri5-layout.wat";

/**
 * t2_gemm_lut flags: clear the scratch's sums first; then write them to out; add them to out rather than store; or
 * write the layer's float output (the call's thread summed every block).
 */
export const LUT_START = 1;
export const LUT_FLUSH = 2;
export const LUT_ADD = 4;
export const LUT_EPILOGUE = 8;

/** Most tokens of one call's tile. */
export const LUT_TILE = 64;
/** Blocks summed in i16 per row before widening (bound above). */
export const LUT_CHUNK = 3;
/**
 * The fewest tokens, and rows per thread, for which the dispatch takes this kernel (job-driver.ts reads them from the
 * ABI's LUT_GEMM): measured break-evens against t2_dot_4r are about 10 tokens and 100 rows (bench/t2-gemm-lut.bench.ts).
 */
export const LUT_MIN_TOKENS = 12;
export const LUT_MIN_ROWS = 128;
/**
 * How job-driver.ts cuts a run of tokens into tiles: the first width whose `from` the tokens left reach, at most what
 * is left (tokens past a tile's count are zero lanes); fewer than LUT_MIN_TOKENS left go to t2_dot_4r / t2_dot_1r.
 * Measured, one tile against the tiles before (2B4T shapes, Zen 5, alternated processes): 128 tokens in 64-token tiles
 * took 0.88–0.90× the time of 32-token ones for 6912×2560, 0.91–0.92× for 3840×2560, 0.95–0.96× for 2560×6912, 0.97–1.05×
 * for 2560×2560 (one weight byte, its index and the row's sums serve twice the tokens; the tables are twice the size);
 * 56 tokens in one 64-token tile 0.93× of 32 + 24, but 48 tokens 1.15× of 32 + 16 (bit-linear-ops.ts prices them).
 */
export const LUT_TILES: ReadonlyArray<{ readonly width: number; readonly from: number }> = [
  { width: 64, from: 49 },
  { width: 32, from: 20 },
  { width: 16, from: LUT_MIN_TOKENS },
];

/**
 * The tiles LUT_TILES cuts a run of n tokens into (as job-driver.ts does), and the tokens left after them; `maxWidth`
 * (0: any) leaves out the wider widths (lut-tuner.ts: the tiles of a machine where narrower ones run faster).
 */
export function lutTiles(n: number, maxWidth = 0): { tiles: number[]; rest: number } {
  const tiles: number[] = [];
  let left = n;
  for (;;) {
    const cut = LUT_TILES.find((t) => left >= t.from && (maxWidth === 0 || t.width <= maxWidth));
    if (!cut) return { tiles, rest: left };
    const tile = Math.min(cut.width, left);
    tiles.push(tile);
    left -= tile;
  }
}

/** The compiled width a tile of `tokens` runs in: the narrowest that holds them. */
export function lutWidth(tokens: number): number {
  return Math.min(...LUT_TILES.map((t) => t.width).filter((w) => w >= tokens));
}
/** Groups (weight bytes) per pass over the rows. */
const LUT_PASS = 8;
/**
 * Weights per group (one weight byte): 4 in t2, whose byte is the table index (entries for bytes 0..0xAA: 171), or 5
 * in the tri5 layout (tri5-layout.wat.ts), whose byte is the base-3 index Σ code_i·3^i (243 entries).
 */
type Trits = 4 | 5;
const TRITS: readonly Trits[] = [4, 5];
const entries = (trits: Trits) => (trits === 4 ? 171 : 243);
/** The compiled tile widths (tokens in i16 lanes: multiples of 8), as LUT_TILES cuts them. */
const WIDTHS = LUT_TILES.map((t) => t.width).reverse();

/** Scratch offsets: Σx (LUT_TILE i32), then the zero row a token past the tile's count reads, then xT. */
const ZEROS = LUT_TILE * 4;
const XT = ZEROS + 128;
const groupBytes = (nt: number, trits: Trits) => entries(trits) * nt * 2;
/** Start of the tables (after xT, sized for a tri5 block's 80 inputs); after them, slack for an entry index up to 255 (a t2 byte with a field 3), then the sums. */
const TABLE = XT + TRI5_BLOCK * LUT_TILE * 2;
const tableEnd = (nt: number, trits: Trits) => TABLE + LUT_CHUNK * 16 * groupBytes(nt, trits) + 128 * nt * 2;

/**
 * Per-thread scratch `t2_gemm_lut` or `tri5_gemm_lut` needs for `rows` rows (rowEnd − rowStart) and tiles of at most
 * `tokens` tokens (a wider tile's scratch holds a narrower one's: sized for the widest width a call runs, no more).
 */
export function lutScratchBytes(rows: number, tokens: number = LUT_TILE): number {
  const nt = lutWidth(Math.min(tokens, LUT_TILE));
  return Math.max(...TRITS.map((trits) => tableEnd(nt, trits) + rows * nt * 6));
}

/** The 81 code tuples (field 0 first) in a reflected base-3 Gray code: consecutive tuples differ in one field by ±1. */
function gray3(n: number): number[][] {
  if (n === 0) return [[]];
  const inner = gray3(n - 1);
  const out: number[][] = [];
  for (let d = 0; d < 3; d++) for (const t of d % 2 ? [...inner].reverse() : inner) out.push([...t, d]);
  return out;
}
const byteOf = (c: number[]) => c[0]! | (c[1]! << 2) | (c[2]! << 4) | (c[3]! << 6);
/** tri5's byte for five codes: Σ code_i·3^i. */
const base3Of = (c: number[]) => c.reduce((sum, d, i) => sum + d * 3 ** i, 0);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** i8x16.shuffle lanes interleaving the low or high halves of two vectors in units of `size` bytes (x86 punpckl*, punpckh*). */
function interleave(size: 2 | 4 | 8, high: boolean): string {
  const lanes: number[] = [];
  for (let u = 0; u < 8 / size; u++)
    for (const src of [0, 16]) for (let b = 0; b < size; b++) lanes.push(src + (high ? 8 : 0) + u * size + b);
  return lanes.join(" ");
}

/** $lut_NT (t2) or $lut5_NT (tri5): the kernel for one width (the export picks one by the tile's token count). */
function widthFunc(nt: number, trits: Trits): string {
  const V = nt / 8; // i16x8 vectors per table entry
  const GB = groupBytes(nt, trits);
  const ACC16 = tableEnd(nt, trits);
  const shift = Math.log2(nt * 2);
  const seq = gray3(trits);
  const indexOf = trits === 4 ? byteOf : base3Of;
  const name = trits === 4 ? `$lut_${nt}` : `$lut5_${nt}`;
  const xs = range(trits).map((j) => `(local.get $x${j})`);
  // one group's table for 16 tokens: $x0.. its inputs for tokens 8v..8v+7 (sum $e), $y0.. for the next 8 ($f, 16 bytes
  // further in each entry), $tp its table (+16·v). Each walk is a chain of dependent adds; two in step keep twice the
  // adds in flight
  const ys = range(trits).map((j) => `(local.get $y${j})`);
  const first = (e: string, v: string[], off: number) => [
    `(local.set ${e} (i16x8.sub (v128.const i32x4 0 0 0 0) ${v.slice(1).reduce((acc, x) => `(i16x8.add ${acc} ${x})`, v[0]!)}))`,
    `(v128.store offset=${indexOf(seq[0]!) * nt * 2 + off} (local.get $tp) (local.get ${e}))`,
  ];
  const walk = [
    ...first("$e", xs, 0),
    ...first("$f", ys, 16),
    ...seq.slice(1).flatMap((c, s) => {
      const j = c.findIndex((d, i) => d !== seq[s]![i]);
      const op = c[j]! > seq[s]![j]! ? "add" : "sub";
      return [
        `(local.set $e (i16x8.${op} (local.get $e) (local.get $x${j})))`,
        `(v128.store offset=${indexOf(c) * nt * 2} (local.get $tp) (local.get $e))`,
        `(local.set $f (i16x8.${op} (local.get $f) (local.get $y${j})))`,
        `(v128.store offset=${indexOf(c) * nt * 2 + 16} (local.get $tp) (local.get $f))`,
      ];
    }),
  ].join("\n            ");
  // 16 inputs of 8 tokens ($q0..$q7 = the tokens' int8 vectors) → xT rows 16q' .. 16q' + 15 at $dp, and their sums
  const transpose = () => {
    const lines: string[] = [];
    const shuffle = (dst: string, size: 2 | 4 | 8, high: boolean, a: string, b: string) =>
      lines.push(`(local.set ${dst} (i8x16.shuffle ${interleave(size, high)} (local.get ${a}) (local.get ${b})))`);
    for (const half of ["low", "high"] as const) {
      // r_t = token t's 8 inputs as i16
      for (let t = 0; t < 8; t++) lines.push(`(local.set $r${t} (i16x8.extend_${half}_i8x16_s (local.get $q${t})))`);
      for (let t = 0; t < 8; t += 2) {
        shuffle(`$m${t}`, 2, false, `$r${t}`, `$r${t + 1}`);
        shuffle(`$m${t + 1}`, 2, true, `$r${t}`, `$r${t + 1}`);
      }
      for (const base of [0, 4]) {
        shuffle(`$r${base}`, 4, false, `$m${base}`, `$m${base + 2}`);
        shuffle(`$r${base + 1}`, 4, true, `$m${base}`, `$m${base + 2}`);
        shuffle(`$r${base + 2}`, 4, false, `$m${base + 1}`, `$m${base + 3}`);
        shuffle(`$r${base + 3}`, 4, true, `$m${base + 1}`, `$m${base + 3}`);
      }
      // after the 32-bit stage r_j (j < 4) holds inputs 2j, 2j + 1 of tokens 0..3 and r_{j+4} those of tokens 4..7
      for (let j = 0; j < 4; j++) {
        shuffle(`$m${2 * j}`, 8, false, `$r${j}`, `$r${j + 4}`);
        shuffle(`$m${2 * j + 1}`, 8, true, `$r${j}`, `$r${j + 4}`);
      }
      // m_i now holds input i of this half over the 8 tokens
      for (let i = 0; i < 8; i++) {
        const input = (half === "high" ? 8 : 0) + i;
        lines.push(`(v128.store offset=${input * nt * 2} (local.get $dp) (local.get $m${i}))`);
        lines.push(`(local.set $sx (i16x8.add (local.get $sx) (local.get $m${i})))`);
      }
    }
    return lines.join("\n              ");
  };
  // a pass's place in its chunk: the first stores the row's i16 sums (nothing to add to), the last adds them widened
  // into its i32 sums (no separate widening sweep over the rows, no i16 sums stored back or zeroed)
  type Pass = "first" | "middle" | "last";
  const rowBody = (pass: Pass, sel: string, wOff: number, aOff: number) => {
    const addr = range(LUT_PASS).map(
      (b) => `(local.set $p${b} (i32.add (local.get $tb) (i32.shl (i32.load8_u offset=${wOff + b} (local.get $wp)) (i32.const ${shift}))))`,
    );
    const sum = (i: number) => {
      let terms = range(LUT_PASS).map((b) => `(v128.load offset=${b * GB + 16 * i} (local.get $p${b}))`);
      while (terms.length > 1) terms = range(terms.length / 2).map((j) => `(i16x8.add ${terms[2 * j]} ${terms[2 * j + 1]})`);
      return terms[0]!;
    };
    // vector by vector (the pass's loads, the sums' load, the store): each store pins its adds in place — TurboFan
    // keeps a block's loads in program order but floats pure adds down to their first use, and a row's 8·NT/8 table
    // loads hoisted above all the adds would not fit in 16 xmm registers (measured: spills, and slower)
    return `
              (if ${sel}
                (then
                  ${addr.join("\n                  ")}${range(V)
                    .map((i) => {
                      const acc16 = `(v128.load offset=${aOff + 16 * i} (local.get $ap))`;
                      if (pass === "first") return `
                  (v128.store offset=${aOff + 16 * i} (local.get $ap) ${sum(i)})`;
                      if (pass === "middle") return `
                  (v128.store offset=${aOff + 16 * i} (local.get $ap) (i16x8.add ${sum(i)} ${acc16}))`;
                      const q = 2 * aOff + 32 * i; // this row's acc32 lanes for the vector's 8 tokens
                      return `
                  (local.set $e (i16x8.add ${sum(i)} ${acc16}))
                  (v128.store offset=${q} (local.get $aq) (i32x4.add (v128.load offset=${q} (local.get $aq)) (i32x4.extend_low_i16x8_s (local.get $e))))
                  (v128.store offset=${q + 16} (local.get $aq) (i32x4.add (v128.load offset=${q + 16} (local.get $aq)) (i32x4.extend_high_i16x8_s (local.get $e))))`;
                    })
                    .join("")}))`;
  };
  const selected = (off: number) => `(i32.load8_u offset=${off} (i32.add (local.get $mask) (local.get $r)))`;
  // row `row` (acc32 at `acc`) for t = $tg .. tokens − 1 ($tg advances): out[t·outStride + row] = acc32[t] + Σx[t]
  // ("store"), out += that ("add"), the float output ("epilogue", scale at `scale`), or +0 ("zero": a masked row)
  type FlushMode = "store" | "add" | "epilogue";
  const storeRowTokens = (mode: FlushMode | "zero", row: string, acc: string, label: string, scale = "") => {
    const sum = `(i32.add (i32.load (i32.add ${acc} (i32.shl (local.get $tg) (i32.const 2)))) (i32.load (i32.add (local.get $s) (i32.shl (local.get $tg) (i32.const 2)))))`;
    const xs = "(f64.load offset=8 (i32.add (local.get $tok) (i32.shl (local.get $tg) (i32.const 4))))";
    const value = {
      store: sum,
      add: `(i32.add (i32.load (local.get $op)) ${sum})`,
      epilogue: `(f32.demote_f64 (f64.mul (f64.mul (f64.convert_i32_s (i32.load (i32.add ${acc} (i32.shl (local.get $tg) (i32.const 2))))) ${scale}) ${xs}))`,
      zero: "(f32.const 0)",
    }[mode];
    return `(block ${label}_done
              (loop ${label}
                (br_if ${label}_done (i32.ge_u (local.get $tg) (local.get $tokens)))
                (local.set $op (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $tg) (local.get $outStride)) ${row}) (i32.const 2))))
                (${mode === "epilogue" || mode === "zero" ? "f32" : "i32"}.store (local.get $op) ${value})
                (local.set $tg (i32.add (local.get $tg) (i32.const 1)))
                (br ${label})))`;
  };
  const second = "(i32.lt_u (i32.add (local.get $r) (i32.const 1)) (local.get $rowEnd))";
  // a pass over the rows in pairs (row 2p at $wp, 2p + 1 at $wp + 16); `masked`: the mask is read
  const rowsLoop = (pass: Pass, masked: boolean) => `(loop $rows${rowBody(pass, masked ? selected(0) : "(i32.const 1)", 0, 0)}${rowBody(pass, masked ? `(i32.and ${second} ${selected(1)})` : second, 16, nt * 2)}
                (local.set $wp (i32.add (local.get $wp) (local.get $pairStride)))
                (local.set $ap (i32.add (local.get $ap) (i32.const ${nt * 4})))
                (local.set $aq (i32.add (local.get $aq) (i32.const ${nt * 8})))
                (local.set $r (i32.add (local.get $r) (i32.const 2)))
                (br_if $rows (i32.lt_u (local.get $r) (local.get $rowEnd))))`;
  const zero = (from: string, to: string) => `(local.set $z ${from})
    (local.set $end ${to})
    (loop $zero
      (v128.store (local.get $z) (v128.const i32x4 0 0 0 0))
      (local.set $z (i32.add (local.get $z) (i32.const 16)))
      (br_if $zero (i32.lt_u (local.get $z) (local.get $end))))`;
  // The output (LUT_FLUSH): out[t·outStride + r] = acc32[r][t] + Σx[t] ("store"), or out += that (LUT_ADD: another
  // thread's part of the same sums is there), or (LUT_EPILOGUE: this call's thread summed every block, so
  // acc32 = Σ code·x − Σx = Σ w·x) the layer's float output as t2_epilogue computes it from the dots,
  // fround((dot − Σx) · wScale[r] · xScale[t]) in float64, masked rows +0 — one pass over the output instead of two.
  const flush = (mode: FlushMode) => {
    const sfx = `_${mode}`;
    const epi = mode === "epilogue";
    const scale = (i: number) => `(f64.promote_f32 (f32.load (i32.add (local.get $scales) (i32.shl (i32.add (local.get $r) (i32.const ${i})) (i32.const 2)))))`;
    // four rows' sums of one token (i32x4 $m) → f32x4: rows 0, 1 and 2, 3 in f64x2 lanes, as t2_epilogue
    const epi4 = (m: string, t: number) => {
      const xs = `(f64x2.splat (f64.load offset=${t * 16 + 8} (i32.add (local.get $tok) (i32.shl (local.get $t) (i32.const 4)))))`;
      const half = (d: string, w: string) => `(f32x4.demote_f64x2_zero (f64x2.mul (f64x2.mul (f64x2.convert_low_i32x4_s ${d}) (f64x2.promote_low_f32x4 ${w})) ${xs}))`;
      const hi = (v: string) => `(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 ${v} ${v})`;
      return `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${half(m, "(local.get $w4)")} ${half(hi(m), hi("(local.get $w4)"))})`;
    };
    const put = (m: string, t: number) => {
      if (mode === "store") return m;
      if (mode === "add") return `(i32x4.add (v128.load (local.get $op)) ${m})`;
      return epi4(m, t);
    };
    const rowCall = (i: number, label: string, from: string) =>
      `(local.set $tg ${from}) ${storeRowTokens(mode, `(i32.add (local.get $r) (i32.const ${i}))`, `(i32.add (local.get $a32) (i32.const ${i * nt * 4}))`, `${label}${i}${sfx}`, scale(i))}`;
    const zeroRow = (i: number) =>
      `(local.set $tg (i32.const 0)) ${storeRowTokens("zero", `(i32.add (local.get $r) (i32.const ${i}))`, "", `$zero${i}${sfx}`)}`;
    return `
    ;; four rows that are all selected go four tokens at a time (their 4×4 block of sums transposed by two rounds of
    ;; interleaves, so each token's four rows are one store), the rest one value at a time
    (local.set $r (local.get $rowStart))
    (block $quads_done${sfx}
      (loop $quads${sfx}
        (br_if $quads_done${sfx} (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rowEnd)))
        (if (i32.or (i32.eqz (local.get $mask))
              (i32.and (i32.and (i32.ne ${selected(0)} (i32.const 0)) (i32.ne ${selected(1)} (i32.const 0)))
                       (i32.and (i32.ne ${selected(2)} (i32.const 0)) (i32.ne ${selected(3)} (i32.const 0)))))
          (then
            (local.set $t (i32.const 0))${epi ? `
            (local.set $w4 (v128.load (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2)))))` : ""}
            (block $t4_done${sfx}
              (loop $t4${sfx}
                (br_if $t4_done${sfx} (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $tokens)))
                ${epi ? "" : "(local.set $e (v128.load (i32.add (local.get $s) (i32.shl (local.get $t) (i32.const 2)))))"}
                ${range(4)
                  .map((i) => {
                    const acc = `(v128.load offset=${i * nt * 4} (i32.add (local.get $a32) (i32.shl (local.get $t) (i32.const 2))))`;
                    return `(local.set $q${i} ${epi ? acc : `(i32x4.add (local.get $e) ${acc})`})`;
                  })
                  .join("\n                ")}
                ;; rows 0, 1 and 2, 3 interleaved by token, then tokens' halves paired: token t + j's four rows
                (local.set $r0 (i8x16.shuffle ${interleave(4, false)} (local.get $q0) (local.get $q1)))
                (local.set $r1 (i8x16.shuffle ${interleave(4, false)} (local.get $q2) (local.get $q3)))
                (local.set $r2 (i8x16.shuffle ${interleave(4, true)} (local.get $q0) (local.get $q1)))
                (local.set $r3 (i8x16.shuffle ${interleave(4, true)} (local.get $q2) (local.get $q3)))
                (local.set $op (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $outStride)) (local.get $r)) (i32.const 2))))
                (v128.store (local.get $op) ${put(`(i8x16.shuffle ${interleave(8, false)} (local.get $r0) (local.get $r1))`, 0)})
                (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
                (v128.store (local.get $op) ${put(`(i8x16.shuffle ${interleave(8, true)} (local.get $r0) (local.get $r1))`, 1)})
                (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
                (v128.store (local.get $op) ${put(`(i8x16.shuffle ${interleave(8, false)} (local.get $r2) (local.get $r3))`, 2)})
                (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
                (v128.store (local.get $op) ${put(`(i8x16.shuffle ${interleave(8, true)} (local.get $r2) (local.get $r3))`, 3)})
                (local.set $t (i32.add (local.get $t) (i32.const 4)))
                (br $t4${sfx})))
            ;; the tile's last tokens (fewer than four) of these rows
            ${range(4)
              .map((i) => rowCall(i, "$tail", "(local.get $t)"))
              .join("\n            ")})
          (else
            ${range(4)
              .map((i) => `(if (i32.or (i32.eqz (local.get $mask)) ${selected(i)}) (then ${rowCall(i, "$row", "(i32.const 0)")})${epi ? ` (else ${zeroRow(i)})` : ""})`)
              .join("\n            ")}))
        (local.set $a32 (i32.add (local.get $a32) (i32.const ${4 * nt * 4})))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $quads${sfx})))
    ;; the last rows (fewer than four)
    (block $rows_done${sfx}
      (loop $rest${sfx}
        (br_if $rows_done${sfx} (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (if (i32.or (i32.eqz (local.get $mask)) ${selected(0)})
          (then ${rowCall(0, "$last", "(i32.const 0)")})${epi ? ` (else ${zeroRow(0)})` : ""})
        (local.set $a32 (i32.add (local.get $a32) (i32.const ${nt * 4})))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rest${sfx})))`;
  };
  return `
  ;; ${trits === 4 ? "t2_gemm_lut" : "tri5_gemm_lut"} for tiles of up to ${nt} tokens (t2-gemm-lut.wat.ts).
  (func ${name} (param $w i32) (param $rowStride i32) (param $cStart i32) (param $cEnd i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $xStride i32) (param $tokens i32)
        (param $out i32) (param $outStride i32) (param $s i32) (param $flags i32) (param $tok i32) (param $scales i32)
    (local $c0 i32) (local $nb i32) (local $k i32) (local $b0 i32) (local $z i32) (local $end i32) (local $t i32) (local $tg i32)
    (local $dp i32) (local $q i32) (local $g i32) (local $tp i32) (local $xg i32) (local $vi i32) (local $pairStride i32)
    (local $r i32) (local $wp i32) (local $tb i32) (local $ap i32) (local $aq i32) (local $a32 i32) (local $op i32)
    ${range(LUT_PASS)
      .map((b) => `(local $p${b} i32)`)
      .join(" ")} ${range(8)
      .map((t) => `(local $xp${t} i32)`)
      .join(" ")}
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $x4 v128) (local $e v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128) (local $y4 v128) (local $f v128) (local $sx v128) (local $w4 v128)
    ${range(8)
      .map((t) => `(local $q${t} v128) (local $r${t} v128) (local $m${t} v128)`)
      .join(" ")}
    (local.set $pairStride (i32.shl (local.get $rowStride) (i32.const 1)))
    (local.set $a32 (i32.add (i32.add (local.get $s) (i32.const ${ACC16})) (i32.mul (i32.sub (local.get $rowEnd) (local.get $rowStart)) (i32.const ${nt * 2}))))
    ;; LUT_START: Σx and the zero row (padding tokens read it), then acc32 = 0 (each chunk's first pass sets acc16)
    (if (i32.and (local.get $flags) (i32.const ${LUT_START}))
      (then
    ${zero("(local.get $s)", `(i32.add (local.get $s) (i32.const ${XT}))`)}
    ${zero("(local.get $a32)", `(i32.add (local.get $a32) (i32.mul (i32.sub (local.get $rowEnd) (local.get $rowStart)) (i32.const ${nt * 4})))`)}))
    (local.set $c0 (local.get $cStart))
    (if (i32.lt_u (local.get $c0) (local.get $cEnd)) (then
    (loop $chunk
      (local.set $nb (i32.sub (local.get $cEnd) (local.get $c0)))
      (if (i32.gt_u (local.get $nb) (i32.const ${LUT_CHUNK})) (then (local.set $nb (i32.const ${LUT_CHUNK}))))
      ;; 1. the chunk's tables, block by block
      (local.set $k (i32.const 0))
      (local.set $tp (i32.add (local.get $s) (i32.const ${TABLE})))
      (loop $tables
        ;; xT[i][t] = x[t][${16 * trits}·(c0 + k) + i] as i16, 8 tokens × 16 inputs at a time; Σx[t] += the block's inputs
        (local.set $tg (i32.const 0))
        (loop $tokenGroup
          ;; (a token past the tile's count reads the 128 zero bytes at ZEROS: a block's 64 or 80)
          ${range(8)
            .map(
              (t) => `(local.set $xp${t} (select
            (i32.add (i32.add (local.get $x) (i32.mul (i32.add (local.get $tg) (i32.const ${t})) (local.get $xStride))) (i32.mul (i32.add (local.get $c0) (local.get $k)) (i32.const ${16 * trits})))
            (i32.add (local.get $s) (i32.const ${ZEROS}))
            (i32.lt_u (i32.add (local.get $tg) (i32.const ${t})) (local.get $tokens))))`,
            )
            .join("\n          ")}
          (local.set $sx (v128.const i32x4 0 0 0 0))
          (local.set $dp (i32.add (i32.add (local.get $s) (i32.const ${XT})) (i32.shl (local.get $tg) (i32.const 1))))
          (local.set $q (i32.const 0))
          (loop $inputs
            ${range(8)
              .map((t) => `(local.set $q${t} (v128.load (local.get $xp${t})))`)
              .join(" ")}
              ${transpose()}
            ${range(8)
              .map((t) => `(local.set $xp${t} (i32.add (local.get $xp${t}) (i32.const 16)))`)
              .join(" ")}
            (local.set $dp (i32.add (local.get $dp) (i32.const ${16 * nt * 2})))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br_if $inputs (i32.lt_u (local.get $q) (i32.const ${trits}))))
          (local.set $z (i32.add (local.get $s) (i32.shl (local.get $tg) (i32.const 2))))
          (v128.store offset=0 (local.get $z) (i32x4.add (v128.load offset=0 (local.get $z)) (i32x4.extend_low_i16x8_s (local.get $sx))))
          (v128.store offset=16 (local.get $z) (i32x4.add (v128.load offset=16 (local.get $z)) (i32x4.extend_high_i16x8_s (local.get $sx))))
          (local.set $tg (i32.add (local.get $tg) (i32.const 8)))
          (br_if $tokenGroup (i32.lt_u (local.get $tg) (i32.const ${nt}))))
        ;; group g reads inputs 16j + g of the block, j < ${trits} (xT rows ${nt * 2} bytes apart)
        (local.set $g (i32.const 0))
        (loop $group
          (local.set $xg (i32.add (i32.add (local.get $s) (i32.const ${XT})) (i32.mul (local.get $g) (i32.const ${nt * 2}))))
          (local.set $vi (i32.const 0))
          (loop $vec
            ${range(trits)
              .map((j) => `(local.set $x${j} (v128.load offset=${16 * j * nt * 2} (local.get $xg))) (local.set $y${j} (v128.load offset=${16 * j * nt * 2 + 16} (local.get $xg)))`)
              .join("\n            ")}
            ${walk}
            (local.set $xg (i32.add (local.get $xg) (i32.const 32)))
            (local.set $tp (i32.add (local.get $tp) (i32.const 32)))
            (local.set $vi (i32.add (local.get $vi) (i32.const 2)))
            (br_if $vec (i32.lt_u (local.get $vi) (i32.const ${V}))))
          (local.set $tp (i32.add (local.get $tp) (i32.const ${GB - nt * 2})))
          (local.set $g (i32.add (local.get $g) (i32.const 1)))
          (br_if $group (i32.lt_u (local.get $g) (i32.const 16))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $tables (i32.lt_u (local.get $k) (local.get $nb))))
      ;; 2. passes of ${LUT_PASS} groups over the rows: acc16[r] += the entries row r's bytes select
      (local.set $k (i32.const 0))
      (loop $blk
        (local.set $b0 (i32.const 0))
        (loop $pass
          (local.set $tb (i32.add (i32.add (local.get $s) (i32.const ${TABLE})) (i32.mul (i32.add (i32.shl (local.get $k) (i32.const 4)) (local.get $b0)) (i32.const ${GB}))))
          (local.set $wp (i32.add (i32.add (local.get $w) (i32.mul (i32.shr_u (local.get $rowStart) (i32.const 1)) (local.get $pairStride)))
            (i32.add (i32.shl (i32.add (local.get $c0) (local.get $k)) (i32.const 5)) (local.get $b0))))
          (local.set $ap (i32.add (local.get $s) (i32.const ${ACC16})))
          (local.set $aq (local.get $a32))
          (local.set $r (local.get $rowStart))
          ;; (a block has 16 / ${LUT_PASS} passes, so a chunk's first and last passes are distinct)
          (if (i32.eqz (i32.or (local.get $k) (local.get $b0)))
            (then (if (local.get $mask) (then ${rowsLoop("first", true)}) (else ${rowsLoop("first", false)})))
            (else (if (i32.and (i32.eq (local.get $k) (i32.sub (local.get $nb) (i32.const 1))) (i32.eq (local.get $b0) (i32.const ${16 - LUT_PASS})))
              (then (if (local.get $mask) (then ${rowsLoop("last", true)}) (else ${rowsLoop("last", false)})))
              (else (if (local.get $mask) (then ${rowsLoop("middle", true)}) (else ${rowsLoop("middle", false)}))))))
          (local.set $b0 (i32.add (local.get $b0) (i32.const ${LUT_PASS})))
          (br_if $pass (i32.lt_u (local.get $b0) (i32.const 16))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $blk (i32.lt_u (local.get $k) (local.get $nb))))
      (local.set $c0 (i32.add (local.get $c0) (local.get $nb)))
      (br_if $chunk (i32.lt_u (local.get $c0) (local.get $cEnd))))))
    (if (i32.and (local.get $flags) (i32.const ${LUT_FLUSH})) (then
      (if (i32.and (local.get $flags) (i32.const ${LUT_ADD}))
        (then ${flush("add")})
        (else (if (i32.and (local.get $flags) (i32.const ${LUT_EPILOGUE}))
          (then ${flush("epilogue")})
          (else ${flush("store")}))))))
  )
`;
}

/** The LUT GEMMs for the relaxed module's text (plain SIMD, serving the relaxed path's int8 activations). */
export function t2GemmLutWat(): string {
  const params = ["$w", "$rowStride", "$cStart", "$cEnd", "$rowStart", "$rowEnd", "$mask", "$x", "$xStride", "$tokens", "$out", "$outStride", "$s", "$flags", "$tok", "$scales"];
  const args = params.map((p) => `(local.get ${p})`).join(" ");
  const signature = params.map((p) => `(param ${p} i32)`).join(" ");
  // the narrowest width that holds the tile's tokens
  const pick = (fn: string, widths: readonly number[]): string =>
    widths.length === 1
      ? `(call ${fn}_${widths[0]} ${args})`
      : `(if (i32.le_u (local.get $tokens) (i32.const ${widths[0]}))
      (then (call ${fn}_${widths[0]} ${args}))
      (else ${pick(fn, widths.slice(1))}))`;
  const dispatch = (name: string, fn: string) => `
  (func (export "${name}") ${signature}
    ${pick(fn, WIDTHS)}
  )`;
  return `${TRITS.flatMap((trits) => WIDTHS.map((nt) => widthFunc(nt, trits))).join("")}
  ;; Σ code·x for a tile of 1..${LUT_TILE} tokens (xStride bytes apart, int8, 16-byte aligned; blocks [cStart, cEnd) of 64
  ;; inputs read) and rows [rowStart, rowEnd) (rowStart even, rowEnd > rowStart) of a t2 weight in the pair layout,
  ;; summed in the scratch s (lutScratchBytes(rowEnd − rowStart) bytes, 16-byte aligned) over calls: flags LUT_START
  ;; clears the sums first, LUT_FLUSH then stores them to out [tokens, outStride] i32 (LUT_ADD: adds them to out;
  ;; LUT_EPILOGUE, a call's thread having summed every block: f32 y, with tok [f64 Σx][f64 xScale] per token and
  ;; scales f32 [rows] as t2_epilogue takes them).${dispatch("t2_gemm_lut", "$lut")}
  ;; The same over a weight in the tri5 layout (tri5-layout.wat.ts: blocks of 80 inputs, 5 codes a byte).${dispatch("tri5_gemm_lut", "$lut5")}
${lutWorkWat(LUT_CHUNK)}`;
}
