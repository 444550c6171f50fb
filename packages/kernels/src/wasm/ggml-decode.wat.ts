/**
 * Decoders of GGUF tables' row formats into float32, included into both modules by kernels.wat.ts (baseline SIMD):
 * `f16_decode`, `bf16_decode` and `q6k_decode`, bit for bit @onebit/quant's dequantizeRows (ggml-quants.c's
 * dequantize_row_*, ggml's bf16 → fp32). Each takes (src, count, dst), count in its units (abi.ts DENSE_DECODERS).
 * prepareDense runs them at load on a table's own bytes (a DenseRowSource's `encoded`), so the 128k-row LM head of a
 * 2B4T file goes from the file's Q6_K/F16/BF16 (or a Hugging Face folder's bf16) to the int4 format without a
 * float32 row in JS: the JS decoders spent 3–6 ns on each of its 328 M weights.
 *
 * f16 → f32 (16 halves per step): bits (h & 0x7fff) << 13 read as a float32 are the half's value × 2⁻¹¹², normal or
 * subnormal (a half subnormal becomes a float32 subnormal, which wasm keeps: no flush to zero), so one exact multiply
 * by 2¹¹² restores it; exponent 31 (Inf, NaN) is rebuilt as 0x7f800000 | mantissa << 13; then the sign bit.
 *
 * Q6_K (210-byte blocks of 256: ql u8[128] | qh u8[64] | scales i8[16] | d f16), per 128-weight half n and 16-weight
 * run s (l = 16s … 16s + 15), four codes per l from one byte of ql, of ql + 32 and of qh (ggml-dense.ts has the
 * formula): nibbles and 2-bit fields are masked out as bytes (i16x8 shifts: a masked field never crosses into the
 * next byte), q − 32 widened to i32 and converted, then × fround(d · scale) — one f32 multiply, as C rounds it.
 */

/** One Q6_K run's 16 codes (a v128 of bytes, values 0…63) → f32 × the splat scale $sN, stored at dst + offset. */
function q6Store(codes: string, scale: string, offset: number): string {
  const c = `(i8x16.sub ${codes} (local.get $k32))`;
  const quarter = (lo: boolean, half: boolean) =>
    `(f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_${half ? "high" : "low"}_i16x8_s (i16x8.extend_${lo ? "low" : "high"}_i8x16_s (local.get $q)))) (local.get ${scale}))`;
  return `(local.set $q ${c})
            (v128.store offset=${offset} (local.get $o) ${quarter(true, false)})
            (v128.store offset=${offset + 16} (local.get $o) ${quarter(true, true)})
            (v128.store offset=${offset + 32} (local.get $o) ${quarter(false, false)})
            (v128.store offset=${offset + 48} (local.get $o) ${quarter(false, true)})`;
}

/**
 * Eight halves from $src + 2($i + at) → f32 at $dst + 4($i + at), f16_decode's constants in $k…: per four, sign =
 * (h & 0x8000) << 16, mag = (h & 0x7fff) << 13; exponent 31 (mag > 0x0f7fffff, a signed compare: mag < 2³¹) gives
 * mag | 0x70000000 = 0x7f800000 | mantissa << 13 (Inf, NaN), every other mag × 2¹¹² (0x77800000) as float32.
 */
function halves8(at: number): string {
  return `(local.set $v (v128.load offset=${2 * at} (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
        ${[0, 1]
          .map(
            (half) => `(local.set $bits (i32x4.extend_${half ? "high" : "low"}_i16x8_u (local.get $v)))
        (local.set $mag (i32x4.shl (v128.and (local.get $bits) (local.get $kMag)) (i32.const 13)))
        (v128.store offset=${4 * at + 16 * half} (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (v128.or (i32x4.shl (v128.and (local.get $bits) (local.get $kSign)) (i32.const 16))
            (v128.bitselect
              (v128.or (local.get $mag) (local.get $kInfNan))
              (f32x4.mul (local.get $mag) (local.get $kScale))
              (i32x4.gt_s (local.get $mag) (local.get $kExp31)))))`,
          )
          .join("\n        ")}`;
}

/** The decoders' function text, the same in both modules. */
export function ggmlDecodeWat(): string {
  // for run s of half n: ql at block + 64n + 16s, ql + 32 at +32, qh at block + 128 + 32n + 16s; y at 4·(128n + 16s) bytes
  const runs: string[] = [];
  for (let n = 0; n < 2; n++)
    for (let s = 0; s < 2; s++) {
      const sc = (k: number) => `(f32x4.splat (f32.mul (local.get $d) (f32.convert_i32_s (i32.load8_s offset=${192 + 8 * n + s + 2 * k} (local.get $p)))))`;
      const y = 4 * (128 * n + 16 * s);
      runs.push(`(local.set $lo (v128.load offset=${64 * n + 16 * s} (local.get $p)))
            (local.set $hi (v128.load offset=${64 * n + 32 + 16 * s} (local.get $p)))
            (local.set $h (v128.load offset=${128 + 32 * n + 16 * s} (local.get $p)))
            (local.set $s0 ${sc(0)})
            (local.set $s1 ${sc(1)})
            (local.set $s2 ${sc(2)})
            (local.set $s3 ${sc(3)})
            ${q6Store("(v128.or (v128.and (local.get $lo) (local.get $k15)) (i16x8.shl (v128.and (local.get $h) (local.get $k3)) (i32.const 4)))", "$s0", y)}
            ${q6Store("(v128.or (v128.and (local.get $hi) (local.get $k15)) (i16x8.shl (v128.and (local.get $h) (local.get $k12)) (i32.const 2)))", "$s1", y + 128)}
            ${q6Store("(v128.or (v128.and (i16x8.shr_u (local.get $lo) (i32.const 4)) (local.get $k15)) (v128.and (local.get $h) (local.get $k48)))", "$s2", y + 256)}
            ${q6Store("(v128.or (v128.and (i16x8.shr_u (local.get $hi) (i32.const 4)) (local.get $k15)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 2)) (local.get $k48)))", "$s3", y + 384)}`);
    }
  return `
  ;; f16 → f32 of one half (ggml-decode.wat.ts)
  (func $half (param $h i32) (result f32)
    (local $bits i32)
    (local.set $bits (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 13)))
    (f32.reinterpret_i32 (i32.or
      (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16))
      (select
        (i32.or (i32.const 0x7f800000) (i32.and (local.get $bits) (i32.const 0x007fe000)))
        (i32.reinterpret_f32 (f32.mul (f32.reinterpret_i32 (local.get $bits)) (f32.const 0x1p112)))
        (i32.ge_u (local.get $bits) (i32.const 0x0f800000)))))
  )

  ;; F16 [count] at src → f32 at dst (ggml-decode.wat.ts): sixteen per step, then eight, then one at a time
  (func (export "f16_decode") (param $src i32) (param $count i32) (param $dst i32)
    (local $i i32) (local $z i32) (local $v v128) (local $bits v128) (local $mag v128)
    (local $kSign v128) (local $kMag v128) (local $kScale v128) (local $kInfNan v128) (local $kExp31 v128)
    ;; the constants, made once from $z = count >> 31, which is 0 (count < 2³¹) but not a constant to V8: a splat of a
    ;; constant it rebuilds at every use inside the loop (three instructions each, six of them), while these stay in
    ;; registers
    (local.set $z (i32.shr_u (local.get $count) (i32.const 31)))
    (local.set $kSign (i32x4.splat (i32.or (local.get $z) (i32.const 0x8000))))
    (local.set $kMag (i32x4.splat (i32.or (local.get $z) (i32.const 0x7fff))))
    (local.set $kScale (f32x4.splat (f32.reinterpret_i32 (i32.or (local.get $z) (i32.const 0x77800000)))))
    (local.set $kInfNan (i32x4.splat (i32.or (local.get $z) (i32.const 0x70000000))))
    (local.set $kExp31 (i32x4.splat (i32.or (local.get $z) (i32.const 0x0f7fffff))))
    (block $done16
      (loop $sixteen
        (br_if $done16 (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $count)))
        ${[0, 8].map((at) => halves8(at)).join("\n        ")}
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $sixteen)))
    (if (i32.le_u (i32.add (local.get $i) (i32.const 8)) (local.get $count))
      (then
        ${halves8(0)}
        (local.set $i (i32.add (local.get $i) (i32.const 8)))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $count)))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (call $half (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
  )

  ;; BF16 [count] at src → f32 at dst (ggml-decode.wat.ts): a bfloat16 is a float32's high half, so each becomes
  ;; its bits << 16 (NaN payloads, infinities and subnormals alike); eight per step, then one at a time
  (func (export "bf16_decode") (param $src i32) (param $count i32) (param $dst i32)
    (local $i i32) (local $v v128)
    (block $done
      (loop $eight
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $count)))
        (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $v)) (i32.const 16)))
        (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $v)) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eight)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (i32.shl (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
  )

  ;; Q6_K blocks [blocks · 210 bytes] at src → f32 [blocks · 256] at dst (ggml-decode.wat.ts)
  (func (export "q6k_decode") (param $src i32) (param $blocks i32) (param $dst i32)
    (local $b i32) (local $p i32) (local $o i32) (local $d f32)
    (local $lo v128) (local $hi v128) (local $h v128) (local $q v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $k3 v128) (local $k12 v128) (local $k15 v128) (local $k32 v128) (local $k48 v128)
    (local.set $k3 (i8x16.splat (i32.const 3)))
    (local.set $k12 (i8x16.splat (i32.const 12)))
    (local.set $k15 (i8x16.splat (i32.const 15)))
    (local.set $k32 (i8x16.splat (i32.const 32)))
    (local.set $k48 (i8x16.splat (i32.const 48)))
    (local.set $p (local.get $src))
    (local.set $o (local.get $dst))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $b) (local.get $blocks)))
        (local.set $d (call $half (i32.load16_u offset=208 (local.get $p))))
        ${runs.join("\n            ")}
        (local.set $p (i32.add (local.get $p) (i32.const 210)))
        (local.set $o (i32.add (local.get $o) (i32.const 1024)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
  )
`;
}
