/**
 * The int4 dense kernels (W4A8, js/dense-int4.ts), included into the module by kernels.wat.ts: `q4_dot` (baseline
 * SIMD) and, in the relaxed-SIMD module, `q4_dot_r`. Same signature, same bits (the conformance suite runs both).
 *
 * Layout (int4-quantize.wat.ts writes it): a row is `groups` groups of four 32-column blocks, 68 bytes each —
 *   [64 bytes: four code vectors][4 bytes: 2 × bf16 d, blocks 2j and 2j + 1's at 64 + 2j]
 * — codes and scales together (wasm loads need no alignment; the 2B4T head streams from memory, so its time follows
 * its bytes: 4.25 bits a weight, against 4.5 with a d per block and 5 with float32 scales). Rows are stored in
 * pairs, group by group: row 2p's group g, then row 2p + 1's (INT4_PAIR_GROUP_BYTES = 136 a pair and group;
 * `int4GroupOffset`), so a pair of rows is one sequential stream that `q4_dot_r` reads with each activation vector
 * loaded once for both rows. An odd last row takes the first 68 bytes of each of its pair's groups. The two d widen
 * to the four blocks' float32 by one shuffle of a `v128.load32_zero` with itself (D_PAIRS: a one-input shuffle, x86
 * pshufb).
 * The four blocks are interleaved four bytes at a time: byte 4k + j of code vector i (at 16i) holds block k's codes
 * of weights 4i + j (low nibble) and 16 + 4i + j (high nibble), codes q + 8. That is block k's plain byte c (ggml's Q4_0 order, js/dense-int4.ts) at
 * 16·(c >> 2) + 4k + (c & 3): the plain 4 × 16 bytes transposed as a 4 × 4 matrix of 32-bit words. So every i16
 * lane of a vector's products belongs to one block (lanes 2k, 2k + 1 to block k), and a group's eight products sum
 * lane-wise, with no shuffles, into one i16x8 whose pairs are the four block sums.
 * One token's activations, 160 bytes per group (INT4_X), in the same order: [for i = 0…3, at 32i: 16 bytes of
 * int8 x against the low nibbles of code vector i, then 16 against the high ones][16 bytes: 4 × i32 8·Σx of each
 * block][16 bytes: 4 × f32 scale]. Rows and activations are padded to whole groups (codes 8 and d = 0 / x 0 and
 * scale 0: a padded block adds +0).
 *
 * Per group, relaxed: eight `i16x8.relaxed_dot_i8x16_i7x16_s (x, codes)` (x86 pmaddubsw) of the low nibbles
 * (v & 15) and the high ones ((v >> 4) & 15, shifted as i16 lanes: x86 has no byte shift, so V8's i8x16.shr_u
 * would rebuild a mask each time), exact on every engine because the codes, its second operand, are < 128 — why
 * they are stored offset by 8 rather than signed. They are summed in i16 (a lane sums 16 products: |lane| ≤
 * 16·15·127 = 30480 < 2¹⁵), widened by one extadd_pairwise into the i32x4 of the four block sums Σ(q + 8)·x, and
 * 8·Σx is subtracted for the exact Σ q·x per block. Baseline: `i16x8.extmul_{low,high}_i8x16_s` (codes are
 * non-negative bytes) into one i16x8 for blocks 0 and 1 (the low bytes) and one for blocks 2 and 3 (≤ 8·15·127),
 * joined by one shuffle pair. Then the reference's epilogue, lane for lane:
 *   acc = f32x4.add(acc, (float(dot) · d) · scale)      y = (acc0 + acc1) + (acc2 + acc3)   ($hsumF32)
 * Relaxed, the first two code vectors' sum is also stored (one lane, into the row's output slot, which the row's
 * result overwrites): a store is ordered in V8's schedule, so it makes the first half be computed before the second
 * half's loads. Without it TurboFan issues all twelve loads of a group first, runs out of vector registers and
 * spills the accumulator every group.
 * The nibble mask is read from memory (INT4_X.mask: 16 bytes of 15 after the activations' groups, written with them):
 * a splat V8 can compute, of a constant or of a parameter, it rebuilds inside the group loop rather than keep in one
 * of the loop's 15 vector registers (three or four instructions a group; a value loaded from memory costs at most
 * one reload).
 * (Measured, bench-style loop over a 2B4T head, 128256 × 2560, one thread, alternated with the plain block order —
 * whose four block vectors needed two rounds of shuffles to fold: 0.92× the time with the head streamed from DRAM,
 * 0.84× with 256 rows in L2; with the mask a splat of a parameter rather than of a constant, 0.95× again — before the
 * load from memory above.)
 * Two rows at once, each activation vector loaded once for both, was first tried with each row's groups contiguous
 * (2026-12, Zen 5): about as fast with 2048 rows in cache (1.04× the time), and 2.3× slower with the head streamed
 * from DRAM (`bench:dense`, 1 thread: 21 against 9 ms) — two row streams 1440 bytes apart, advancing together through
 * the same pages, defeat the hardware prefetcher. With the pairs interleaved group by group (as the t2 weights store
 * theirs, layout.ts) the pair is one stream, and `q4_dot_r` takes two rows a pass: ≈ 92 instructions a pair's
 * 136-byte group against ≈ 58 for one row's 68 bytes. From memory the head is bound by how many of its lines the
 * core's out-of-order window holds in flight (docs/kernels.md, "onebit-t1 weights on wasm"), so fewer instructions a
 * byte stream faster: the 2B4T head from DRAM, one thread, alternated call by call in one process, 0.86–0.88× the
 * one-row kernel's time (0.95× in a busy minute), the same bits (Zen 4). The single-row loop (baseline SIMD, and a range's unpaired first or
 * last row) steps over the partner's groups.
 */

/** Bytes of a 128-column group of a weight row: 64 of codes, then the two pairs' bf16 d. */
export const INT4_GROUP_BYTES = 68;

/** Bytes of a row pair's group g: row 2p's group, then row 2p + 1's; the groups of a pair follow each other. */
export const INT4_PAIR_GROUP_BYTES = 2 * INT4_GROUP_BYTES;

/**
 * Where row r's group g starts in an int4 matrix whose rows hold `rowStride` = groups·68 bytes: the pair's
 * 2·rowStride bytes, then the group's 136, then the row's half of it.
 */
export const int4GroupOffset = (r: number, g: number, rowStride: number): number =>
  (r >> 1) * 2 * rowStride + g * INT4_PAIR_GROUP_BYTES + (r & 1) * INT4_GROUP_BYTES;

/** Bytes an int4 matrix of `rows` rows takes: whole pairs (an odd last row's partner half left unused). */
export const int4MatrixBytes = (rows: number, rowStride: number): number => Math.ceil(rows / 2) * 2 * rowStride;

/**
 * The group's d as float32 per block, [d₀, d₀, d₁, d₁], from the 4 bytes at 64 (a load32_zero: 16-bit lanes d₀, d₁,
 * then zeros): each bf16 moved to the high half of a 32-bit lane over a zero low half ([0, d₀, 0, d₁, …], a shuffle
 * of 16-bit lanes within the low half: x86 pshuflw), then the two lanes doubled (a shuffle of 32-bit lanes: pshufd).
 * Both take an immediate; one byte shuffle (pshufb) would take a constant vector, which V8 rebuilds inside the loop
 * from two 64-bit immediates (four instructions a group).
 */
const D_HALVES = [4, 5, 0, 1, 4, 5, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15].join(" ");
const D_PAIRS = [0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7].join(" ");

/**
 * One token's activations, per 128-column group (bytes): code vector i's low-nibble x at 32i, its high-nibble x at
 * 32i + 16, the four blocks' 8·Σcodes (i32) at `sums`, their scales (f32) at `scales`; after the last group,
 * `mask` bytes of 15 (the nibble mask the kernels read).
 */
export const INT4_X = { vector: 32, sums: 128, scales: 144, group: 160, mask: 16 } as const;

/** Where block k's plain Q4_0 code byte c (js/dense-int4.ts: weight c low nibble, c + 16 high) sits in its 68-byte group. */
export const int4CodeOffset = (k: number, c: number): number => 16 * (c >> 2) + 4 * k + (c & 3);

/** Where block k's int8 activation x_j (j = 0…31) sits in its 160-byte group: against the code of weight j. */
export const int4XOffset = (k: number, j: number): number => {
  const c = j & 15;
  return INT4_X.vector * (c >> 2) + (j >> 4) * 16 + 4 * k + (c & 3);
};

/** The int4 functions for the module text; `relaxed` adds q4_dot_r (the relaxed-SIMD module only). */
export function denseInt4Wat(relaxed: boolean): string {
  return `${q4Funcs(false)}${relaxed ? q4Funcs(true) : ""}`;
}

const I = [0, 1, 2, 3] as const;
const lo = (i: number) => `(v128.and (local.get $v${i}) (local.get $m))`;
const hi = (i: number) => `(v128.and (i16x8.shr_u (local.get $v${i}) (i32.const 4)) (local.get $m))`;
const xlo = (i: number) => `(v128.load offset=${INT4_X.vector * i} (local.get $xp))`;
const xhi = (i: number) => `(v128.load offset=${INT4_X.vector * i + 16} (local.get $xp))`;

/** i32x4 [Σ block 0, …, Σ block 3] of (q + 8)·x over the group at $wa / $xp (code vectors loaded into $v0…$v3). */
function blockSums(relaxed: boolean): string {
  if (relaxed) {
    const p = (i: number) => `(i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s ${xlo(i)} ${lo(i)}) (i16x8.relaxed_dot_i8x16_i7x16_s ${xhi(i)} ${hi(i)}))`;
    return `(block (result v128)
          (local.set $l01 (i16x8.add ${p(0)} ${p(1)}))
          (i32.store (local.get $out) (i32x4.extract_lane 0 (local.get $l01)))
          (local.set $v2 (v128.load offset=32 (local.get $wa)))
          (local.set $v3 (v128.load offset=48 (local.get $wa)))
          (i32x4.extadd_pairwise_i16x8_s (i16x8.add (local.get $l01) (i16x8.add ${p(2)} ${p(3)}))))`;
  }
  // extmul_low: bytes 0…7 (blocks 0, 1), extmul_high: bytes 8…15 (blocks 2, 3)
  const half = (which: "low" | "high", i: number) =>
    `(i16x8.add (i16x8.extmul_${which}_i8x16_s ${lo(i)} ${xlo(i)}) (i16x8.extmul_${which}_i8x16_s ${hi(i)} ${xhi(i)}))`;
  const sum = (which: "low" | "high") => `(i32x4.extadd_pairwise_i16x8_s (i16x8.add (i16x8.add ${half(which, 0)} ${half(which, 1)}) (i16x8.add ${half(which, 2)} ${half(which, 3)})))`;
  return `(block (result v128)
          (local.set $l01 ${sum("low")})
          (local.set $l23 ${sum("high")})
          (i32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $l01) (local.get $l23))
                     (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $l01) (local.get $l23))))`;
}

/** The group loop of one row ($wa), storing y at $out. */
function rowBody(relaxed: boolean): string {
  const X = INT4_X;
  // a do-while loop (groups ≥ 1): one branch a group, where a test at the top took three
  return `(local.set $xp (local.get $x))
    (local.set $g (local.get $groups))
    (loop $groups_loop
        ${(relaxed ? [0, 1] : I).map((i) => `(local.set $v${i} (v128.load offset=${16 * i} (local.get $wa)))`).join("\n        ")}
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub ${blockSums(relaxed)} (v128.load offset=${X.sums} (local.get $xp))))
                     (block (result v128)
            (local.set $d (v128.load32_zero offset=64 (local.get $wa)))
            (local.set $d (i8x16.shuffle ${D_HALVES} (local.get $d) (local.get $d)))
            (i8x16.shuffle ${D_PAIRS} (local.get $d) (local.get $d))))
          (v128.load offset=${X.scales} (local.get $xp)))))
        (local.set $wa (i32.add (local.get $wa) (i32.const ${INT4_PAIR_GROUP_BYTES})))
        (local.set $xp (i32.add (local.get $xp) (i32.const ${X.group})))
        (local.set $g (i32.sub (local.get $g) (i32.const 1)))
        (br_if $groups_loop (local.get $g)))
    ;; y = (acc0 + acc1) + (acc2 + acc3), $hsumF32's order, inline: lanes 0 and 2 of acc + [acc1, acc0, acc3, acc2]
    (local.set $acc (f32x4.add (local.get $acc) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $acc) (local.get $acc))))
    (f32.store (local.get $out) (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 2 (local.get $acc))))`;
}

const LOCALS = `(local $xp i32) (local $g i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $acc v128) (local $l01 v128) (local $l23 v128) (local $d v128)`;

const PAIR_LOCALS = `(local $xl v128) (local $xh v128) (local $vA v128) (local $vB v128) (local $lA v128) (local $lB v128)
    (local $accA v128) (local $accB v128) (local $s v128) (local $sc v128)`;

/** Row r's first group ($wa) in the pair layout: w + (r >> 1)·2·rowStride + (r & 1)·68. */
const ROW_ADDR = `(local.set $wa (i32.add (local.get $w) (i32.add
          (i32.mul (i32.shr_u (local.get $r) (i32.const 1)) (i32.shl (local.get $rowStride) (i32.const 1)))
          (i32.mul (i32.and (local.get $r) (i32.const 1)) (i32.const ${INT4_GROUP_BYTES})))))`;

/** One row alone (row $r at $out): its address, a zero accumulator, the group loop. */
const oneRow = (relaxed: boolean) => `${ROW_ADDR}
        (local.set $acc (v128.const i32x4 0 0 0 0))
        ${rowBody(relaxed)}`;

/**
 * A row pair's group loop ($wa at the pair's first group; rows A = 2p and B = 2p + 1): per code vector i, its two
 * activation vectors loaded once and dotted with both rows' codes; each row's i16 sum, widened, less 8·Σx, scaled
 * and added into its own accumulator in the single-row order (same bits). The store of the two rows' first sums
 * (into row A's output slot, overwritten by its result) pins the first half before the second's loads, as in
 * blockSums: without it TurboFan hoists the group's loads and spills (1.13× the time instead of 0.88×).
 */
function pairBody(): string {
  const X = INT4_X;
  const part = (R: "A" | "B") =>
    `(i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.and (local.get $v${R}) (local.get $m)))
                       (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.and (i16x8.shr_u (local.get $v${R}) (i32.const 4)) (local.get $m))))`;
  const step = (i: number) => `(local.set $xl ${xlo(i)})
        (local.set $xh ${xhi(i)})
        (local.set $vA (v128.load offset=${16 * i} (local.get $wa)))
        (local.set $vB (v128.load offset=${INT4_GROUP_BYTES + 16 * i} (local.get $wa)))
        (local.set $lA ${i === 0 ? part("A") : `(i16x8.add (local.get $lA) ${part("A")})`})
        (local.set $lB ${i === 0 ? part("B") : `(i16x8.add (local.get $lB) ${part("B")})`})${i === 1 ? `
        (i32.store (local.get $out) (i32x4.extract_lane 0 (i16x8.add (local.get $lA) (local.get $lB))))` : ""}`;
  const scaled = (R: "A" | "B", dOffset: number) => `(local.set $acc${R} (f32x4.add (local.get $acc${R}) (f32x4.mul
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $l${R})) (local.get $s)))
                     (block (result v128)
            (local.set $d (v128.load32_zero offset=${dOffset} (local.get $wa)))
            (local.set $d (i8x16.shuffle ${D_HALVES} (local.get $d) (local.get $d)))
            (i8x16.shuffle ${D_PAIRS} (local.get $d) (local.get $d))))
          (local.get $sc))))`;
  const store = (R: "A" | "B", offset: number) => `(local.set $acc${R} (f32x4.add (local.get $acc${R}) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $acc${R}) (local.get $acc${R}))))
    (f32.store offset=${offset} (local.get $out) (f32.add (f32x4.extract_lane 0 (local.get $acc${R})) (f32x4.extract_lane 2 (local.get $acc${R}))))`;
  return `(local.set $accA (v128.const i32x4 0 0 0 0))
    (local.set $accB (v128.const i32x4 0 0 0 0))
    (local.set $xp (local.get $x))
    (local.set $g (local.get $groups))
    (loop $pair_groups
        ${[0, 1, 2, 3].map(step).join("\n        ")}
        (local.set $s (v128.load offset=${X.sums} (local.get $xp)))
        (local.set $sc (v128.load offset=${X.scales} (local.get $xp)))
        ${scaled("A", 64)}
        ${scaled("B", INT4_GROUP_BYTES + 64)}
        (local.set $wa (i32.add (local.get $wa) (i32.const ${INT4_PAIR_GROUP_BYTES})))
        (local.set $xp (i32.add (local.get $xp) (i32.const ${X.group})))
        (local.set $g (i32.sub (local.get $g) (i32.const 1)))
        (br_if $pair_groups (local.get $g)))
    ${store("A", 0)}
    ${store("B", 4)}`;
}

function q4Funcs(relaxed: boolean): string {
  const sfx = relaxed ? "_r" : "";
  return `
  ;; W4A8 dense (dense-int4.wat.ts): out[r] (f32) for rows [rowStart, rowEnd): w rows of $groups ${INT4_GROUP_BYTES}-byte groups
  ;; ($rowStride = groups·${INT4_GROUP_BYTES}, groups ≥ 1) stored in pairs (int4GroupOffset), x one token's activations
  ;; (groups·160 bytes, then the nibble mask). The row's loop is inline (a call per row, and one of $hsumF32, cost ≈ 2 %
  ;; of a 2B4T head on one thread).${relaxed ? " Relaxed: the pairs two rows a pass, an unpaired first or last row alone." : ""}
  (func (export "q4_dot${sfx}") (param $w i32) (param $rowStride i32) (param $groups i32) (param $x i32)
        (param $rowStart i32) (param $rowEnd i32) (param $out i32)
    (local $r i32) (local $wa i32) (local $m v128)
    ${LOCALS}
    ${relaxed ? PAIR_LOCALS : ""}
    (local.set $m (v128.load (i32.add (local.get $x) (i32.mul (local.get $groups) (i32.const ${INT4_X.group})))))
    (local.set $r (local.get $rowStart))
    (local.set $out (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))
    ${relaxed ? `(if (i32.and (i32.lt_u (local.get $r) (local.get $rowEnd)) (i32.and (local.get $r) (i32.const 1)))
      (then
        ${oneRow(true)}
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (i32.add (local.get $r) (i32.const 1)) (local.get $rowEnd)))
        ${ROW_ADDR}
        ${pairBody()}
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $r) (local.get $rowEnd))
      (then
        ${oneRow(true)}))` : `(block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        ${oneRow(false)}
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))`}
  )
`;
}
