/**
 * The int4 dense format's weight quantizer (js/dense-int4.ts quantizeInt4Rows, bit for bit), included into both
 * modules by kernels.wat.ts (baseline SIMD only): `q4_quantize` writes f32 rows straight into dense-int4.wat.ts's
 * 68-byte-group layout (its four blocks' codes interleaved, a d per pair of blocks), padded blocks included. prepareDense runs it at load (a job over rows, dense-ops.ts): a
 * 128k-vocabulary LM head is 328 M weights, and the JS reference takes ~13 ns on each.
 *
 * A group of four 32-weight blocks at a time (the layout's unit: its two d are one 4-byte store), in two passes over
 * its 512 bytes of f32 (the second reads them from L1 again: 32 live vectors would not fit the registers):
 * - pass 1, per block (eight f32x4 v₀…v₇, weights 4j…4j + 3 in v_j): i32x4.max_s and i32x4.max_u of the weights'
 *   bits, one instruction each (f32x4.max costs several in V8 for its NaN rules). As signed ints the non-negative
 *   floats order like their values and lie above every negative one; as unsigned ints the negative floats order
 *   like |w| and lie above every non-negative one. So max_s is the bits of the largest non-negative weight (negative
 *   if there is none) and max_u those of the negative weight of largest |w| (non-negative if there is none).
 * - the four blocks' maxima folded into one vector (lane k: block k) by shuffles, then per lane: pos = |w| bits of
 *   the largest non-negative weight, neg = of the largest negative one (0 where none), each the larger of its pair's
 *   two lanes (blocks 2k and 2k + 1 share d; a padded block's lanes are 0), amax = max(pos, neg). Inf
 *   and NaN have bits above every finite value: amax ≥ 0x7F800000 returns 1 (the JS reference then names the
 *   element). m, the first weight of largest |w|, is ±amax by whichever of neg, pos is larger; where they tie (+m
 *   and −m both in the pair: rare) a scalar scan of the pair finds the first.
 * - d = m · −0.125 = m / −8 exactly (|m| ≥ 2⁻¹²⁰, so d is a normal float32), rounded to bfloat16 on its bits: + 0x7fff
 *   + bit 16, low half cleared (to nearest, ties to even; no carry reaches the sign, |d| ≤ 2¹²⁵); id = f32x4.div(1, d),
 *   which is fround(1/d) (the reference divides in float64 and rounds to float32; 53 ≥ 2·24 + 2 bits makes that the
 *   same as f32 division's one rounding). amax < 2⁻¹²⁰ (bits 0x03800000): d = id = 0, so every code is 8. The two
 *   pairs' d are stored as their top halves (bf16), 4 bytes at 64.
 * - pass 2, per block: code = clamp(roundHalfEven(fround(w·id)), −8, 7) + 8. w·id (f32x4.mul; |w·id| ≤ 8·(1 + 2⁻²⁴))
 *   plus 1.5·2²³ rounds to an integer, ties to even (the float32 ulp there is 1, and 1.5·2²³ is even), and leaves
 *   it in the low bits: bits − 0x4B400000 + 8 = q + 8 as an i32 — two instructions, where f32x4.nearest +
 *   i32x4.trunc_sat_f32x4_s is several in V8 (NaN and overflow handling). Narrowed i32 → i16 (signed) → u8
 *   (unsigned saturation would clamp below 0; q ≥ −8 anyway) and i8x16.min_u 15 clamps above (w near −m gives 8):
 *   the codes of weights 0…15 and of 16…31 as bytes. Byte j = code j | code (j + 16) << 4, by i16x8.shl 4 (each
 *   byte < 16, so no bit crosses into the next byte; V8's i8x16.shl adds a mask: x86 has no byte shift).
 * - the four blocks' 16 bytes are then stored interleaved, four bytes at a time (dense-int4.wat.ts's layout): a
 *   4 × 4 transpose of 32-bit words, eight shuffles a group.
 *
 * Measured (bench/int4-quantize.bench.ts and a kernel-only loop, 2-vCPU AMD EPYC, one thread): 0.4 ns/weight with
 * the rows in cache; 0.6 for the same arithmetic a block at a time (reductions across lanes and d, id in scalar
 * code per block, m's index by i32x4.eq, bitmask and ctz).
 */

import { INT4_GROUP_BYTES, INT4_PAIR_GROUP_BYTES } from "./dense-int4.wat";

const LANES = [0, 1, 2, 3] as const;
/** i8x16.shuffle immediates from i32 lane picks (0–3: first operand, 4–7: second). */
const lanes32 = (ls: number[]) => ls.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(" ");

/**
 * [max of a's lanes, of b's, of c's, of d's] for an i32x4 max op, a…d its operands' text: pairs of lanes folded
 * (punpcklqdq / punpckhqdq), then the pairs' lanes (shufps): one instruction per shuffle in V8. Uses $ab, $cd.
 */
function across4(op: string, [a, b, c, d]: string[]): string {
  const pair = (x: string, y: string) => `(${op} (i8x16.shuffle ${lanes32([0, 1, 4, 5])} ${x} ${y}) (i8x16.shuffle ${lanes32([2, 3, 6, 7])} ${x} ${y}))`;
  return `(block (result v128)
              (local.set $ab ${pair(a!, b!)})
              (local.set $cd ${pair(c!, d!)})
              (${op} (i8x16.shuffle ${lanes32([0, 2, 4, 6])} (local.get $ab) (local.get $cd)) (i8x16.shuffle ${lanes32([1, 3, 5, 7])} (local.get $ab) (local.get $cd))))`;
}

/** The quantizer's function text, the same in both modules. */
export function int4QuantizeWat(): string {
  const v = (k: number) => `(local.get $v${k})`;
  const loads = (k: number) => [0, 1, 2, 3, 4, 5, 6, 7].map((j) => `(local.set $v${j} (v128.load offset=${128 * k + 16 * j} (local.get $p)))`).join("\n              ");
  const tree = (op: string) => `(${op} (${op} (${op} ${v(0)} ${v(1)}) (${op} ${v(2)} ${v(3)})) (${op} (${op} ${v(4)} ${v(5)}) (${op} ${v(6)} ${v(7)})))`;
  const present = (k: number) => `(i32.lt_u (i32.add (local.get $b) (i32.const ${k})) (local.get $blocks))`;
  // pass 1, block k of the group: its weights' max_s and max_u, four lanes each (zero for a padded block)
  const stats = (k: number) => {
    const body = `${loads(k)}
              (local.set $s${k} ${tree("i32x4.max_s")})
              (local.set $u${k} ${tree("i32x4.max_u")})`;
    return k === 0 ? body : `(if ${present(k)} (then ${body}) (else (local.set $s${k} (v128.const i32x4 0 0 0 0)) (local.set $u${k} (v128.const i32x4 0 0 0 0))))`;
  };
  const code = (k: number) => `(i32x4.sub (f32x4.add (f32x4.mul ${v(k)} (local.get $idv)) (local.get $magic)) (local.get $bias))`;
  const codeBytes = (k: number) =>
    `(i8x16.min_u (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s ${code(k)} ${code(k + 1)}) (i16x8.narrow_i32x4_s ${code(k + 2)} ${code(k + 3)})) (local.get $fifteen))`;
  // pass 2, block k: its codes (Q4_0's plain 16 bytes) into $c{k}, weights reloaded (from L1) against its id
  const codes = (k: number) => {
    const body = `${loads(k)}
              (local.set $idv (i8x16.shuffle ${lanes32([k, k, k, k])} (local.get $id) (local.get $id)))
              (local.set $c${k} (v128.or ${codeBytes(0)} (i16x8.shl ${codeBytes(4)} (i32.const 4))))`;
    return k === 0 ? body : `(if ${present(k)} (then ${body}) (else (local.set $c${k} (i8x16.splat (i32.const 0x88)))))`;
  };
  // the four blocks' plain bytes interleaved four at a time (dense-int4.wat.ts): code vector i, word k = block k's
  // word i — a 4 × 4 transpose of 32-bit words (unpack low/high pairs, then 64-bit halves: one instruction each in V8)
  const interleaved = `(local.set $ab (i8x16.shuffle ${lanes32([0, 4, 1, 5])} (local.get $c0) (local.get $c1)))
            (local.set $cd (i8x16.shuffle ${lanes32([0, 4, 1, 5])} (local.get $c2) (local.get $c3)))
            (v128.store offset=0 (local.get $g) (i8x16.shuffle ${lanes32([0, 1, 4, 5])} (local.get $ab) (local.get $cd)))
            (v128.store offset=16 (local.get $g) (i8x16.shuffle ${lanes32([2, 3, 6, 7])} (local.get $ab) (local.get $cd)))
            (local.set $ab (i8x16.shuffle ${lanes32([2, 6, 3, 7])} (local.get $c0) (local.get $c1)))
            (local.set $cd (i8x16.shuffle ${lanes32([2, 6, 3, 7])} (local.get $c2) (local.get $c3)))
            (v128.store offset=32 (local.get $g) (i8x16.shuffle ${lanes32([0, 1, 4, 5])} (local.get $ab) (local.get $cd)))
            (v128.store offset=48 (local.get $g) (i8x16.shuffle ${lanes32([2, 3, 6, 7])} (local.get $ab) (local.get $cd)))`;
  // a tie of +m and −m in block k: m is the first weight with |w| = amax
  const tie = (k: number) => `(if (i32x4.extract_lane ${k} (local.get $tie))
              (then
                (local.set $i (i32.add (local.get $p) (i32.const ${128 * (k & ~1)})))
                (block $found${k}
                  (loop $first${k}
                    (local.set $w (i32.load (local.get $i)))
                    (br_if $found${k} (i32.eq (i32.and (local.get $w) (i32.const 0x7fffffff)) (i32x4.extract_lane ${k} (local.get $amax))))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $first${k})))
                (local.set $mb (i32x4.replace_lane ${k} (local.get $mb) (local.get $w)))))`;
  const sLocals = LANES.map((k) => `(local $s${k} v128) (local $u${k} v128) (local $c${k} v128)`).join(" ");
  return `
  ;; int4 weight quantizer (int4-quantize.wat.ts): src f32 [rows, blocks·32] → rows of dst, $rowStride bytes apart, in
  ;; the ${INT4_GROUP_BYTES}-byte-group layout (dense-int4.wat.ts: rows in pairs, group by group; $dst is an even row's, the
  ;; first of the call's), the last group's padded blocks as codes 8 and d = 0. Returns 0, or 1
  ;; at the first group holding a non-finite value (the groups before it are written, the rest are not).
  (func (export "q4_quantize") (param $src i32) (param $rows i32) (param $blocks i32) (param $dst i32) (param $rowStride i32)
        (result i32)
    (local $r i32) (local $b i32) (local $p i32) (local $g i32) (local $i i32) (local $w i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128) (local $v5 v128) (local $v6 v128) (local $v7 v128)
    ${sLocals} (local $ab v128) (local $cd v128)
    (local $pos v128) (local $neg v128) (local $amax v128) (local $live v128) (local $tie v128) (local $mb v128) (local $d v128) (local $id v128) (local $idv v128)
    (local $magic v128) (local $bias v128) (local $fifteen v128)
    (local.set $magic (f32x4.splat (f32.const 12582912)))
    (local.set $bias (i32x4.splat (i32.const ${0x4b400000 - 8})))
    (local.set $fifteen (i8x16.splat (i32.const 15)))
    (local.set $r (i32.const 0))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $p (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $blocks)) (i32.const 7))))
        (local.set $g (i32.add (local.get $dst) (i32.add
          (i32.mul (i32.shr_u (local.get $r) (i32.const 1)) (i32.shl (local.get $rowStride) (i32.const 1)))
          (i32.mul (i32.and (local.get $r) (i32.const 1)) (i32.const ${INT4_GROUP_BYTES})))))
        (local.set $b (i32.const 0))
        (block $groups_done
          (loop $groups_loop
            (br_if $groups_done (i32.ge_u (local.get $b) (local.get $blocks)))
            ${LANES.map(stats).join("\n            ")}
            ;; lane k: block k's |w| bits of its largest non-negative weight and of its largest negative one (0 if none)
            (local.set $pos (i32x4.max_s ${across4("i32x4.max_s", ["(local.get $s0)", "(local.get $s1)", "(local.get $s2)", "(local.get $s3)"])} (v128.const i32x4 0 0 0 0)))
            (local.set $neg (i32x4.max_s (v128.xor ${across4("i32x4.max_u", ["(local.get $u0)", "(local.get $u1)", "(local.get $u2)", "(local.get $u3)"])} (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)) (v128.const i32x4 0 0 0 0)))
            ;; a pair of blocks shares its d (js/dense-int4.ts): lanes 0, 1 and 2, 3 take the larger of the two
            (local.set $pos (i32x4.max_s (local.get $pos) (i8x16.shuffle ${lanes32([1, 0, 3, 2])} (local.get $pos) (local.get $pos))))
            (local.set $neg (i32x4.max_s (local.get $neg) (i8x16.shuffle ${lanes32([1, 0, 3, 2])} (local.get $neg) (local.get $neg))))
            (local.set $amax (i32x4.max_s (local.get $pos) (local.get $neg)))
            (if (v128.any_true (i32x4.gt_s (local.get $amax) (v128.const i32x4 0x7f7fffff 0x7f7fffff 0x7f7fffff 0x7f7fffff))) (then (return (i32.const 1))))
            (local.set $live (i32x4.gt_s (local.get $amax) (v128.const i32x4 0x037fffff 0x037fffff 0x037fffff 0x037fffff)))
            (local.set $mb (v128.bitselect (v128.or (local.get $neg) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)) (local.get $pos) (i32x4.gt_s (local.get $neg) (local.get $pos))))
            (local.set $tie (v128.and (i32x4.eq (local.get $pos) (local.get $neg)) (local.get $live)))
            (if (v128.any_true (local.get $tie)) (then
              ${LANES.map(tie).join("\n              ")}))
            ;; d = bf16(m · −0.125): to nearest, ties to even, on the bits (+ 0x7fff + bit 16, then the low half cleared)
            (local.set $d (f32x4.mul (local.get $mb) (v128.const f32x4 -0.125 -0.125 -0.125 -0.125)))
            (local.set $d (v128.and
              (i32x4.add (i32x4.add (local.get $d) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff))
                         (v128.and (i32x4.shr_u (local.get $d) (i32.const 16)) (v128.const i32x4 1 1 1 1)))
              (v128.and (local.get $live) (v128.const i32x4 0xffff0000 0xffff0000 0xffff0000 0xffff0000))))
            ;; the two pairs' d, their top halves (the bf16), at 64
            (v128.store32_lane offset=64 0 (local.get $g) (i8x16.shuffle 2 3 10 11 2 3 10 11 2 3 10 11 2 3 10 11 (local.get $d) (local.get $d)))
            (local.set $id (v128.and (f32x4.div (v128.const f32x4 1 1 1 1) (local.get $d)) (local.get $live)))
            ${LANES.map(codes).join("\n            ")}
            ${interleaved}
            (local.set $p (i32.add (local.get $p) (i32.const 512)))
            (local.set $g (i32.add (local.get $g) (i32.const ${INT4_PAIR_GROUP_BYTES})))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (br $groups_loop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_loop)))
    (i32.const 0)
  )
`;
}
