/**
 * Row softmax in wasm with the reference's exact bits (js/softmax.ts): the row max, e = exp(x − max) in float64,
 * stored as float32 while the float64 e is summed in order, then x·(1/sum) in float64 stored as float32.
 *
 * The reference calls `Math.exp`, which V8 (Node, Chromium) computes with fdlibm's `__ieee754_exp` (Sun
 * Microsystems 1993; V8's port in src/base/ieee754.cc). `$exp_f64` below is that algorithm operation for operation
 * in wasm float64, so it returns Math.exp's bits: argument reduction x = k·ln2 + r with ln2 in two parts, the
 * degree-5 Remez polynomial R(r²), exp(r) = 1 − ((lo − r·c/(2 − c)) − hi), then × 2ᵏ (with the same special cases
 * for NaN, ±∞, overflow, underflow and |x| < 2⁻²⁸). softmax.test.ts holds it to Math.exp on random and edge inputs
 * (fast-check); the conformance suite holds the row softmax to the reference.
 */

/** A float64 constant by its exact bits (no decimal → binary rounding by the assembler). */
function f64Bits(hi: number, lo: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setUint32(4, hi, true);
  v.setUint32(0, lo, true);
  return `(f64.reinterpret_i64 (i64.const 0x${v.getBigUint64(0, true).toString(16).padStart(16, "0")}))`;
}

const LN2_HI = f64Bits(0x3fe62e42, 0xfee00000);
const LN2_LO = f64Bits(0x3dea39ef, 0x35793c76);
const INV_LN2 = f64Bits(0x3ff71547, 0x652b82fe);
const P = [f64Bits(0x3fc55555, 0x5555553e), f64Bits(0xbf66c16c, 0x16bebd93), f64Bits(0x3f11566a, 0xaf25de2c), f64Bits(0xbebbbd41, 0xc5d26bf1), f64Bits(0x3e663769, 0x72bea4d0)];
const O_THRESHOLD = f64Bits(0x40862e42, 0xfefa39ef);
const U_THRESHOLD = f64Bits(0xc0874910, 0xd52d3051);
const E = f64Bits(0x4005bf0a, 0x8b145769);
const HUGE = "(f64.const 1e300)";
const TWOM1000 = f64Bits(0x01700000, 0);
const TWO1023 = f64Bits(0x7fe00000, 0);

/**
 * The body of $exp_f64x2 for the v128 local `x` into `y`, over locals $b, $t, $hi, $lo, $r, $tt, $c (each name with
 * `suffix`): written out where it is used, as V8 does not inline wasm calls.
 */
function expPair(x: string, y: string, suffix: string): string {
  const [b, t, hi, lo, r, tt, c] = ["$b", "$t", "$hi", "$lo", "$r", "$tt", "$c"].map((n) => n + suffix);
  const i64 = (v: string) => `(v128.const i64x2 ${v} ${v})`;
  const f64 = (v: string) => `(v128.const f64x2 ${v} ${v})`;
  const negative = `(i64x2.lt_s (local.get ${x}) ${i64("0")})`;
  return `(local.set ${b} (v128.and (local.get ${x}) ${i64("0x7fffffffffffffff")}))
    ;; t: 0, ±1, or the rounded quotient (an integer, exact in f64)
    (local.set ${t} (f64x2.convert_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (f64x2.add (f64x2.mul (f64x2.splat ${INV_LN2}) (local.get ${x}))
      (v128.bitselect ${f64("-0.5")} ${f64("0.5")} ${negative})))))
    (local.set ${t} (v128.bitselect (v128.bitselect ${f64("-1")} ${f64("1")} ${negative}) (local.get ${t}) (i64x2.lt_s (local.get ${b}) ${i64("0x3ff0a2b200000000")})))
    (local.set ${t} (v128.and (local.get ${t}) (i64x2.ge_s (local.get ${b}) ${i64("0x3fd62e4300000000")})))
    (local.set ${hi} (f64x2.sub (local.get ${x}) (f64x2.mul (local.get ${t}) (f64x2.splat ${LN2_HI}))))
    (local.set ${lo} (f64x2.mul (local.get ${t}) (f64x2.splat ${LN2_LO})))
    (local.set ${r} (f64x2.sub (local.get ${hi}) (local.get ${lo})))
    (local.set ${tt} (f64x2.mul (local.get ${r}) (local.get ${r})))
    (local.set ${c} (f64x2.sub (local.get ${r}) (f64x2.mul (local.get ${tt})
      (f64x2.add (f64x2.splat ${P[0]}) (f64x2.mul (local.get ${tt}) (f64x2.add (f64x2.splat ${P[1]}) (f64x2.mul (local.get ${tt})
        (f64x2.add (f64x2.splat ${P[2]}) (f64x2.mul (local.get ${tt}) (f64x2.add (f64x2.splat ${P[3]}) (f64x2.mul (local.get ${tt}) (f64x2.splat ${P[4]}))))))))))))
    ;; y = 1 − ((lo − q) − hi), q = (r·c)/(2 − c); then × 2ᵏ (the exponent field 1023 + k); 1 + x where |x| < 2⁻²⁸
    (local.set ${y} (f64x2.sub ${f64("1")} (f64x2.sub (f64x2.sub (local.get ${lo})
      (f64x2.div (f64x2.mul (local.get ${r}) (local.get ${c})) (f64x2.sub ${f64("2")} (local.get ${c})))) (local.get ${hi}))))
    (local.set ${y} (f64x2.mul (local.get ${y})
      (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get ${t}))) ${i64("1023")}) (i32.const 52))))
    (local.set ${y} (v128.bitselect (f64x2.add ${f64("1")} (local.get ${x})) (local.get ${y}) (i64x2.lt_s (local.get ${b}) ${i64("0x3e30000000000000")})))`;
}

/** Whether $exp_f64x2 covers both lanes of the v128 expression x: |x| < 704 and x ≠ 1 (NaN fails the first). */
const exp2Special = (x: string) =>
  `(v128.or (i64x2.ge_s (v128.and ${x} (v128.const i64x2 0x7fffffffffffffff 0x7fffffffffffffff)) (v128.const i64x2 0x4086000000000000 0x4086000000000000))
      (f64x2.eq ${x} (v128.const f64x2 1 1)))`;

export function softmaxWat(): string {
  return `
  ;; e^x in float64, fdlibm's __ieee754_exp step for step (softmax.wat.ts): Math.exp's bits in V8
  (func $exp_f64 (param $x f64) (result f64)
    (local $hx i32) (local $xsb i32) (local $k i32) (local $hi f64) (local $lo f64) (local $t f64) (local $c f64) (local $y f64) (local $twopk f64)
    (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
    (local.set $xsb (i32.shr_u (local.get $hx) (i32.const 31)))
    (local.set $hx (i32.and (local.get $hx) (i32.const 0x7fffffff)))
    ;; |x| ≥ 709.78…: NaN, ±∞, overflow, underflow
    (if (i32.ge_u (local.get $hx) (i32.const 0x40862e42))
      (then
        (if (i32.ge_u (local.get $hx) (i32.const 0x7ff00000))
          (then
            (if (i32.or (i32.and (local.get $hx) (i32.const 0xfffff)) (i32.wrap_i64 (i64.reinterpret_f64 (local.get $x))))
              (then (return (f64.add (local.get $x) (local.get $x)))))
            (return (select (local.get $x) (f64.const 0) (i32.eqz (local.get $xsb))))))
        (if (f64.gt (local.get $x) ${O_THRESHOLD}) (then (return (f64.mul ${HUGE} ${HUGE}))))
        (if (f64.lt (local.get $x) ${U_THRESHOLD}) (then (return (f64.mul ${TWOM1000} ${TWOM1000}))))))
    ;; argument reduction: x = k·ln2 + r, |r| ≤ 0.5·ln2
    (if (i32.gt_u (local.get $hx) (i32.const 0x3fd62e42))
      (then
        (if (i32.lt_u (local.get $hx) (i32.const 0x3ff0a2b2))
          (then
            (if (f64.eq (local.get $x) (f64.const 1)) (then (return ${E})))
            (if (local.get $xsb)
              (then (local.set $hi (f64.add (local.get $x) ${LN2_HI})) (local.set $lo (f64.neg ${LN2_LO})) (local.set $k (i32.const -1)))
              (else (local.set $hi (f64.sub (local.get $x) ${LN2_HI})) (local.set $lo ${LN2_LO}) (local.set $k (i32.const 1)))))
          (else
            (local.set $k (i32.trunc_f64_s (f64.add (f64.mul ${INV_LN2} (local.get $x)) (select (f64.const -0.5) (f64.const 0.5) (local.get $xsb)))))
            (local.set $t (f64.convert_i32_s (local.get $k)))
            (local.set $hi (f64.sub (local.get $x) (f64.mul (local.get $t) ${LN2_HI})))
            (local.set $lo (f64.mul (local.get $t) ${LN2_LO}))))
        (local.set $x (f64.sub (local.get $hi) (local.get $lo))))
      (else
        ;; |x| < 2⁻²⁸: 1 + x
        (if (i32.lt_u (local.get $hx) (i32.const 0x3e300000))
          (then (if (f64.gt (f64.add ${HUGE} (local.get $x)) (f64.const 1)) (then (return (f64.add (f64.const 1) (local.get $x)))))))))
    (local.set $t (f64.mul (local.get $x) (local.get $x)))
    (local.set $twopk (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u
      (i32.add (i32.const 0x3ff00000) (i32.shl (select (local.get $k) (i32.add (local.get $k) (i32.const 1000)) (i32.ge_s (local.get $k) (i32.const -1021))) (i32.const 20))))
      (i64.const 32))))
    (local.set $c (f64.sub (local.get $x) (f64.mul (local.get $t)
      (f64.add ${P[0]} (f64.mul (local.get $t) (f64.add ${P[1]} (f64.mul (local.get $t) (f64.add ${P[2]} (f64.mul (local.get $t) (f64.add ${P[3]} (f64.mul (local.get $t) ${P[4]})))))))))))
    (if (i32.eqz (local.get $k))
      (then (return (f64.sub (f64.const 1) (f64.sub (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (local.get $c) (f64.const 2))) (local.get $x))))))
    (local.set $y (f64.sub (f64.const 1) (f64.sub (f64.sub (local.get $lo) (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (f64.const 2) (local.get $c)))) (local.get $hi))))
    (if (i32.ge_s (local.get $k) (i32.const -1021))
      (then
        (if (i32.eq (local.get $k) (i32.const 1024)) (then (return (f64.mul (f64.mul (local.get $y) (f64.const 2)) ${TWO1023}))))
        (return (f64.mul (local.get $y) (local.get $twopk)))))
    (f64.mul (f64.mul (local.get $y) (local.get $twopk)) ${TWOM1000})
  )
  (func (export "exp_f64") (param $x f64) (result f64) (call $exp_f64 (local.get $x)))

  ;; Two exps at once, Math.exp's bits: $exp_f64's algorithm over f64x2 lanes, its branches turned into masks. In
  ;; range (|x| < 704, not 1) the three argument reductions are one: k = 0 where |x| ≤ 0.5·ln2 (t = 0 leaves hi = x,
  ;; lo = 0), ±1 up to 1.5·ln2 and x/ln2 ± 0.5 truncated beyond, each exact as fdlibm's own; k = 0's return
  ;; 1 − ((x·c)/(c − 2) − x) is 1 − ((0 − q) − x) with q = (x·c)/(2 − c), as IEEE rounding is symmetric; 2ᵏ is 1 at k = 0;
  ;; |x| < 2⁻²⁸ gives 1 + x. A pair with a lane out of that range (|x| ≥ 704: the k ≤ −1021 and overflow branches, ±∞,
  ;; NaN; or x = 1) returns 0 in $exp2_ok and the caller takes $exp_f64 per lane.
  (func $exp_f64x2 (param $x v128) (result v128)
    (local $b v128) (local $t v128) (local $hi v128) (local $lo v128) (local $r v128) (local $tt v128) (local $c v128) (local $y v128)
    ${expPair("$x", "$y", "")}
    (local.get $y)
  )
  ;; whether $exp_f64x2 covers both lanes of x
  (func $exp2_ok (param $x v128) (result i32)
    (i32.eqz (v128.any_true ${exp2Special("(local.get $x)")}))
  )
  ;; exp of two doubles into out[0], out[1] (f64) through the pair path or, where it does not cover them, $exp_f64: for tests
  (func (export "exp_f64x2") (param $a f64) (param $b f64) (param $out i32)
    (local $x v128)
    (local.set $x (f64x2.replace_lane 1 (f64x2.splat (local.get $a)) (local.get $b)))
    (if (call $exp2_ok (local.get $x))
      (then (v128.store (local.get $out) (call $exp_f64x2 (local.get $x))))
      (else
        (f64.store (local.get $out) (call $exp_f64 (local.get $a)))
        (f64.store offset=8 (local.get $out) (call $exp_f64 (local.get $b)))))
  )

  ;; One row of n float32 at $p softmaxed in place, as js/softmax.ts: max, e = exp(x − max) summed in float64
  ;; (each stored as float32), then × (1/sum) (0 when the sum is 0). A row whose max is −∞ becomes zeros.
  ;; The max four lanes at a time (max is exact in any order; wasm's max, like Math.max, takes +0 over −0 and
  ;; propagates NaN), the exps two at a time ($exp_f64x2, the sum still added in order), the scaling two at a time.
  (func $softmax_row (param $p i32) (param $n i32)
    (local $end i32) (local $end4 i32) (local $q i32) (local $max f64) (local $e f64) (local $sum f64)
    (local $inv f64) (local $m v128) (local $x v128) (local $x1 v128) (local $ev v128) (local $ev1 v128) (local $mv v128) (local $iv v128)
    (local $b v128) (local $t v128) (local $hi v128) (local $lo v128) (local $r v128) (local $tt v128) (local $c v128)
    (local $b1 v128) (local $t1 v128) (local $hi1 v128) (local $lo1 v128) (local $r1 v128) (local $tt1 v128) (local $c1 v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $q (local.get $p))
    (block $d0 (loop $l0
      (br_if $d0 (i32.ge_u (local.get $q) (local.get $end4)))
      (local.set $m (f32x4.max (local.get $m) (v128.load (local.get $q))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br $l0)))
    (local.set $max (f64.promote_f32 (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                                              (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m))))))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $q) (local.get $end)))
      (local.set $max (f64.max (local.get $max) (f64.promote_f32 (f32.load (local.get $q)))))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $l1)))
    (local.set $sum (f64.const 0))
    (local.set $q (local.get $p))
    (if (f64.eq (local.get $max) (f64.const -inf))
      (then (memory.fill (local.get $p) (i32.const 0) (i32.shl (local.get $n) (i32.const 2))) (return)))
    (local.set $mv (f64x2.splat (local.get $max)))
    ;; four at a time: two independent pairs for the out-of-order core (each a chain of ≈ 20 dependent operations)
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $q) (local.get $end4)))
      (local.set $x (v128.load (local.get $q)))
      (local.set $x1 (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $mv)))
      (local.set $x (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $mv)))
      (if (v128.any_true (v128.or ${exp2Special("(local.get $x)")} ${exp2Special("(local.get $x1)")}))
        (then
          (local.set $ev (f64x2.replace_lane 1 (f64x2.splat (call $exp_f64 (f64x2.extract_lane 0 (local.get $x)))) (call $exp_f64 (f64x2.extract_lane 1 (local.get $x)))))
          (local.set $ev1 (f64x2.replace_lane 1 (f64x2.splat (call $exp_f64 (f64x2.extract_lane 0 (local.get $x1)))) (call $exp_f64 (f64x2.extract_lane 1 (local.get $x1))))))
        (else
          ${expPair("$x", "$ev", "")}
          ${expPair("$x1", "$ev1", "1")}))
      (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $ev)) (f32x4.demote_f64x2_zero (local.get $ev1))))
      (local.set $sum (f64.add (f64.add (f64.add (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $ev))) (f64x2.extract_lane 1 (local.get $ev)))
        (f64x2.extract_lane 0 (local.get $ev1))) (f64x2.extract_lane 1 (local.get $ev1))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br $l2)))
    (block $d2t (loop $l2t
      (br_if $d2t (i32.ge_u (local.get $q) (local.get $end)))
      (local.set $e (call $exp_f64 (f64.sub (f64.promote_f32 (f32.load (local.get $q))) (local.get $max))))
      (f32.store (local.get $q) (f32.demote_f64 (local.get $e)))
      (local.set $sum (f64.add (local.get $sum) (local.get $e)))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $l2t)))
    (local.set $inv (select (f64.div (f64.const 1) (local.get $sum)) (f64.const 0) (f64.gt (local.get $sum) (f64.const 0))))
    (local.set $iv (f64x2.splat (local.get $inv)))
    (local.set $q (local.get $p))
    (block $d3 (loop $l3
      (br_if $d3 (i32.ge_u (local.get $q) (local.get $end4)))
      (local.set $x (v128.load (local.get $q)))
      (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $iv)))
        (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $iv)))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br $l3)))
    (block $d4 (loop $l4
      (br_if $d4 (i32.ge_u (local.get $q) (local.get $end)))
      (f32.store (local.get $q) (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.load (local.get $q))) (local.get $inv))))
      (local.set $q (i32.add (local.get $q) (i32.const 4)))
      (br $l4)))
  )
  ;; x [rows, cols] at $p, every row softmaxed in place
  (func (export "softmax_rows") (param $p i32) (param $rows i32) (param $cols i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $rows)))
      (call $softmax_row (local.get $p) (local.get $cols))
      (local.set $p (i32.add (local.get $p) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $l)))
  )
`;
}
