/**
 * The decoder block's element-wise kernels, included into both modules by kernels.wat.ts and called on the caller's
 * thread for a decode token (elementwise-ops.ts), or on a range of a prompt's rows by every thread (job-driver.ts,
 * ELEMENTWISE_ROWS): each is O(tokens·features), but in JS they cost ≈ 12 ms of a 2B4T decode step (SiLU through
 * Math.exp alone ≈ 6 ms). Each computes the bits of its reference:
 *   ew_silu      x ← x / (1 + expf(−x))                    js/expf.ts (Cephes expf, one f32 op per step)
 *   ew_relu2     x ← max(x, 0)², rows active where x > 0   js/elementwise.ts gateActivationImpl
 *   ew_mul       x ← x · y;   ew_add   x ← x + y           js/elementwise.ts
 *   ew_rms_norm  y ← x · rsqrt(mean(x²) + ε) · gain        js/rms-norm-quantize.ts rmsNormImpl
 *   sum_i8       Σ of int8 codes (exact)
 *   ew_first_nonfinite   the index of the first NaN / ±∞, or −1    js/elementwise.ts firstNonFiniteImpl
 *   ew_rope      rotary embedding in float64 from the reference's cos/sin table   js/rope.ts ropeImpl
 * Float32 ops round to nearest in wasm and in JS (Math.fround of an exact float64 result), wasm has no implicit
 * fused multiply-add, and min/max/nearest are IEEE's, so the SIMD lanes reproduce the scalar reference exactly.
 * Vector loops take counts rounded up to 4: the caller's buffers are padded (their extra lanes are ignored).
 */
import { EXPF_C1, EXPF_C2, EXPF_LOG2E, EXPF_MAX, EXPF_MIN, EXPF_P } from "../js/expf";

/** A float32 constant as its exact bits, splatted: no decimal → binary rounding by the assembler. */
function f32x4Const(v: number): string {
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  const h = `0x${bits.toString(16).padStart(8, "0")}`;
  return `(v128.const i32x4 ${h} ${h} ${h} ${h})`;
}

/** x ← x op y over n4 floats, one f32x4 at a time. */
function binaryWat(name: string, op: string): string {
  return `
  (func (export "${name}") (param $x i32) (param $y i32) (param $n4 i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n4) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $x) (${op} (v128.load (local.get $x)) (v128.load (local.get $y))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $l)))
  )`;
}

/** The four rows ew_rms_norm sums at once. */
const ROWS4 = [0, 1, 2, 3] as const;

/** $s += x[i]² for the float32 bytes [$i, $end) at $p, in order, in float64 ($sum_sq_row's tail and its fallback). */
const addSquaresInOrder = (label: string) => `(block $${label}_done (loop $${label}
      (br_if $${label}_done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $i)))))
      (local.set $s (f64.add (local.get $s) (f64.mul (local.get $v) (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $${label})))`;

/** The vectors ew_silu computes side by side in its main loop. */
const SILU_LANES = [0, 1, 2, 3] as const;

/**
 * SiLU of the vectors at $p + 16k (k in `lanes`), each step written for every vector before the next step, so the
 * chains interleave. The clamp by pmax/pmin: (a < b ? b : a) and (b < a ? b : a) are single instructions where
 * IEEE max/min are several, and agree with them here (a NaN −x stays NaN through both; the bounds are not zeros, so
 * signed zeros do not arise). 2ⁿ (n an integer in [−126, 127]) from n + 1.5·2²³ + 127 exactly: its low 9 mantissa
 * bits are n + 127, shifted into the exponent field, where a truncating conversion takes seven instructions on x64.
 * A NaN x gives garbage there and NaN all the same (x / (1 + y)).
 */
function siluVectors(lanes: readonly number[]): string {
  const each = (f: (k: number) => string) => lanes.map(f).join("\n        ");
  const poly = EXPF_P.slice(1).map((c) => each((k) => `(local.set $y${k} (f32x4.add (f32x4.mul (local.get $y${k}) (local.get $r${k})) ${f32x4Const(c)}))`)).join("\n        ");
  return [
    each((k) => `(local.set $x${k} (v128.load offset=${16 * k} (local.get $p)))`),
    each((k) => `(local.set $v${k} (f32x4.pmin (f32x4.pmax (f32x4.neg (local.get $x${k})) ${f32x4Const(EXPF_MIN)}) ${f32x4Const(EXPF_MAX)}))`),
    each((k) => `(local.set $n${k} (f32x4.nearest (f32x4.mul (local.get $v${k}) ${f32x4Const(EXPF_LOG2E)})))`),
    each((k) => `(local.set $r${k} (f32x4.sub (f32x4.sub (local.get $v${k}) (f32x4.mul (local.get $n${k}) ${f32x4Const(EXPF_C1)})) (f32x4.mul (local.get $n${k}) ${f32x4Const(EXPF_C2)})))`),
    each((k) => `(local.set $z${k} (f32x4.mul (local.get $r${k}) (local.get $r${k})))`),
    each((k) => `(local.set $y${k} ${f32x4Const(EXPF_P[0])})`),
    poly,
    each((k) => `(local.set $y${k} (f32x4.add (f32x4.add (f32x4.mul (local.get $y${k}) (local.get $z${k})) (local.get $r${k})) ${f32x4Const(1)}))`),
    each((k) => `(local.set $y${k} (f32x4.mul (local.get $y${k}) (i32x4.shl (f32x4.add (local.get $n${k}) ${f32x4Const(12582912 + 127)}) (i32.const 23))))`),
    each((k) => `(v128.store offset=${16 * k} (local.get $p) (f32x4.div (local.get $x${k}) (f32x4.add ${f32x4Const(1)} (local.get $y${k}))))`),
  ].join("\n        ");
}

export function elementwiseWat(): string {
  return `
  ;; x ← SiLU(x) over n4 (a multiple of 4) floats at $p, expf as js/expf.ts (elementwise.wat.ts)
  (func (export "ew_silu") (param $p i32) (param $n4 i32)
    (local $end i32) (local $end16 i32)
    ${SILU_LANES.map((k) => `(local $x${k} v128) (local $v${k} v128) (local $n${k} v128) (local $r${k} v128) (local $z${k} v128) (local $y${k} v128)`).join("\n    ")}
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n4) (i32.const 2))))
    (local.set $end16 (i32.sub (local.get $end) (i32.const ${16 * (SILU_LANES.length - 1)})))
    ;; ${SILU_LANES.length} vectors a pass: each value's expf is a chain of ≈ 25 dependent operations, which one vector at a
    ;; time leaves the out-of-order window waiting on (≈ 44 cycles a vector on Zen 3); side by side they overlap
    (block $done_wide
      (loop $wide
        (br_if $done_wide (i32.ge_u (local.get $p) (local.get $end16)))
        ${siluVectors(SILU_LANES)}
        (local.set $p (i32.add (local.get $p) (i32.const ${16 * SILU_LANES.length})))
        (br $wide)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ${siluVectors([0])}
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l)))
  )

  ;; x [tokens, features] ← max(x, 0)² over the padded $n4 floats at $p; with $mask ≠ 0 (features a multiple of 4),
  ;; mask[i] |= 1 for every feature i > 0 in some token (the reference's r > 0, taken before squaring: a tiny r
  ;; squares to 0 but its row is still active)
  (func (export "ew_relu2") (param $p i32) (param $n4 i32) (param $features i32) (param $mask i32)
    (local $end i32) (local $i i32) (local $x v128) (local $r v128) (local $m v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n4) (i32.const 2))))
    ;; marking with features a multiple of 16: sixteen at a time, their (r > 0) narrowed i32 → i16 → i8 into one
    ;; vector of 0/1 bytes OR-ed into the mask (the general loop below marks four at a time, a scalar OR each)
    (if (i32.and (i32.ne (local.get $mask) (i32.const 0)) (i32.eqz (i32.and (local.get $features) (i32.const 15))))
      (then
        (block $done16
          (loop $l16
            (br_if $done16 (i32.ge_u (local.get $p) (local.get $end)))
            ${[0, 1, 2, 3].map((k) => `(local.set $r${k} (f32x4.max (v128.load offset=${16 * k} (local.get $p)) (v128.const i32x4 0 0 0 0)))
            (v128.store offset=${16 * k} (local.get $p) (f32x4.mul (local.get $r${k}) (local.get $r${k})))`).join("\n            ")}
            (local.set $m (v128.and
              (i8x16.narrow_i16x8_s
                (i16x8.narrow_i32x4_s (f32x4.gt (local.get $r0) (v128.const i32x4 0 0 0 0)) (f32x4.gt (local.get $r1) (v128.const i32x4 0 0 0 0)))
                (i16x8.narrow_i32x4_s (f32x4.gt (local.get $r2) (v128.const i32x4 0 0 0 0)) (f32x4.gt (local.get $r3) (v128.const i32x4 0 0 0 0))))
              (i8x16.splat (i32.const 1))))
            (v128.store (i32.add (local.get $mask) (local.get $i))
              (v128.or (v128.load (i32.add (local.get $mask) (local.get $i))) (local.get $m)))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (if (i32.ge_u (local.get $i) (local.get $features)) (then (local.set $i (i32.const 0))))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br $l16)))
        (return)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        (local.set $r (f32x4.max (local.get $x) (v128.const i32x4 0 0 0 0)))
        (v128.store (local.get $p) (f32x4.mul (local.get $r) (local.get $r)))
        (if (local.get $mask)
          (then
            ;; four lanes' (r > 0) as bytes 0/1: narrow i32 → i16 → i8, keep the low bytes
            (local.set $m (v128.and
              (i8x16.narrow_i16x8_s (i16x8.narrow_i32x4_s (f32x4.gt (local.get $r) (v128.const i32x4 0 0 0 0)) (local.get $r)) (local.get $r))
              (v128.const i32x4 0x01010101 0 0 0)))
            (i32.store (i32.add (local.get $mask) (local.get $i))
              (i32.or (i32.load (i32.add (local.get $mask) (local.get $i))) (i32x4.extract_lane 0 (local.get $m))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (if (i32.ge_u (local.get $i) (local.get $features)) (then (local.set $i (i32.const 0))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l)))
  )

  ;; RoPE in place on x [tokens, heads, headDim] (js/rope.ts ropeImpl): cos and sin [tokens, half] f64 (the reference's
  ;; table), pairs (a, a + step) at a = (t·heads + h)·headDim + stride·i; x1·c − x2·s and x2·c + x1·s in float64, each
  ;; product rounded to float64 as in JS, stored as float32
  (func (export "ew_rope") (param $x i32) (param $tokens i32) (param $heads i32) (param $headDim i32) (param $cos i32)
        (param $sin i32) (param $stride i32) (param $step i32)
    (local $t i32) (local $i i32) (local $h i32) (local $half i32) (local $a i32) (local $b i32) (local $c f64) (local $s f64)
    (local $x1 f64) (local $x2 f64) (local $row i32) (local $tab i32) (local $headBytes i32)
    (local.set $half (i32.shr_u (local.get $headDim) (i32.const 1)))
    (local.set $headBytes (i32.shl (local.get $headDim) (i32.const 2)))
    (local.set $step (i32.shl (local.get $step) (i32.const 2)))
    (block $t_done (loop $tl
      (br_if $t_done (i32.ge_u (local.get $t) (local.get $tokens)))
      (local.set $row (i32.add (local.get $x) (i32.mul (i32.mul (local.get $t) (local.get $heads)) (local.get $headBytes))))
      (local.set $i (i32.const 0))
      (block $i_done (loop $il
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $half)))
        (local.set $tab (i32.shl (i32.add (i32.mul (local.get $t) (local.get $half)) (local.get $i)) (i32.const 3)))
        (local.set $c (f64.load (i32.add (local.get $cos) (local.get $tab))))
        (local.set $s (f64.load (i32.add (local.get $sin) (local.get $tab))))
        (local.set $a (i32.add (local.get $row) (i32.shl (i32.mul (local.get $stride) (local.get $i)) (i32.const 2))))
        (local.set $h (i32.const 0))
        (block $h_done (loop $hl
          (br_if $h_done (i32.ge_u (local.get $h) (local.get $heads)))
          (local.set $b (i32.add (local.get $a) (local.get $step)))
          (local.set $x1 (f64.promote_f32 (f32.load (local.get $a))))
          (local.set $x2 (f64.promote_f32 (f32.load (local.get $b))))
          (f32.store (local.get $a) (f32.demote_f64 (f64.sub (f64.mul (local.get $x1) (local.get $c)) (f64.mul (local.get $x2) (local.get $s)))))
          (f32.store (local.get $b) (f32.demote_f64 (f64.add (f64.mul (local.get $x2) (local.get $c)) (f64.mul (local.get $x1) (local.get $s)))))
          (local.set $a (i32.add (local.get $a) (local.get $headBytes)))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br $hl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tl)))
  )

  ;; n bytes from src to dst (memory.copy: a native memmove; a typed-array copy within shared memory is ≈ 3× slower)
  (func (export "mem_copy") (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n)))

  ;; x ← x · y and x ← x + y over n4 floats (elementwise.wat.ts)
${binaryWat("ew_mul", "f32x4.mul")}${binaryWat("ew_add", "f32x4.add")}

  ;; The index of the first NaN or ±∞ among the $n floats at $p, or −1: x − x is 0 for a finite x and NaN otherwise,
  ;; summed into four f32x4 (NaN stays NaN), sixteen floats a step; only a non-zero total pays for the scalar scan
  ;; (a model's residual stream after every sublayer: in JS ≈ 0.2 ms a 2B4T prompt layer, here a tenth of it)
  (func (export "ew_first_nonfinite") (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $end16 i32) (local $end i32) (local $x v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $f f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (local.set $i (local.get $p))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end16)))
        ${[0, 1, 2, 3].map((k) => `(local.set $x (v128.load offset=${16 * k} (local.get $i)))
        (local.set $a${k} (f32x4.add (local.get $a${k}) (f32x4.sub (local.get $x) (local.get $x))))`).join("\n        ")}
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $l)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $f (f32.load (local.get $i)))
        (local.set $a0 (f32x4.replace_lane 0 (local.get $a0) (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32.sub (local.get $f) (local.get $f)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail)))
    (if (i32x4.all_true (i32x4.eq (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))) (v128.const i32x4 0 0 0 0)))
      (then (return (i32.const -1))))
    (local.set $i (local.get $p))
    (block $scan_done
      (loop $scan
        (br_if $scan_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $f (f32.load (local.get $i)))
        (if (f32.ne (f32.sub (local.get $f) (local.get $f)) (f32.const 0))
          (then (return (i32.shr_u (i32.sub (local.get $i) (local.get $p)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scan)))
    (i32.const -1)
  )

  ;; Σ of the $n int8 at $p ($n a multiple of 16; |Σ| < 2³¹ for n < 2²⁴): bytes widened pairwise to i16, to i32
  ;; (a BitLinear input's Σx, which the ternary epilogue subtracts: a JS loop over the codes cost ≈ 1.5 ms a decode token)
  (func (export "sum_i8") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $acc v128)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $acc (i32x4.add (local.get $acc) (i32x4.extadd_pairwise_i16x8_s (i16x8.extadd_pairwise_i8x16_s (v128.load (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l)))
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
             (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))
  )
  ;; RMSNorm of x [tokens, features] f32 into y with gain [features]: each row's Σx² in float64 one element after
  ;; another (the reference's order), then $rms_norm_row. (Measured on a Zen 5 VM, 128 × 2560 on one thread: 241 µs a
  ;; call with one row's sum at a time, 130 with four; 128 × 6912: 684 → 349 µs.)
  (func (export "ew_rms_norm") (param $x i32) (param $y i32) (param $gain i32) (param $tokens i32) (param $features i32) (param $eps f64)
    (local $t i32) (local $i i32) (local $p i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $rowBytes i32) (local $v f64) (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (local.set $rowBytes (i32.shl (local.get $features) (i32.const 2)))
    ;; four rows at a time: their four sums are independent chains, each still in the reference's order, so the adds
    ;; overlap instead of waiting on one another (a row's sum alone is bound by the add's latency)
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $tokens)))
        (local.set $p0 (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $rowBytes))))
        ${ROWS4.slice(1).map((k) => `(local.set $p${k} (i32.add (local.get $p${k - 1}) (local.get $rowBytes)))`).join(" ")}
        ${ROWS4.map((k) => `(local.set $s${k} (f64.const 0))`).join(" ")}
        (local.set $i (i32.const 0))
        (block $ss_done
          (loop $ss_loop
            (br_if $ss_done (i32.ge_u (local.get $i) (local.get $rowBytes)))
            ${ROWS4.map(
              (k) => `(local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $p${k}) (local.get $i)))))
            (local.set $s${k} (f64.add (local.get $s${k}) (f64.mul (local.get $v) (local.get $v))))`,
            ).join("\n            ")}
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $ss_loop)))
        ${ROWS4.map((k) => `(call $rms_norm_row (local.get $x) (local.get $y) (local.get $gain) (i32.add (local.get $t) (i32.const ${k})) (local.get $features) (local.get $eps) (local.get $s${k}))`).join("\n        ")}
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $quads)))
    ;; the rest (a decode step's one row) one at a time
    (block $tokens_done
      (loop $tokens_loop
        (br_if $tokens_done (i32.ge_u (local.get $t) (local.get $tokens)))
        (local.set $p (i32.add (local.get $x) (i32.mul (local.get $t) (local.get $rowBytes))))
        (call $rms_norm_row (local.get $x) (local.get $y) (local.get $gain) (local.get $t) (local.get $features) (local.get $eps)
          (call $sum_sq_row (local.get $p) (local.get $features)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tokens_loop)))
  )

  ;; One row's Σx² for ew_rms_norm, as good as the reference's for what follows. The reference adds the squares one
  ;; after another in float64, a chain bound by the add's latency (≈ 3 µs for 2560 values on a Zen 5 VM); what is used
  ;; of the sum is f32(Σx² / n) (rms_norm_row). Here the squares (exact in float64: 24-bit mantissas) go into eight
  ;; independent float64 sums, giving s. Any two orders of adding n non-negative terms differ by at most
  ;; 2(n − 1)·2⁻⁵³ of the total (the recursive-summation bound, for each), so the reference's sum lies within
  ;; E = 4n·2⁻⁵³·s of s; f64 division by n and rounding to float32 are both monotonic, so when (s − E)/n and
  ;; (s + E)/n round to the same float32 every sum in between does too, the reference's included, and s is returned.
  ;; Otherwise (the interval straddles a float32 rounding boundary: about n·2⁻²⁷ of rows, or s is not finite) the sum
  ;; is taken in the reference's order. Either way rms_norm_row computes the reference's bits.
  (func $sum_sq_row (param $p i32) (param $n i32) (result f64)
    (local $i i32) (local $end i32) (local $n8 i32) (local $a v128) (local $b v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $s f64) (local $e f64) (local $v f64) (local $nf f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n8 (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $d8 (loop $l8
      (br_if $d8 (i32.ge_u (local.get $i) (local.get $n8)))
      (local.set $a (v128.load offset=0 (i32.add (local.get $p) (local.get $i))))
      (local.set $b (v128.load offset=16 (i32.add (local.get $p) (local.get $i))))
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $a)))))
      (local.set $a (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $a)))))
      (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $b)) (f64x2.promote_low_f32x4 (local.get $b)))))
      (local.set $b (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b)))
      (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $b)) (f64x2.promote_low_f32x4 (local.get $b)))))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (br $l8)))
    (local.set $s0 (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3))))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
    ${addSquaresInOrder("tail")}
    (local.set $nf (f64.convert_i32_u (local.get $n)))
    (local.set $e (f64.mul (local.get $s) (f64.mul (local.get $nf) (f64.const 0x1p-51))))
    (if (f32.eq (f32.demote_f64 (f64.div (f64.sub (local.get $s) (local.get $e)) (local.get $nf)))
                (f32.demote_f64 (f64.div (f64.add (local.get $s) (local.get $e)) (local.get $nf))))
      (then (return (local.get $s))))
    ;; the reference's order
    (local.set $s (f64.const 0))
    (local.set $i (i32.const 0))
    ${addSquaresInOrder("ordered")}
    (local.get $s)
  )

  ;; row t of ew_rms_norm given its Σx² (float64, the reference's order): rs = f32(1 / sqrt(f32(f32(Σx²/features) +
  ;; ε))), then y = f32(f32(x·rs)·gain) four lanes at a time and the features mod 4 one by one
  (func $rms_norm_row (param $x i32) (param $y i32) (param $gain i32) (param $t i32) (param $features i32) (param $eps f64) (param $ss f64)
    (local $i i32) (local $p i32) (local $q i32) (local $rs f32) (local $rsv v128) (local $f4 i32)
    (local.set $f4 (i32.and (local.get $features) (i32.const -4)))
    (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $t) (local.get $features)) (i32.const 2))))
    (local.set $q (i32.add (local.get $y) (i32.shl (i32.mul (local.get $t) (local.get $features)) (i32.const 2))))
    (local.set $rs (f32.demote_f64 (f64.div (f64.const 1) (f64.sqrt (f64.promote_f32 (f32.demote_f64 (f64.add
      (f64.promote_f32 (f32.demote_f64 (f64.div (local.get $ss) (f64.convert_i32_u (local.get $features)))))
      (local.get $eps))))))))
    (local.set $rsv (f32x4.splat (local.get $rs)))
    (block $v_done
      (loop $v_loop
        (br_if $v_done (i32.ge_u (local.get $i) (local.get $f4)))
        (v128.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
          (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (local.get $rsv))
                     (v128.load (i32.add (local.get $gain) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $v_loop)))
    (block $s_done
      (loop $s_loop
        (br_if $s_done (i32.ge_u (local.get $i) (local.get $features)))
        (f32.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
          (f32.mul (f32.mul (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (local.get $rs))
                   (f32.load (i32.add (local.get $gain) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $s_loop)))
  )

`;
}
