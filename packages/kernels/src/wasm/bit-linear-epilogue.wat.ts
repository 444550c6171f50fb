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
 */
export function bitLinearEpilogueWat(): string {
  return `
  ;; dots i32 [tokens, stride] at $out, rows [$r0, $r1) → f32 in place (bit-linear-epilogue.wat.ts)
  (func (export "t2_epilogue") (param $out i32) (param $stride i32) (param $tokens i32) (param $r0 i32) (param $r1 i32)
        (param $tok i32) (param $scales i32) (param $mask i32)
    (local $t i32) (local $r i32) (local $p i32) (local $xsum f64) (local $xs f64)
    (block $tokens_done
      (loop $tokens_loop
        (br_if $tokens_done (i32.ge_u (local.get $t) (local.get $tokens)))
        (local.set $xsum (f64.load (i32.add (local.get $tok) (i32.shl (local.get $t) (i32.const 4)))))
        (local.set $xs (f64.load offset=8 (i32.add (local.get $tok) (i32.shl (local.get $t) (i32.const 4)))))
        (local.set $r (local.get $r0))
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
