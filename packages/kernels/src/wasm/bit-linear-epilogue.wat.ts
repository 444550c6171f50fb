/**
 * BitLinear's float epilogue on the threads, included into both modules by kernels.wat.ts: `t2_epilogue` turns a
 * thread's rows of i32 dots into the layer's float32 output in place, as bit-linear-ops.ts's storeSub (the
 * reference's expression) does in JS:
 *   y[t, o] = fround((dot[t, o] − Σx[t]) · wScale[o] · xScale[t])      (float64, left to right; masked rows +0)
 * Every operand is exact in float64 (i32 dots and Σx, float32 scales), and wasm's f64 ops are IEEE's, so the bits are
 * the JS loop's. It ran ≈ 4 ms of JS per 2B4T token on the main thread alone; here each thread does its own rows
 * right after their dots, while they are in cache.
 *
 * Per token t, 16 bytes at $tok + 16t: [f64 Σx][f64 xScale]. wScale: f32 [rows] at $scales. Mask: 0, or a byte per row.
 * Without a mask, rows go four at a time through f64x2 lanes (two rows per operation, the same IEEE operations),
 * the rest one at a time.
 */
/** Rows 0 and 1 of i32 dots `d` and f32 scales `w` → f32x4 [y0, y1, 0, 0], the scalar loop's expression in f64x2. */
function half(d: string, w: string): string {
  return `(f32x4.demote_f64x2_zero (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.convert_low_i32x4_s ${d}) (local.get $xsumv))
                  (f64x2.promote_low_f32x4 ${w})) (local.get $xsv)))`;
}

export function bitLinearEpilogueWat(): string {
  return `
  ;; dots i32 [tokens, stride] at $out, rows [$r0, $r1) → f32 in place (bit-linear-epilogue.wat.ts)
  (func (export "t2_epilogue") (param $out i32) (param $stride i32) (param $tokens i32) (param $r0 i32) (param $r1 i32)
        (param $tok i32) (param $scales i32) (param $mask i32)
    (local $t i32) (local $r i32) (local $p i32) (local $xsum f64) (local $xs f64)
    (local $xsumv v128) (local $xsv v128) (local $d v128) (local $w v128)
    (block $tokens_done
      (loop $tokens_loop
        (br_if $tokens_done (i32.ge_u (local.get $t) (local.get $tokens)))
        (local.set $xsum (f64.load (i32.add (local.get $tok) (i32.shl (local.get $t) (i32.const 4)))))
        (local.set $xs (f64.load offset=8 (i32.add (local.get $tok) (i32.shl (local.get $t) (i32.const 4)))))
        (local.set $r (local.get $r0))
        ;; no mask: four rows at a time in f64x2 (the same IEEE float64 operations, two lanes at once)
        (if (i32.eqz (local.get $mask)) (then
          (local.set $xsumv (f64x2.splat (local.get $xsum)))
          (local.set $xsv (f64x2.splat (local.get $xs)))
          (block $quads_done
            (loop $quads
              (br_if $quads_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $r1)))
              (local.set $p (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $stride)) (local.get $r)) (i32.const 2))))
              (local.set $d (v128.load (local.get $p)))
              (local.set $w (v128.load (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2)))))
              (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                ${half("(local.get $d)", "(local.get $w)")}
                ${half("(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $d) (local.get $d))", "(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $w) (local.get $w))")}))
              (local.set $r (i32.add (local.get $r) (i32.const 4)))
              (br $quads)))))
        (block $rows_done
          (loop $rows_loop
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $r1)))
            (local.set $p (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $stride)) (local.get $r)) (i32.const 2))))
            (f32.store (local.get $p)
              (select
                (f32.demote_f64 (f64.mul
                  (f64.mul
                    (f64.sub (f64.convert_i32_s (i32.load (local.get $p))) (local.get $xsum))
                    (f64.promote_f32 (f32.load (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2))))))
                  (local.get $xs)))
                (f32.const 0)
                (i32.or (i32.eqz (local.get $mask)) (i32.load8_u (i32.add (local.get $mask) (local.get $r))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows_loop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tokens_loop)))
  )
`;
}
