/**
 * The int4 dense kernels (W4A8, js/dense-int4.ts), included into the module by kernels.wat.ts: `q4_dot` (baseline
 * SIMD) and, in the relaxed-SIMD module, `q4_dot_r`. Same signature, same bits (the conformance suite runs both).
 *
 * Layout (dense-ops.ts writes it): a row is `groups` groups of four 32-column blocks, 80 bytes each —
 *   [64 bytes: block k's 16 code bytes at 16k (codes q + 8, weight j low nibble, j + 16 high)][16 bytes: 4 × f32 d]
 * — so a row is one sequential stream, codes and scales together. One token's activations likewise, 160 bytes per
 * group (INT4_X): [128 bytes: int8 x][16 bytes: 4 × i32 8·Σx codes of each block][16 bytes: 4 × f32 scale]. Rows
 * and activations are padded to whole groups (codes 8 and d = 0 / x 0 and scale 0: a padded block adds +0).
 *
 * Per block, an i16x8 whose lanes sum four products of an unsigned code (0..15) and an int8 x (|lane| ≤ 4·15·127 =
 * 7620): the low nibbles (v & 15) and the high ones ((v >> 4) & 15, shifted as i16 lanes: x86 has no byte shift, so
 * V8's i8x16.shr_u would rebuild a mask each time) against the block's x. Relaxed: `i16x8.relaxed_dot_i8x16_i7x16_s
 * (x, codes)` (x86 pmaddubsw), exact on every engine because the codes, its second operand, are < 128 — why they
 * are stored offset by 8 rather than signed. Four blocks' vectors are reduced at once by two rounds of shuffles and
 * i16 adds (|lane| ≤ 16·15·127 = 30480 < 2¹⁵) and one extadd_pairwise into an i32x4 of the four block sums
 * Σ(q + 8)·x; subtracting 8·Σx gives the exact Σ q·x per block. Then the reference's epilogue, lane for lane:
 *   acc = f32x4.add(acc, (float(dot) · d) · scale)      y = (acc0 + acc1) + (acc2 + acc3)   ($hsumF32)
 */

/** One token's activations, per 128-column group (bytes): four blocks' int8 x (32 bytes each), their 8·Σcodes (i32) at `sums`, their scales (f32) at `scales`. */
export const INT4_X = { block: 32, sums: 128, scales: 144, group: 160 } as const;

/** The int4 functions for the module text; `relaxed` adds q4_dot_r (the relaxed-SIMD module only). */
export function denseInt4Wat(relaxed: boolean): string {
  return `${q4Funcs(false)}${relaxed ? q4Funcs(true) : ""}`;
}

// i8x16.shuffle immediates picking i16 lanes from (a, b): lane L of a is bytes 2L, 2L+1; of b, 16 + 2L, 17 + 2L.
const lanes16 = (ls: number[]) => ls.flatMap((l) => [2 * l, 2 * l + 1]).join(" ");
/** [a0..a3, b0..b3] and [a4..a7, b4..b7] */
const HALVES_LO = lanes16([0, 1, 2, 3, 8, 9, 10, 11]);
const HALVES_HI = lanes16([4, 5, 6, 7, 12, 13, 14, 15]);
/** [a0 a1 a4 a5 b0 b1 b4 b5] and [a2 a3 a6 a7 b2 b3 b6 b7] */
const QUARTERS_LO = lanes16([0, 1, 4, 5, 8, 9, 12, 13]);
const QUARTERS_HI = lanes16([2, 3, 6, 7, 10, 11, 14, 15]);

/**
 * One block's i16x8 partial sums into `s` from $v (its 16 code bytes) and its 32 int8 activations at $xp + offset:
 * the low nibbles (codes of weights 0..15) against x[0..15], the high ones (16..31) against x[16..31]. Relaxed:
 * one relaxed dot per half. Baseline: i16x8.extmul_{low,high}_i8x16_s (codes are non-negative bytes).
 * (Measured: unpacking the codes into i16 lanes against x pre-split into i16 — fewer instructions on paper — ran no
 * faster than this in V8.)
 */
function block(relaxed: boolean, s: string, offset: number): string {
  const xl = `(v128.load offset=${offset} (local.get $xp))`;
  const xh = `(v128.load offset=${offset + 16} (local.get $xp))`;
  const lo = "(v128.and (local.get $v) (local.get $m))";
  const hi = "(v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m))";
  if (relaxed) return `(local.set ${s} (i16x8.add (i16x8.relaxed_dot_i8x16_i7x16_s ${xl} ${lo}) (i16x8.relaxed_dot_i8x16_i7x16_s ${xh} ${hi})))`;
  return `(local.set $lo ${lo})
        (local.set $hi ${hi})
        (local.set $xl ${xl})
        (local.set $xh ${xh})
        (local.set ${s} (i16x8.add
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $xl)) (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $xl)))
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $hi) (local.get $xh)) (i16x8.extmul_high_i8x16_s (local.get $hi) (local.get $xh)))))`;
}

/** i16x8 [s_a half sums ×4 | s_b half sums ×4] of two blocks' i16x8 partial sums. */
function halves(a: string, b: string): string {
  return `(i16x8.add (i8x16.shuffle ${HALVES_LO} (local.get ${a}) (local.get ${b})) (i8x16.shuffle ${HALVES_HI} (local.get ${a}) (local.get ${b})))`;
}

/** i32x4 [Σ block 0, …, Σ block 3] from halves(s0, s1) and halves(s2, s3). */
function quarters(t01: string, t23: string): string {
  return `(i32x4.extadd_pairwise_i16x8_s (i16x8.add
              (i8x16.shuffle ${QUARTERS_LO} (local.get ${t01}) (local.get ${t23}))
              (i8x16.shuffle ${QUARTERS_HI} (local.get ${t01}) (local.get ${t23}))))`;
}

/**
 * The group loop of one row ($wa), storing y at $out. Blocks 0 and 1 are folded into $t01 before blocks 2 and 3
 * are computed, so few vectors are live at once (measured: a two-rows-per-pass variant that shared the activation
 * loads spilled registers in V8 and ran 1.5× slower).
 */
function rowBody(relaxed: boolean): string {
  const X = INT4_X;
  const blocks = [0, 1, 2, 3]
    .map(
      (k) => `
        (local.set $v (v128.load offset=${16 * k} (local.get $wa)))
        ${block(relaxed, `$s${k % 2}`, X.block * k)}${k % 2 === 1 ? `\n        (local.set $t${k === 1 ? "01" : "23"} ${halves("$s0", "$s1")})` : ""}`,
    )
    .join("");
  return `(local.set $m (i8x16.splat (i32.const 15)))
    (local.set $xp (local.get $x))
    (local.set $g (local.get $groups))
    (block $done
      (loop $groups_loop
        (br_if $done (i32.eqz (local.get $g)))${blocks}
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub ${quarters("$t01", "$t23")} (v128.load offset=${X.sums} (local.get $xp))))
                     (v128.load offset=64 (local.get $wa)))
          (v128.load offset=${X.scales} (local.get $xp)))))
        (local.set $wa (i32.add (local.get $wa) (i32.const 80)))
        (local.set $xp (i32.add (local.get $xp) (i32.const ${X.group})))
        (local.set $g (i32.sub (local.get $g) (i32.const 1)))
        (br $groups_loop)))
    (f32.store (local.get $out) (call $hsumF32 (local.get $acc)))`;
}

const LOCALS = `(local $xp i32) (local $g i32) (local $m v128) (local $v v128) (local $lo v128) (local $hi v128) (local $xl v128) (local $xh v128)
    (local $acc v128) (local $s0 v128) (local $s1 v128) (local $t01 v128) (local $t23 v128)`;

function q4Funcs(relaxed: boolean): string {
  const sfx = relaxed ? "_r" : "";
  return `
  ;; W4A8 dense, one row, one token (dense-int4.wat.ts)
  (func $q4_row${sfx} (param $wa i32) (param $groups i32) (param $x i32) (param $out i32)
    ${LOCALS}
    ${rowBody(relaxed)}
  )

  ;; out[r] (f32) for rows [rowStart, rowEnd): w rows of $groups 80-byte groups ($rowStride = groups·80), x one
  ;; token's activations (groups·160 bytes)
  (func (export "q4_dot${sfx}") (param $w i32) (param $rowStride i32) (param $groups i32) (param $x i32)
        (param $rowStart i32) (param $rowEnd i32) (param $out i32)
    (local $r i32)
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (call $q4_row${sfx} (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $rowStride))) (local.get $groups)
          (local.get $x) (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )
`;
}
