/**
 * The wasm kernels, in WebAssembly text. `scripts/build-wasm.ts` assembles this (with wabt) into
 * `kernels-wasm.generated.ts`, a base64 string, so Node and browsers instantiate the same bytes with no file
 * loading; a test checks the generated file matches this source.
 *
 * Ternary dot products (onebit-t2 weights × int8 activations), the trick that makes them cheap:
 * a 16-byte block holds 64 weights; viewed as eight i16 lanes, lane l holds the codes of weights 16k+2l (low
 * byte) and 16k+2l+1 (high byte) at bits 2k. One `i16x8.shr_u` by 2k (bits leaking in from the high byte land
 * above bit 1 and are masked off), then `and 0x0003` gives the even weights' codes as i16 and `and 0x0300` the odd
 * weights' codes × 256 — no byte shifts, no widening. Activations are pre-split per 16-chunk into even and odd
 * i16 lanes, so `i32x4.dot_i16x8_s` (pmaddwd) multiplies and pair-adds in one instruction. The ×256 accumulator
 * is shifted back at the end (exact: every term is a multiple of 256). Codes are w + 1, so the caller subtracts
 * Σx per token.
 */
import { bitLinearEpilogueWat } from "./bit-linear-epilogue.wat";
import { denseInt4Wat } from "./dense-int4.wat";
import { elementwiseWat } from "./elementwise.wat";
import { ggmlDecodeWat } from "./ggml-decode.wat";
import { int4QuantizeWat } from "./int4-quantize.wat";
import { ternaryPlaceWat } from "./ternary-place.wat";
import { t2GemmLutWat } from "./t2-gemm-lut.wat";
import { tri5LayoutWat } from "./tri5-layout.wat";
import { columnPanelsWat } from "./column-panels.wat";
import { t1DotWat } from "./t1-dot.wat";
import { attentionCausalWat } from "./attention-causal.wat";
import { softmaxWat } from "./softmax.wat";

/**
 * $blocks blocks in chunks of up to 8 (the i16 sums' bound, below): `sums` i16 sums zeroed per chunk, `body` a block
 * (advancing its pointers), then each sum widened into its i32 accumulator (`widen` pairs [i32 acc, i16 sum]).
 */
function chunksOf8(sums: readonly string[], body: string, widen: ReadonlyArray<readonly [string, string]>): string {
  return `(local.set $b (local.get $blocks))
    (block $done
      (loop $outer
        (br_if $done (i32.eqz (local.get $b)))
        (local.set $n (select (i32.const 8) (local.get $b) (i32.gt_u (local.get $b) (i32.const 8))))
        (local.set $b (i32.sub (local.get $b) (local.get $n)))
        ${sums.map((v) => `(local.set $${v} (v128.const i32x4 0 0 0 0))`).join("\n        ")}
        (loop $inner
          ${body}
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $inner (local.get $n)))
        ${widen.map(([acc, sum]) => `(local.set $${acc} (i32x4.add (local.get $${acc}) (i32x4.extadd_pairwise_i16x8_s (local.get $${sum}))))`).join("\n        ")}
        (br $outer)))`;
}

/** The locals of a row pair's dot ($t2_pair_r's loop, inline in t2_dot_1r), besides its $wp and $xp. */
const PAIR_LOCALS = `(local $b i32) (local $n i32) (local $m3 v128) (local $m12 v128) (local $va v128) (local $vb v128) (local $ha v128) (local $hb v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $a1 v128) (local $a4 v128) (local $b1 v128) (local $b4 v128)
    (local $accA1 v128) (local $accA4 v128) (local $accB1 v128) (local $accB4 v128)`;

/** A row pair's $blocks blocks at $wp against the activations at $xp (both advanced) into $accA1/4, $accB1/4. */
const pairBlocks = `(local.set $accA1 (v128.const i32x4 0 0 0 0))
    (local.set $accA4 (v128.const i32x4 0 0 0 0))
    (local.set $accB1 (v128.const i32x4 0 0 0 0))
    (local.set $accB4 (v128.const i32x4 0 0 0 0))
    ${chunksOf8(
      ["a1", "a4", "b1", "b4"],
      `(local.set $va (v128.load offset=0 (local.get $wp)))
          (local.set $vb (v128.load offset=16 (local.get $wp)))
          (local.set $x0 (v128.load offset=0 (local.get $xp)))
          (local.set $x1 (v128.load offset=16 (local.get $xp)))
          (local.set $x2 (v128.load offset=32 (local.get $xp)))
          (local.set $x3 (v128.load offset=48 (local.get $xp)))
          (local.set $ha (i16x8.shr_u (local.get $va) (i32.const 4)))
          (local.set $hb (i16x8.shr_u (local.get $vb) (i32.const 4)))
          (local.set $a1 (i16x8.add (local.get $a1) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (v128.and (local.get $va) (local.get $m3)))))
          (local.set $b1 (i16x8.add (local.get $b1) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x0) (v128.and (local.get $vb) (local.get $m3)))))
          (local.set $a4 (i16x8.add (local.get $a4) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (v128.and (local.get $va) (local.get $m12)))))
          (local.set $b4 (i16x8.add (local.get $b4) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x1) (v128.and (local.get $vb) (local.get $m12)))))
          (local.set $a1 (i16x8.add (local.get $a1) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x2) (v128.and (local.get $ha) (local.get $m3)))))
          (local.set $b1 (i16x8.add (local.get $b1) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x2) (v128.and (local.get $hb) (local.get $m3)))))
          (local.set $a4 (i16x8.add (local.get $a4) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x3) (v128.and (local.get $ha) (local.get $m12)))))
          (local.set $b4 (i16x8.add (local.get $b4) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x3) (v128.and (local.get $hb) (local.get $m12)))))
          (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
          (local.set $xp (i32.add (local.get $xp) (i32.const 64)))`,
      [["accA1", "a1"], ["accA4", "a4"], ["accB1", "b1"], ["accB4", "b4"]],
    )}`;

/**
 * The pair's two dots into lanes 0 and 1 of $accA4 (S1 + S4/4 for each row, then its lanes summed), all in vectors
 * (V8 does not inline wasm calls, so a $hsum per row would be a call): [a0+a2, a1+a3, b0+b2, b1+b3], then [A, B].
 */
const pairSums = `(local.set $accA1 (i32x4.add (local.get $accA1) (i32x4.shr_s (local.get $accA4) (i32.const 2))))
    (local.set $accB1 (i32x4.add (local.get $accB1) (i32x4.shr_s (local.get $accB4) (i32.const 2))))
    (local.set $accA4 (i32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $accA1) (local.get $accB1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $accA1) (local.get $accB1))))
    (local.set $accA4 (i32x4.add
      (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $accA4) (local.get $accA4))
      (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $accA4) (local.get $accA4))))`;

/**
 * Relaxed-SIMD kernels (Chrome 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd): the same 2-bit
 * codes, unpacked to one code per byte — byte b of a 16-byte block holds weights 16k + b at bits 2k, so
 * `i16x8.shr_u` by 2k then `and 0x03` per byte gives 16 consecutive weights' codes — and multiplied against
 * plain int8 activations by `i16x8.relaxed_dot_i8x16_i7x16_s` (x86: pmaddubsw): 16 products per instruction
 * instead of 8, and no even/odd split of the activations. A block's four i16 results are summed in i16 (|lane| ≤
 * 4·2·2·128 = 2048), over up to 8 blocks for one token (≤ 16384), and then widened (`extadd_pairwise`). Weights sit in
 * interleaved row pairs ($rowAddr) so one token's kernel computes two rows per pass. The instruction's result is
 * implementation-defined only when the second operand has its top bit set; codes are 0, 1 or 2, so it is exact
 * on every engine. (`i32x4.relaxed_dot_i8x16_i7x16_add_s` would save the widening, but Node 20's V8 computes it
 * wrongly — it ignores the accumulator and doubles the dot — so it is not used.) Same contract as the baseline
 * kernels: out = Σ code·x, the caller subtracts Σx.
 */
const RELAXED_FUNCS = `
  ;; Read one byte of every 64-byte line of [p, p + bytes): a skipped pair of rows stays in the sequential stream the
  ;; hardware prefetcher follows (measured: skipping pairs outright made a half-masked GEMV slower than a full one).
  (func $touchLines (param $p i32) (param $bytes i32) (result i32)
    (local $end i32) (local $acc i32)
    (local.set $end (i32.add (local.get $p) (local.get $bytes)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $acc (i32.or (local.get $acc) (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $l)))
    (local.get $acc)
  )

  ;; One row's dot for one token in the pair layout (blocks 32 bytes apart): the unpaired rows of a masked projection
  ;; (ReLU²GLU's up rows whose partner's gate is zero). Planes read as in $t2_pair_r below — one shift a block, two
  ;; i16 sums (plain and 4× products), each dot added straight into its sum, widened every 8 blocks — 13 vector
  ;; operations a block where three shifts took 15.
  (func $t2_row_r (param $wp i32) (param $blocks i32) (param $x i32) (param $out i32)
    (local $b i32) (local $n i32) (local $m3 v128) (local $m12 v128) (local $v v128) (local $h v128)
    (local $s1 v128) (local $s4 v128) (local $acc1 v128) (local $acc4 v128)
    (local.set $m3 (i8x16.splat (i32.const 3)))
    (local.set $m12 (i8x16.splat (i32.const 12)))
    ${chunksOf8(
      ["s1", "s4"],
      `(local.set $v (v128.load (local.get $wp)))
          (local.set $h (i16x8.shr_u (local.get $v) (i32.const 4)))
          (local.set $s1 (i16x8.add (local.get $s1)
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=0 (local.get $x)) (v128.and (local.get $v) (local.get $m3)))))
          (local.set $s4 (i16x8.add (local.get $s4)
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=16 (local.get $x)) (v128.and (local.get $v) (local.get $m12)))))
          (local.set $s1 (i16x8.add (local.get $s1)
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=32 (local.get $x)) (v128.and (local.get $h) (local.get $m3)))))
          (local.set $s4 (i16x8.add (local.get $s4)
            (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=48 (local.get $x)) (v128.and (local.get $h) (local.get $m12)))))
          (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
          (local.set $x (i32.add (local.get $x) (i32.const 64)))`,
      [["acc1", "s1"], ["acc4", "s4"]],
    )}
    (i32.store (local.get $out) (call $hsum (i32x4.add (local.get $acc1) (i32x4.shr_s (local.get $acc4) (i32.const 2)))))
  )

  ;; Two rows' dots for one token at once (decode): each activation vector is loaded once for both rows. The planes
  ;; are read with one shift per block, not three: planes 0 and 1 masked in place (v & 3 = code, v & 12 = 4·code),
  ;; planes 2 and 3 the same from v >> 4, so each row keeps two i16 sums, of plain products (S1) and of 4× products
  ;; (S4), and the dot is S1 + S4/4 (exact: S4 is a multiple of 4). A lane of S4 gains two pair sums a block, each
  ;; in [2·8·(−128), 2·8·127] = [−2048, 2032], so both sums are widened every 8 blocks: S4 ∈ [−32768, 32512], inside
  ;; i16, and every partial sum on the way too (S1 gains a quarter of that). (Measured against the three-shift
  ;; version on 30 6912×2560 matrices from DRAM, one thread: 0.94× the time. Then, on Zen 3, a loop over 32 row
  ;; pairs × 2560 in L1, in one process: each dot added straight into its sum, rather than two dots added first,
  ;; and the widening every 8 blocks rather than 7: 8.5–8.8 cycles a block of a pair against 9.1–9.2; with no
  ;; widening at all 8.2, and the same 26 operations as independent chains 7.0.)
  (func $t2_pair_r (param $wp i32) (param $blocks i32) (param $xp i32) (param $outA i32) (param $outB i32)
    ${PAIR_LOCALS}
    (local.set $m3 (i8x16.splat (i32.const 3)))
    (local.set $m12 (i8x16.splat (i32.const 12)))
    ${pairBlocks}
    ${pairSums}
    (i32.store (local.get $outA) (i32x4.extract_lane 0 (local.get $accA4)))
    (i32.store (local.get $outB) (i32x4.extract_lane 1 (local.get $accA4)))
  )
  ;; Σ_i code[r, i]·x[i] for rows [rowStart, rowEnd) (rowStart even), one token; x: int8, blocks·64 bytes. Without a
  ;; mask every pair of rows goes through the pair loop inline (a call of $t2_pair_r and of $rowAddr per pair cost
  ;; ≈ 2 % of a 2B4T token's GEMVs) and an odd last row through $t2_row_r. With a mask (0: none) a pair of rows both
  ;; selected goes through $t2_pair_r, a pair with one selected row through $t2_row_r.
  (func (export "t2_dot_1r") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $out i32)
    (local $r i32) (local $selA i32) (local $selB i32) (local $touch i32) (local $pair i32) (local $op i32) (local $wp i32) (local $xp i32)
    ${PAIR_LOCALS}
    (if (i32.eqz (local.get $mask))
      (then
        (local.set $m3 (i8x16.splat (i32.const 3)))
        (local.set $m12 (i8x16.splat (i32.const 12)))
        (local.set $pair (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $rowStart)))
        (local.set $op (i32.add (local.get $out) (i32.shl (local.get $rowStart) (i32.const 2))))
        (local.set $r (local.get $rowStart))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.ge_u (i32.add (local.get $r) (i32.const 1)) (local.get $rowEnd)))
            (local.set $wp (local.get $pair))
            (local.set $xp (local.get $x))
            ${pairBlocks}
            ${pairSums}
            (v128.store64_lane 0 (local.get $op) (local.get $accA4))
            (local.set $pair (i32.add (local.get $pair) (i32.shl (local.get $rowStride) (i32.const 1))))
            (local.set $op (i32.add (local.get $op) (i32.const 8)))
            (local.set $r (i32.add (local.get $r) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_u (local.get $r) (local.get $rowEnd))
          (then (call $t2_row_r (local.get $pair) (local.get $blocks) (local.get $x) (local.get $op))))
        (return)))
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (local.set $selA (i32.load8_u (i32.add (local.get $mask) (local.get $r))))
        (local.set $selB (i32.and (i32.lt_u (i32.add (local.get $r) (i32.const 1)) (local.get $rowEnd))
          (i32.load8_u offset=1 (i32.add (local.get $mask) (local.get $r)))))
        (if (i32.and (local.get $selA) (local.get $selB))
          (then
            (call $t2_pair_r (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)) (local.get $blocks) (local.get $x)
              (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
              (i32.add (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (i32.const 4))))
          (else
            (if (local.get $selA)
              (then (call $t2_row_r (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)) (local.get $blocks) (local.get $x)
                (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))))
            (if (local.get $selB)
              (then (call $t2_row_r (i32.add (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)) (i32.const 16)) (local.get $blocks) (local.get $x)
                (i32.add (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (i32.const 4)))))
            (if (i32.eqz (i32.or (local.get $selA) (local.get $selB)))
              (then (local.set $touch (i32.or (local.get $touch)
                (call $touchLines (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)) (i32.shl (local.get $rowStride) (i32.const 1)))))))))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $rows)))
    ;; keep the touch loads observable (their only purpose is to pull the skipped lines into the cache stream)
    (if (i32.eq (local.get $touch) (i32.const 0x7fffffff)) (then (i32.store (local.get $out) (local.get $touch))))
  )

  ;; Four tokens at once (prefill): each block's four code vectors are decoded once and used four times.
  ;; x: four tokens' int8 activations, xStride bytes apart; out: [4, outStride] i32.
  (func (export "t2_dot_4r") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $xStride i32)
        (param $out i32) (param $outStride i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32) (local $op i32)
    (local $wv v128) (local $m v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local.set $m (i8x16.splat (i32.const 3)))
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (if (i32.or (i32.eqz (local.get $mask))
                    (i32.load8_u (i32.add (local.get $mask) (local.get $r))))
          (then
            (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $wp (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)))
            (local.set $xp (local.get $x))
            (local.set $b (local.get $blocks))
            (block $blk_done
              (loop $blk
                (br_if $blk_done (i32.eqz (local.get $b)))
                (local.set $x1 (i32.add (local.get $xp) (local.get $xStride)))
                (local.set $x2 (i32.add (local.get $x1) (local.get $xStride)))
                (local.set $x3 (i32.add (local.get $x2) (local.get $xStride)))
                (local.set $wv (v128.load (local.get $wp)))
                (local.set $c0 (v128.and (local.get $wv) (local.get $m)))
                (local.set $c1 (v128.and (i16x8.shr_u (local.get $wv) (i32.const 2)) (local.get $m)))
                (local.set $c2 (v128.and (i16x8.shr_u (local.get $wv) (i32.const 4)) (local.get $m)))
                (local.set $c3 (v128.and (i16x8.shr_u (local.get $wv) (i32.const 6)) (local.get $m)))
                ${["$xp", "$x1", "$x2", "$x3"]
                  .map(
                    (xv, t) => `
                (local.set $a${t} (i32x4.add (local.get $a${t}) (i32x4.extadd_pairwise_i16x8_s
                  (i16x8.add
                    (i16x8.add
                      (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=0 (local.get ${xv})) (local.get $c0))
                      (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=16 (local.get ${xv})) (local.get $c1)))
                    (i16x8.add
                      (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=32 (local.get ${xv})) (local.get $c2))
                      (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=48 (local.get ${xv})) (local.get $c3)))))))`,
                  )
                  .join("")}
                (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
                (local.set $b (i32.sub (local.get $b) (i32.const 1)))
                (br $blk)))
            (local.set $op (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))
            (i32.store (local.get $op) (call $hsum (local.get $a0)))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
            (i32.store (local.get $op) (call $hsum (local.get $a1)))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
            (i32.store (local.get $op) (call $hsum (local.get $a2)))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
            (i32.store (local.get $op) (call $hsum (local.get $a3)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )
`;

/** The module text; with `relaxed`, the relaxed-SIMD kernels are added (that module needs an engine with them). */
export function kernelsWat(relaxed: boolean): string {
  return KERNELS_WAT_BASE.replace(/\)\s*$/, `${denseInt4Wat(relaxed)}${int4QuantizeWat()}${ggmlDecodeWat()}${bitLinearEpilogueWat()}${elementwiseWat()}${softmaxWat()}${attentionCausalWat()}${ternaryPlaceWat()}${t1DotWat(relaxed)}${relaxed ? `${RELAXED_FUNCS}${t2GemmLutWat()}${tri5LayoutWat()}${columnPanelsWat()}` : ""})\n`);
}

/**
 * The head loop both attention kernels share: over heads [$h0, $h1), pointing `inputPtr` at the head's input row
 * (q or p, `inputStride` floats apart), `storePtr` at its KV head's first row in the store and $op at its output
 * row (`outStride` floats apart). Sets $d16 (d rounded down to 16) and $rowBytes (one position of the store).
 */
function headLoopStart(o: { input: string; inputPtr: string; inputStride: string; store: string; storePtr: string; outStride: string }): string {
  const rowOf = (base: string, index: string, stride: string) => `(i32.add (local.get ${base}) (i32.shl (i32.mul ${index} (local.get ${stride})) (i32.const 2)))`;
  return `(local.set $d16 (i32.and (local.get $d) (i32.const -16)))
    (local.set $rowBytes (i32.shl (i32.mul (local.get $kvHeads) (local.get $d)) (i32.const 2)))
    (local.set $h (local.get $h0))
    (block $h_done
      (loop $hl
        (br_if $h_done (i32.ge_u (local.get $h) (local.get $h1)))
        (local.set ${o.inputPtr} ${rowOf(o.input, "(local.get $h)", o.inputStride)})
        (local.set ${o.storePtr} ${rowOf(o.store, "(i32.div_u (local.get $h) (local.get $group))", "$d")})
        (local.set $op ${rowOf("$out", "(local.get $h)", o.outStride)})`;
}
const HEAD_LOOP_END = `(local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hl)))`;

/** row_stats: |x| of four floats at $p + 4·$i + off as their bits (sign cleared; $mask holds 0x7fffffff). */
const absBits = (off: number) => `(v128.and (v128.load offset=${off} (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (local.get $mask))`;
/** row_codes: four codes as i32 — x · s clamped to [lo, hi], rounded half to even by the 1.5·2²³ addition. */
const clampRound = (off: number) =>
  `(i32x4.sub (f32x4.add (f32x4.pmin (f32x4.pmax (f32x4.mul (v128.load offset=${off} (local.get $p)) (local.get $sv)) (local.get $lov)) (local.get $hiv)) (local.get $magic)) (local.get $magic))`;

const KERNELS_WAT_BASE = `
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Rows are stored in interleaved pairs (the backend pads to an even count): block k of row r sits at
  ;; w + (r >> 1)*2*rowStride + k*32 + (r & 1)*16, so a pair streams through memory as one sequence.
  (func $rowAddr (param $w i32) (param $rowStride i32) (param $r i32) (result i32)
    (i32.add (local.get $w)
      (i32.add (i32.mul (i32.shr_u (local.get $r) (i32.const 1)) (i32.shl (local.get $rowStride) (i32.const 1)))
               (i32.shl (i32.and (local.get $r) (i32.const 1)) (i32.const 4)))))

;; The float32 dot's fixed summation order (js/matmul-f32.ts, js/attention.ts): lanes combined as
  ;; (l0 + l1) + (l2 + l3), then the elements [i, n) of a·b added one by one.
  (func $hsumF32 (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
  (func $dotTail (param $s f32) (param $a i32) (param $b i32) (param $i i32) (param $n i32) (result f32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f32.add (local.get $s)
          (f32.mul (f32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
                   (f32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s)
  )

  ;; horizontal sum of four i32 lanes
  (func $hsum (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; Raw ternary dots for rows [rowStart, rowEnd) and one token:
  ;;   out[r] = Σ_i code[r, i]·x[i]   (code = w + 1)
  ;; w: packed rows (interleaved in pairs, see $rowAddr), blocks: 64-weight blocks per row to read, x: split activations
  ;; (blocks·128 bytes), mask: 0 or a byte per row (0 = skip).
  (func (export "t2_dot_1") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $out i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $wv v128) (local $v v128) (local $accA v128) (local $accB v128)
    (local $lo v128) (local $hi v128)
    (local.set $lo (i16x8.splat (i32.const 0x0003)))
    (local.set $hi (i16x8.splat (i32.const 0x0300)))
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (if (i32.or (i32.eqz (local.get $mask))
                    (i32.load8_u (i32.add (local.get $mask) (local.get $r))))
          (then
            (local.set $accA (v128.const i32x4 0 0 0 0))
            (local.set $accB (v128.const i32x4 0 0 0 0))
            (local.set $wp (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)))
            (local.set $xp (local.get $x))
            (local.set $b (local.get $blocks))
            (block $blk_done
              (loop $blk
                (br_if $blk_done (i32.eqz (local.get $b)))
                (local.set $wv (v128.load (local.get $wp)))
                ;; k = 0
                (local.set $accA (i32x4.add (local.get $accA) (i32x4.dot_i16x8_s (v128.and (local.get $wv) (local.get $lo)) (v128.load offset=0 (local.get $xp)))))
                (local.set $accB (i32x4.add (local.get $accB) (i32x4.dot_i16x8_s (v128.and (local.get $wv) (local.get $hi)) (v128.load offset=16 (local.get $xp)))))
                ;; k = 1
                (local.set $v (i16x8.shr_u (local.get $wv) (i32.const 2)))
                (local.set $accA (i32x4.add (local.get $accA) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $lo)) (v128.load offset=32 (local.get $xp)))))
                (local.set $accB (i32x4.add (local.get $accB) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $hi)) (v128.load offset=48 (local.get $xp)))))
                ;; k = 2
                (local.set $v (i16x8.shr_u (local.get $wv) (i32.const 4)))
                (local.set $accA (i32x4.add (local.get $accA) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $lo)) (v128.load offset=64 (local.get $xp)))))
                (local.set $accB (i32x4.add (local.get $accB) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $hi)) (v128.load offset=80 (local.get $xp)))))
                ;; k = 3
                (local.set $v (i16x8.shr_u (local.get $wv) (i32.const 6)))
                (local.set $accA (i32x4.add (local.get $accA) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $lo)) (v128.load offset=96 (local.get $xp)))))
                (local.set $accB (i32x4.add (local.get $accB) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $hi)) (v128.load offset=112 (local.get $xp)))))
                (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 128)))
                (local.set $b (i32.sub (local.get $b) (i32.const 1)))
                (br $blk)))
            (i32.store
              (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
              (i32.add (call $hsum (local.get $accA)) (i32.shr_s (call $hsum (local.get $accB)) (i32.const 8))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )

  ;; The same for four tokens at once: each weight block is decoded once and used four times (prefill).
  ;; x: four tokens' split activations, xStride bytes apart; out: [4, outStride] i32 (outStride in elements).
  (func (export "t2_dot_4") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $xStride i32)
        (param $out i32) (param $outStride i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32) (local $op i32)
    (local $wv v128) (local $v v128) (local $A v128) (local $B v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local.set $lo (i16x8.splat (i32.const 0x0003)))
    (local.set $hi (i16x8.splat (i32.const 0x0300)))
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (if (i32.or (i32.eqz (local.get $mask))
                    (i32.load8_u (i32.add (local.get $mask) (local.get $r))))
          (then
            (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $b0 (v128.const i32x4 0 0 0 0)) (local.set $b1 (v128.const i32x4 0 0 0 0))
            (local.set $b2 (v128.const i32x4 0 0 0 0)) (local.set $b3 (v128.const i32x4 0 0 0 0))
            (local.set $wp (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)))
            (local.set $xp (local.get $x))
            (local.set $b (local.get $blocks))
            (block $blk_done
              (loop $blk
                (br_if $blk_done (i32.eqz (local.get $b)))
                (local.set $x1 (i32.add (local.get $xp) (local.get $xStride)))
                (local.set $x2 (i32.add (local.get $x1) (local.get $xStride)))
                (local.set $x3 (i32.add (local.get $x2) (local.get $xStride)))
                (local.set $wv (v128.load (local.get $wp)))
                ${[0, 1, 2, 3]
                  .map(
                    (k) => `
                (local.set $v ${k === 0 ? "(local.get $wv)" : `(i16x8.shr_u (local.get $wv) (i32.const ${2 * k}))`})
                (local.set $A (v128.and (local.get $v) (local.get $lo)))
                (local.set $B (v128.and (local.get $v) (local.get $hi)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $A) (v128.load offset=${32 * k} (local.get $xp)))))
                (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (local.get $B) (v128.load offset=${32 * k + 16} (local.get $xp)))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $A) (v128.load offset=${32 * k} (local.get $x1)))))
                (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (local.get $B) (v128.load offset=${32 * k + 16} (local.get $x1)))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $A) (v128.load offset=${32 * k} (local.get $x2)))))
                (local.set $b2 (i32x4.add (local.get $b2) (i32x4.dot_i16x8_s (local.get $B) (v128.load offset=${32 * k + 16} (local.get $x2)))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $A) (v128.load offset=${32 * k} (local.get $x3)))))
                (local.set $b3 (i32x4.add (local.get $b3) (i32x4.dot_i16x8_s (local.get $B) (v128.load offset=${32 * k + 16} (local.get $x3)))))`,
                  )
                  .join("")}
                (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 128)))
                (local.set $b (i32.sub (local.get $b) (i32.const 1)))
                (br $blk)))
            (local.set $op (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))
            (i32.store (local.get $op) (i32.add (call $hsum (local.get $a0)) (i32.shr_s (call $hsum (local.get $b0)) (i32.const 8))))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
            (i32.store (local.get $op) (i32.add (call $hsum (local.get $a1)) (i32.shr_s (call $hsum (local.get $b1)) (i32.const 8))))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
            (i32.store (local.get $op) (i32.add (call $hsum (local.get $a2)) (i32.shr_s (call $hsum (local.get $b2)) (i32.const 8))))
            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))
            (i32.store (local.get $op) (i32.add (call $hsum (local.get $a3)) (i32.shr_s (call $hsum (local.get $b3)) (i32.const 8))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )

  ;; Sparse activations, one token: out[r] = Σ_j w[r, idx[j]]·val[j] over the nnz non-zero activations
  ;; (exact Σ w·x, not code-based). Reads 2-bit codes straight from the packed row.
  (func (export "t2_dot_sparse") (param $w i32) (param $rowStride i32) (param $rowStart i32) (param $rowEnd i32)
        (param $mask i32) (param $idx i32) (param $val i32) (param $nnz i32) (param $out i32)
    (local $r i32) (local $wp i32) (local $j i32) (local $i i32) (local $acc i32)
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (if (i32.or (i32.eqz (local.get $mask))
                    (i32.load8_u (i32.add (local.get $mask) (local.get $r))))
          (then
            (local.set $wp (call $rowAddr (local.get $w) (local.get $rowStride) (local.get $r)))
            (local.set $acc (i32.const 0))
            (local.set $j (i32.const 0))
            (block $nz_done
              (loop $nz
                (br_if $nz_done (i32.ge_u (local.get $j) (local.get $nnz)))
                (local.set $i (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $acc
                  (i32.add (local.get $acc)
                    (i32.mul
                      (i32.sub
                        (i32.and
                          (i32.shr_u
                            (i32.load8_u (i32.add (local.get $wp)
                              (i32.add (i32.shl (i32.shr_u (local.get $i) (i32.const 6)) (i32.const 5))
                                       (i32.and (local.get $i) (i32.const 15)))))
                            (i32.shl (i32.and (i32.shr_u (local.get $i) (i32.const 4)) (i32.const 3)) (i32.const 1)))
                          (i32.const 3))
                        (i32.const 1))
                      (i32.load (i32.add (local.get $val) (i32.shl (local.get $j) (i32.const 2)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $nz)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $acc))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )

  ;; Attention scores (see js/attention.ts for the summation order): for heads [h0, h1) and positions j < n,
  ;; out[h*n + j] = q[h] . keys[j, floor(h/group)] (unscaled). keys: [n, kvHeads, d] f32, rowBytes = kvHeads*d*4.
  (func $attn_scores (export "attn_scores") (param $q i32) (param $k i32) (param $out i32) (param $kvHeads i32) (param $group i32)
        (param $d i32) (param $n i32) (param $h0 i32) (param $h1 i32)
    (local $h i32) (local $j i32) (local $i i32) (local $qp i32) (local $kp i32) (local $op i32)
    (local $d16 i32) (local $rowBytes i32) (local $kq i32) (local $ks i32) (local $sa f32) (local $sb f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    ${headLoopStart({ input: "$q", inputPtr: "$qp", inputStride: "$d", store: "$k", storePtr: "$kp", outStride: "$n" })}
        (local.set $j (i32.const 0))
        ;; two positions at a time (j, j + 1): each loads q once and keeps its own four accumulators — two independent
        ;; chains of adds where one position alone waits on each add's latency; each position's sums are the
        ;; single-position order (16 lanes, then (a0 + a1) + (a2 + a3), then the lanes, then the tail), so the same bits
        (block $pair_done
          (loop $pl
            (br_if $pair_done (i32.ge_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
            ${[0, 1, 2, 3].map((a) => `(local.set $a${a} (v128.const f32x4 0 0 0 0)) (local.set $b${a} (v128.const f32x4 0 0 0 0))`).join("\n            ")}
            (local.set $i (i32.const 0))
            (block $pi_done
              (loop $pil
                (br_if $pi_done (i32.ge_u (local.get $i) (local.get $d16)))
                ;; 8 dimensions a step: a0, a1 (b0, b1) take them, then the accumulators change roles (a0, a1 ← a2, a3;
                ;; a2, a3 ← the new sums), so after two steps each a_k has taken i = 16n + 4k + lane as before. A step of
                ;; 16 had TurboFan hoist its 12 loads above the arithmetic: with 8 accumulators, spills every iteration
                (local.set $kq (i32.add (local.get $kp) (i32.shl (local.get $i) (i32.const 2))))
                (local.set $ks (i32.add (local.get $kq) (local.get $rowBytes)))
                (local.set $q0 (v128.load (i32.add (local.get $qp) (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $q1 (v128.load offset=16 (i32.add (local.get $qp) (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $q2 (f32x4.add (local.get $a0) (f32x4.mul (local.get $q0) (v128.load (local.get $kq)))))
                (local.set $q3 (f32x4.add (local.get $a1) (f32x4.mul (local.get $q1) (v128.load offset=16 (local.get $kq)))))
                (local.set $a0 (local.get $a2)) (local.set $a1 (local.get $a3)) (local.set $a2 (local.get $q2)) (local.set $a3 (local.get $q3))
                (local.set $q2 (f32x4.add (local.get $b0) (f32x4.mul (local.get $q0) (v128.load (local.get $ks)))))
                (local.set $q3 (f32x4.add (local.get $b1) (f32x4.mul (local.get $q1) (v128.load offset=16 (local.get $ks)))))
                (local.set $b0 (local.get $b2)) (local.set $b1 (local.get $b3)) (local.set $b2 (local.get $q2)) (local.set $b3 (local.get $q3))
                (local.set $i (i32.add (local.get $i) (i32.const 8)))
                (br $pil)))
            ;; the lanes summed here, (l0 + l1) + (l2 + l3) as $hsumF32 does (V8 does not inline wasm calls: two calls a
            ;; position had cost a fifth of this loop); the d mod 16 tail only when there is one
            (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
            (local.set $b0 (f32x4.add (f32x4.add (local.get $b0) (local.get $b1)) (f32x4.add (local.get $b2) (local.get $b3))))
            (local.set $sa (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
                                    (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
            (local.set $sb (f32.add (f32.add (f32x4.extract_lane 0 (local.get $b0)) (f32x4.extract_lane 1 (local.get $b0)))
                                    (f32.add (f32x4.extract_lane 2 (local.get $b0)) (f32x4.extract_lane 3 (local.get $b0)))))
            (if (i32.lt_u (local.get $d16) (local.get $d))
              (then
                (local.set $sa (call $dotTail (local.get $sa) (local.get $qp) (local.get $kp) (local.get $i) (local.get $d)))
                (local.set $sb (call $dotTail (local.get $sb) (local.get $qp) (i32.add (local.get $kp) (local.get $rowBytes)) (local.get $i) (local.get $d)))))
            (f32.store (i32.add (local.get $op) (i32.shl (local.get $j) (i32.const 2))) (local.get $sa))
            (f32.store offset=4 (i32.add (local.get $op) (i32.shl (local.get $j) (i32.const 2))) (local.get $sb))
            (local.set $kp (i32.add (local.get $kp) (i32.shl (local.get $rowBytes) (i32.const 1))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pl)))
        ;; the last position when n is odd
        (block $j_done
          (loop $jl
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
            (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $i_done
              (loop $il
                (br_if $i_done (i32.ge_u (local.get $i) (local.get $d16)))
                ${[0, 1, 2, 3]
                  .map(
                    (a) => `(local.set $a${a} (f32x4.add (local.get $a${a}) (f32x4.mul
                  (v128.load offset=${16 * a} (i32.add (local.get $qp) (i32.shl (local.get $i) (i32.const 2))))
                  (v128.load offset=${16 * a} (i32.add (local.get $kp) (i32.shl (local.get $i) (i32.const 2)))))))`,
                  )
                  .join("\n                ")}
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $il)))
            (f32.store (i32.add (local.get $op) (i32.shl (local.get $j) (i32.const 2)))
              (call $dotTail
                (call $hsumF32 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
                (local.get $qp) (local.get $kp) (local.get $i) (local.get $d)))
            (local.set $kp (i32.add (local.get $kp) (local.get $rowBytes)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $jl)))
        ${HEAD_LOOP_END}
  )

  ;; Attention values: for heads [h0, h1), out[h, i] = sum over j<n (in order) of p[h*n + j] * values[j, floor(h/group), i].
  (func $attn_values (export "attn_values") (param $p i32) (param $vals i32) (param $out i32) (param $kvHeads i32) (param $group i32)
        (param $d i32) (param $n i32) (param $h0 i32) (param $h1 i32)
    (local $h i32) (local $j i32) (local $i i32) (local $pp i32) (local $vb i32) (local $vp i32) (local $op i32)
    (local $d16 i32) (local $rowBytes i32) (local $s f32) (local $w v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    ${headLoopStart({ input: "$p", inputPtr: "$pp", inputStride: "$n", store: "$vals", storePtr: "$vb", outStride: "$d" })}
        (local.set $i (i32.const 0))
        ;; 32 dimensions at a time: eight accumulators, so each position's adds are not waiting on the last one's
        ;; latency (every dimension still sums its positions in order, one f32 add each: the same bits)
        (block $i32_done
          (loop $i32l
            (br_if $i32_done (i32.gt_u (i32.add (local.get $i) (i32.const 32)) (local.get $d16)))
            ${[0, 1, 2, 3, 4, 5, 6, 7].map((a) => `(local.set $a${a} (v128.const f32x4 0 0 0 0))`).join(" ")}
            (local.set $vp (i32.add (local.get $vb) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $j (i32.const 0))
            ;; two positions an iteration (each accumulator still adds position j, then j + 1): half the loop's own
            ;; work (the counter, the branch, V8's stack check at the back edge) per multiply-add
            (block $j32p_done
              (loop $j32p
                (br_if $j32p_done (i32.ge_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
                (local.set $w (f32x4.splat (f32.load (i32.add (local.get $pp) (i32.shl (local.get $j) (i32.const 2))))))
                ${[0, 1, 2, 3, 4, 5, 6, 7].map((a) => `(local.set $a${a} (f32x4.add (local.get $a${a}) (f32x4.mul (local.get $w) (v128.load offset=${16 * a} (local.get $vp)))))`).join("\n                ")}
                (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
                (local.set $w (f32x4.splat (f32.load offset=4 (i32.add (local.get $pp) (i32.shl (local.get $j) (i32.const 2))))))
                ${[0, 1, 2, 3, 4, 5, 6, 7].map((a) => `(local.set $a${a} (f32x4.add (local.get $a${a}) (f32x4.mul (local.get $w) (v128.load offset=${16 * a} (local.get $vp)))))`).join("\n                ")}
                (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
                (local.set $j (i32.add (local.get $j) (i32.const 2)))
                (br $j32p)))
            (block $j32_done
              (loop $j32l
                (br_if $j32_done (i32.ge_u (local.get $j) (local.get $n)))
                (local.set $w (f32x4.splat (f32.load (i32.add (local.get $pp) (i32.shl (local.get $j) (i32.const 2))))))
                ${[0, 1, 2, 3, 4, 5, 6, 7].map((a) => `(local.set $a${a} (f32x4.add (local.get $a${a}) (f32x4.mul (local.get $w) (v128.load offset=${16 * a} (local.get $vp)))))`).join("\n                ")}
                (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $j32l)))
            ${[0, 1, 2, 3, 4, 5, 6, 7].map((a) => `(v128.store offset=${16 * a} (i32.add (local.get $op) (i32.shl (local.get $i) (i32.const 2))) (local.get $a${a}))`).join("\n            ")}
            (local.set $i (i32.add (local.get $i) (i32.const 32)))
            (br $i32l)))
        (block $i_done
          (loop $il
            (br_if $i_done (i32.ge_u (local.get $i) (local.get $d16)))
            (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0))
            (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0))
            (local.set $vp (i32.add (local.get $vb) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $j (i32.const 0))
            (block $j_done
              (loop $jl
                (br_if $j_done (i32.ge_u (local.get $j) (local.get $n)))
                (local.set $w (f32x4.splat (f32.load (i32.add (local.get $pp) (i32.shl (local.get $j) (i32.const 2))))))
                ${[0, 1, 2, 3].map((a) => `(local.set $a${a} (f32x4.add (local.get $a${a}) (f32x4.mul (local.get $w) (v128.load offset=${16 * a} (local.get $vp)))))`).join("\n                ")}
                (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jl)))
            ${[0, 1, 2, 3].map((a) => `(v128.store offset=${16 * a} (i32.add (local.get $op) (i32.shl (local.get $i) (i32.const 2))) (local.get $a${a}))`).join("\n            ")}
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $il)))
        (block $t_done
          (loop $tl
            (br_if $t_done (i32.ge_u (local.get $i) (local.get $d)))
            (local.set $s (f32.const 0))
            (local.set $vp (i32.add (local.get $vb) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $j (i32.const 0))
            (block $tj_done
              (loop $tj
                (br_if $tj_done (i32.ge_u (local.get $j) (local.get $n)))
                (local.set $s (f32.add (local.get $s)
                  (f32.mul (f32.load (i32.add (local.get $pp) (i32.shl (local.get $j) (i32.const 2)))) (f32.load (local.get $vp)))))
                (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tj)))
            (f32.store (i32.add (local.get $op) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tl)))
        ${HEAD_LOOP_END}
  )

  ;; W8A16 dense rows [rowStart, rowEnd), one token (js/dense.ts): out[r] = sum over blocks b, in order, in f32, of
  ;; f32(f32(dot_b) * scales[r*blocks + b]), dot_b the exact i32 dot of int8 w and int16 x over the block.
  ;; w: [rows, in] int8, x: int16 [in], scales: f32 [rows, blocks].
  (func (export "q8_dot") (param $w i32) (param $in i32) (param $scales i32) (param $blocks i32) (param $blockLen i32)
        (param $x i32) (param $rowStart i32) (param $rowEnd i32) (param $out i32)
    (local $r i32) (local $b i32) (local $wp i32) (local $xp i32) (local $sp i32) (local $k i32)
    (local $n32 i32) (local $n16 i32) (local $acc f32) (local $dot i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $wv v128) (local $wv2 v128)
    (local.set $n32 (i32.and (local.get $blockLen) (i32.const -32)))
    (local.set $n16 (i32.and (local.get $blockLen) (i32.const -16)))
    (local.set $r (local.get $rowStart))
    (block $r_done
      (loop $rl
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $in))))
        (local.set $sp (i32.add (local.get $scales) (i32.shl (i32.mul (local.get $r) (local.get $blocks)) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $acc (f32.const 0))
        (local.set $b (i32.const 0))
        (block $b_done
          (loop $bl
            (br_if $b_done (i32.ge_u (local.get $b) (local.get $blocks)))
            (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $k (i32.const 0))
            (block $k_done
              (loop $kl
                (br_if $k_done (i32.ge_u (local.get $k) (local.get $n32)))
                (local.set $wv (v128.load (i32.add (local.get $wp) (local.get $k))))
                (local.set $wv2 (v128.load offset=16 (i32.add (local.get $wp) (local.get $k))))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $wv))
                  (v128.load (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $wv))
                  (v128.load offset=16 (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $wv2))
                  (v128.load offset=32 (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $wv2))
                  (v128.load offset=48 (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 32)))
                (br $kl)))
            (if (i32.lt_u (local.get $k) (local.get $n16))
              (then
                (local.set $wv (v128.load (i32.add (local.get $wp) (local.get $k))))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $wv))
                  (v128.load (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $wv))
                  (v128.load offset=16 (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))))
            (local.set $dot (call $hsum (i32x4.add (i32x4.add (local.get $a0) (local.get $a1)) (i32x4.add (local.get $a2) (local.get $a3)))))
            (block $t_done
              (loop $tl
                (br_if $t_done (i32.ge_u (local.get $k) (local.get $blockLen)))
                (local.set $dot (i32.add (local.get $dot)
                  (i32.mul (i32.load8_s (i32.add (local.get $wp) (local.get $k)))
                           (i32.load16_s (i32.add (local.get $xp) (i32.shl (local.get $k) (i32.const 1)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $tl)))
            (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.convert_i32_s (local.get $dot)) (f32.load (local.get $sp)))))
            (local.set $wp (i32.add (local.get $wp) (local.get $blockLen)))
            (local.set $xp (i32.add (local.get $xp) (i32.shl (local.get $blockLen) (i32.const 1))))
            (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $bl)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $acc))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl)))
  )

  ;; Per-row statistics of x [rows, n] f32 into stats (f64 per row): absmax (kind 0; order-free), or the sum of |x|
  ;; added in order in f64 (kind 1: the absmean numerator, exactly as @onebit/quant sums it). NaN/Inf propagate.
  (func (export "row_stats") (param $x i32) (param $n i32) (param $rows i32) (param $kind i32) (param $stats i32)
    (local $r i32) (local $i i32) (local $p i32) (local $n4 i32) (local $m v128) (local $s f64)
    (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $mask v128) (local $bits i32) (local $k i32)
    (local.set $mask (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $r_done
      (loop $rl
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
        (if (i32.eqz (local.get $kind))
          (then
            ;; |x| as integers: a non-negative float's bits order as it does, and Inf / NaN above every finite value, so
            ;; i32 max (one instruction) gives the absmax's bits, or a non-finite value the caller then rejects; f32x4.max
            ;; is several on x64 (NaN and ±0 exact). Four independent maxima, 16 values a step.
            (local.set $m (v128.const i32x4 0 0 0 0))
            (local.set $m1 (v128.const i32x4 0 0 0 0))
            (local.set $m2 (v128.const i32x4 0 0 0 0))
            (local.set $m3 (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $d16 (loop $l16
              (br_if $d16 (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
              (local.set $m (i32x4.max_s (local.get $m) ${absBits(0)}))
              (local.set $m1 (i32x4.max_s (local.get $m1) ${absBits(16)}))
              (local.set $m2 (i32x4.max_s (local.get $m2) ${absBits(32)}))
              (local.set $m3 (i32x4.max_s (local.get $m3) ${absBits(48)}))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $l16)))
            (block $d (loop $l
              (br_if $d (i32.ge_u (local.get $i) (local.get $n4)))
              (local.set $m (i32x4.max_s (local.get $m) ${absBits(0)}))
              (local.set $i (i32.add (local.get $i) (i32.const 4)))
              (br $l)))
            (local.set $m (i32x4.max_s (i32x4.max_s (local.get $m) (local.get $m1)) (i32x4.max_s (local.get $m2) (local.get $m3))))
            (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
            (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m))))
            (local.set $bits (i32x4.extract_lane 0 (local.get $m)))
            (block $d2 (loop $l2
              (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
              (local.set $k (i32.and (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 0x7fffffff)))
              (local.set $bits (select (local.get $k) (local.get $bits) (i32.gt_s (local.get $k) (local.get $bits))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l2)))
            (f64.store (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 3))) (f64.promote_f32 (f32.reinterpret_i32 (local.get $bits)))))
          (else
            (local.set $s (f64.const 0))
            (local.set $i (i32.const 0))
            (block $d3 (loop $l3
              (br_if $d3 (i32.ge_u (local.get $i) (local.get $n)))
              (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.abs (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l3)))
            (f64.store (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 3))) (local.get $s))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl)))
  )

  ;; codes[r, i] = clamp(nearest(f32(x[r, i] * s[r])), lo, hi) as int8 (nearest = round half to even); returns the
  ;; number of zero codes. s: f32 per row; x finite (the caller has checked its statistic).
  ;; In SIMD the product is clamped first (the same codes: nearest is monotonic and lo, hi are integers), then
  ;; rounded by adding 1.5·2²³, whose float32 sum rounds half to even at the units place, and read back as the sum's
  ;; bits less 1.5·2²³'s: two instructions, where nearest + trunc_sat are ≈ 9 on x64 (V8 guards trunc_sat's NaN and
  ;; overflow lanes), and pmin/pmax one each, where min/max (NaN- and ±0-exact) are several.
  (func (export "row_codes") (param $x i32) (param $n i32) (param $rows i32) (param $s i32) (param $lo i32) (param $hi i32)
        (param $codes i32) (result i32)
    (local $r i32) (local $i i32) (local $p i32) (local $c i32) (local $n16 i32) (local $zeros i32)
    (local $sv v128) (local $lov v128) (local $hiv v128) (local $magic v128) (local $q v128) (local $sc f32) (local $k i32)
    (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
    (local.set $lov (f32x4.splat (f32.convert_i32_s (local.get $lo))))
    (local.set $hiv (f32x4.splat (f32.convert_i32_s (local.get $hi))))
    (local.set $magic (v128.const f32x4 12582912 12582912 12582912 12582912))
    (local.set $r (i32.const 0))
    (block $r_done
      (loop $rl
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
        (local.set $c (i32.add (local.get $codes) (i32.mul (local.get $r) (local.get $n))))
        (local.set $sc (f32.load (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $sv (f32x4.splat (local.get $sc)))
        (local.set $i (i32.const 0))
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $i) (local.get $n16)))
          (local.set $q
            (i8x16.narrow_i16x8_s
              (i16x8.narrow_i32x4_s
                ${clampRound(0)}
                ${clampRound(16)})
              (i16x8.narrow_i32x4_s
                ${clampRound(32)}
                ${clampRound(48)})))
          (v128.store (local.get $c) (local.get $q))
          (local.set $zeros (i32.add (local.get $zeros) (i32.popcnt (i8x16.bitmask (i8x16.eq (local.get $q) (v128.const i32x4 0 0 0 0))))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $l)))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $k (i32.trunc_sat_f32_s (f32.nearest (f32.mul (f32.load (local.get $p)) (local.get $sc)))))
          (local.set $k (select (local.get $hi) (local.get $k) (i32.gt_s (local.get $k) (local.get $hi))))
          (local.set $k (select (local.get $lo) (local.get $k) (i32.lt_s (local.get $k) (local.get $lo))))
          (i32.store8 (local.get $c) (local.get $k))
          (local.set $zeros (i32.add (local.get $zeros) (i32.eqz (local.get $k))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l2)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl)))
    (local.get $zeros)
  )

  ;; Unsigned codes to f32 (js/dequantize-unsigned.ts): a bit stream from bit $shift of $codes, $bits per code,
  ;; $groups groups of $gsize codes with f32 scale and offset each. 4-bit byte-aligned groups of 16k codes take
  ;; the SIMD path (nibbles interleaved back into order by a shuffle); anything else reads bit by bit.
  (func (export "dequant_u") (param $codes i32) (param $shift i32) (param $bits i32) (param $groups i32) (param $gsize i32)
        (param $scales i32) (param $offsets i32) (param $out i32)
    (local $g i32) (local $i i32) (local $bit i32) (local $mask i32) (local $word i32) (local $cp i32) (local $op i32)
    (local $sc f32) (local $of f32) (local $sv v128) (local $ov v128) (local $b v128) (local $c v128) (local $w v128)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $bits)) (i32.const 1)))
    (if (i32.and (i32.and (i32.eq (local.get $bits) (i32.const 4)) (i32.eqz (local.get $shift)))
                 (i32.eqz (i32.and (local.get $gsize) (i32.const 15))))
      (then
        (local.set $cp (local.get $codes))
        (local.set $op (local.get $out))
        (local.set $g (i32.const 0))
        (block $gd (loop $gl
          (br_if $gd (i32.ge_u (local.get $g) (local.get $groups)))
          (local.set $sv (f32x4.splat (f32.load (i32.add (local.get $scales) (i32.shl (local.get $g) (i32.const 2))))))
          (local.set $ov (f32x4.splat (f32.load (i32.add (local.get $offsets) (i32.shl (local.get $g) (i32.const 2))))))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $gsize)))
            (local.set $b (v128.load64_zero (local.get $cp)))
            (local.set $c (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
              (v128.and (local.get $b) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
              (i8x16.shr_u (local.get $b) (i32.const 4))))
            (local.set $w (i16x8.extend_low_i8x16_u (local.get $c)))
            (v128.store offset=0 (local.get $op) (f32x4.add (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $w))) (local.get $sv)) (local.get $ov)))
            (v128.store offset=16 (local.get $op) (f32x4.add (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $w))) (local.get $sv)) (local.get $ov)))
            (local.set $w (i16x8.extend_high_i8x16_u (local.get $c)))
            (v128.store offset=32 (local.get $op) (f32x4.add (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $w))) (local.get $sv)) (local.get $ov)))
            (v128.store offset=48 (local.get $op) (f32x4.add (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $w))) (local.get $sv)) (local.get $ov)))
            (local.set $cp (i32.add (local.get $cp) (i32.const 8)))
            (local.set $op (i32.add (local.get $op) (i32.const 64)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $il)))
          (local.set $g (i32.add (local.get $g) (i32.const 1)))
          (br $gl))))
      (else
        (local.set $bit (local.get $shift))
        (local.set $op (local.get $out))
        (local.set $g (i32.const 0))
        (block $gd2 (loop $gl2
          (br_if $gd2 (i32.ge_u (local.get $g) (local.get $groups)))
          (local.set $sc (f32.load (i32.add (local.get $scales) (i32.shl (local.get $g) (i32.const 2)))))
          (local.set $of (f32.load (i32.add (local.get $offsets) (i32.shl (local.get $g) (i32.const 2)))))
          (local.set $i (i32.const 0))
          (block $id2 (loop $il2
            (br_if $id2 (i32.ge_u (local.get $i) (local.get $gsize)))
            (local.set $word (i32.load16_u (i32.add (local.get $codes) (i32.shr_u (local.get $bit) (i32.const 3)))))
            (f32.store (local.get $op) (f32.add (f32.mul (f32.convert_i32_u
              (i32.and (i32.shr_u (local.get $word) (i32.and (local.get $bit) (i32.const 7))) (local.get $mask))) (local.get $sc)) (local.get $of)))
            (local.set $bit (i32.add (local.get $bit) (local.get $bits)))
            (local.set $op (i32.add (local.get $op) (i32.const 4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il2)))
          (local.set $g (i32.add (local.get $g) (i32.const 1)))
          (br $gl2)))))
  )

  ;; f32 matmul rows [rowStart, rowEnd) of out[t, o] = Σ_i x[t, i]·w[o, i]; inF4 = in rounded down to 4.
  (func (export "matmul_f32") (param $x i32) (param $w i32) (param $out i32) (param $tokens i32)
        (param $outF i32) (param $inF i32) (param $rowStart i32) (param $rowEnd i32)
    (local $o i32) (local $t i32) (local $i i32) (local $wp i32) (local $xp i32) (local $acc v128) (local $s f32)
    (local $in4 i32)
    (local.set $in4 (i32.and (local.get $inF) (i32.const -4)))
    (local.set $o (local.get $rowStart))
    (block $o_done
      (loop $orow
        (br_if $o_done (i32.ge_u (local.get $o) (local.get $rowEnd)))
        (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $o) (local.get $inF)) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $tok
            (br_if $t_done (i32.ge_u (local.get $t) (local.get $tokens)))
            (local.set $xp (i32.add (local.get $x) (i32.shl (i32.mul (local.get $t) (local.get $inF)) (i32.const 2))))
            (local.set $acc (v128.const f32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $i_done
              (loop $inner
                (br_if $i_done (i32.ge_u (local.get $i) (local.get $in4)))
                (local.set $acc (f32x4.add (local.get $acc)
                  (f32x4.mul (v128.load (i32.add (local.get $wp) (i32.shl (local.get $i) (i32.const 2))))
                             (v128.load (i32.add (local.get $xp) (i32.shl (local.get $i) (i32.const 2)))))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $inner)))
            (local.set $s (call $dotTail (call $hsumF32 (local.get $acc)) (local.get $wp) (local.get $xp) (local.get $i) (local.get $inF)))
            (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $outF)) (local.get $o)) (i32.const 2))) (local.get $s))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tok)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $orow)))
  )
)
`;

export const KERNELS_WAT = kernelsWat(false);
