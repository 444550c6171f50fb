/**
 * The onebit-t1 ternary kernels (1.6 bits per weight, @onebit/quant formats/onebit-t1.ts), included into the module
 * by kernels.wat.ts: `t1_dot_1` / `t1_dot_4` (baseline SIMD, i16 activations, `i32x4.dot_i16x8_s`) and, in the
 * relaxed-SIMD module, `t1_dot_1r` / `t1_dot_4r` (int8 activations, `i16x8.relaxed_dot_i8x16_i7x16_s`). Same
 * signatures and contract as the t2 kernels: out = Σ code·x with code = w + 1 ∈ {0, 1, 2}; the caller subtracts Σx.
 *
 * Layout (layout.ts writes it): rows one after another, row stride = blocks·16 bytes, each 16-byte block the
 * onebit-t1 block of 80 weights (byte j holds weights j, 16 + j, 32 + j, 48 + j, 64 + j, most significant digit
 * first) with every byte XOR 0x80. Rows need no pairing: a row is one sequential stream already.
 *
 * Decoding trit n of a block (llama.cpp's TQ1_0, ggml-quants.c dequantize_row_tq1_0): u = byte·3ⁿ mod 256, trit =
 * (3u) >> 8, i.e. which third of [0, 256) u falls in. wasm SIMD has no i8x16.mul, but ×3 mod 256 per byte is
 * `i8x16.add(y, i8x16.add(y, y))` (2 ops), and the XOR 0x80 done at placement survives it: 3ⁿ is odd, so
 * (b + 128)·3ⁿ ≡ b·3ⁿ + 128 (mod 256). The stored byte chain therefore gives y = u − 128 as a SIGNED byte, and the
 * thirds [0, 85], [86, 170], [171, 255] of u become y ≤ −43, −42 ≤ y ≤ 42, y ≥ 43: two signed compares (x86
 * pcmpgtb, one instruction each; unsigned compares cost three) give masks m₁ = y > −43, m₂ = y > 42 ∈ {0, −1},
 * and code = 0 − m₁ − m₂. Checked for every byte value t1 can hold (t1-dot.test.ts). Cheaper than the
 * multiply-high spelled with i16 lanes (extmul by 3, shr 8, narrow: 5+ ops per 16 trits, more on x86 where
 * extmul_high is several instructions) and than the pavgb trick of ggml's AVX2 TQ1_0 dot (subs, two averages,
 * shift, mask: 5 ops).
 *
 * Per 80 weights (one block), relaxed: 1 weight load, 8 i8x16.add (y·3, ·9, ·27, ·81), 5 × (2 compares + 2 subs) =
 * 20, 5 relaxed dots + 5 i16 adds, 5 activation loads: 44 wasm SIMD ops, against 25 for the same 80 weights in t2
 * (t2_dot_1r: per 64 weights 1 load, 3 shifts, 4 ands, 4 dots, 4 adds, 4 loads). t1 trades ~1.75× the ALU work per
 * weight for 0.8× the bytes: it can only win where the weight stream, not the ALU, is the limit.
 *
 * Measured (bench/t1-vs-t2.bench.ts; 6912×2560, one thread, 2-vCPU AMD EPYC, t1 time / t2 time): this kernel 1.51–1.57;
 * the same with code = |m₁ + m₂| (i8x16.abs) or (m₁ & 1) − m₂: equal within noise; the five dots summed as a tree
 * (one dependent add per block, five code vectors live): 1.83, slower (register pressure); two rows per pass
 * sharing the activation loads (as t2_dot_1r): 1.66–1.73, slower. Hence one row at a time and no row pairing.
 *
 * Exactness: the relaxed dot is exact on every engine because codes (second operand) are 0..2 < 128. One block
 * adds at most 5·2·2·128 = 2560 per i16 lane, so lanes are summed in i16 over up to 12 blocks (30720 < 2¹⁵) and
 * then widened (extadd_pairwise).
 */

/** The t1 functions for the module text; `relaxed` adds t1_dot_1r / t1_dot_4r (the relaxed-SIMD module only). */
export function t1DotWat(relaxed: boolean): string {
  return `${BASELINE_FUNCS}${relaxed ? RELAXED_FUNCS : ""}`;
}

/** Blocks summed in i16 before widening (see the bound above). */
const I16_BLOCKS = 12;

/** Codes 0..2 (i8x16) of trit vector $y: 0 − (y > −43) − (y > 42); $lo, $hi hold the splatted thresholds. */
const code = (y: string) => `(i8x16.sub (i8x16.sub (v128.const i32x4 0 0 0 0) (i8x16.gt_s (local.get ${y}) (local.get $lo))) (i8x16.gt_s (local.get ${y}) (local.get $hi)))`;

/** $y ← 3·$y mod 256 per byte: the next trit's value. */
const times3 = (y: string) => `(local.set ${y} (i8x16.add (local.get ${y}) (i8x16.add (local.get ${y}) (local.get ${y}))))`;

const THRESHOLDS = `(local.set $lo (i8x16.splat (i32.const -43)))
    (local.set $hi (i8x16.splat (i32.const 42)))`;

/** The row loop shared by the one-token kernels: $wp at row r, mask honoured, `body` computes the row. */
function rowLoop(body: string, skipped: string): string {
  return `(local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $rowStride))))
        (if (i32.or (i32.eqz (local.get $mask)) (i32.load8_u (i32.add (local.get $mask) (local.get $r))))
          (then ${body})${skipped ? `\n          (else ${skipped})` : ""})
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))`;
}

/** Store four tokens' i32 sums $a0..$a3 at out[t·outStride + r]. */
const STORE4 = `(local.set $op (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))))${[0, 1, 2, 3]
  .map(
    (t) => `${t > 0 ? `\n            (local.set $op (i32.add (local.get $op) (i32.shl (local.get $outStride) (i32.const 2))))` : ""}
            (i32.store (local.get $op) (call $hsum (local.get $a${t})))`,
  )
  .join("")}`;

const BASELINE_FUNCS = `
  ;; onebit-t1 dots (t1-dot.wat.ts), one token, rows [rowStart, rowEnd): out[r] = Σ code·x. w: rows rowStride bytes
  ;; apart (blocks·16), x: i16 activations in order, zero-padded to blocks·80 (160 bytes per block); mask: 0 or a
  ;; byte per row (0 = skip). Codes widened to i16 (extend) and multiplied by i32x4.dot_i16x8_s.
  (func (export "t1_dot_1") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $out i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32)
    (local $lo v128) (local $hi v128) (local $y v128) (local $c v128) (local $accA v128) (local $accB v128)
    ${THRESHOLDS}
    ${rowLoop(
      `
            (local.set $accA (v128.const i32x4 0 0 0 0))
            (local.set $accB (v128.const i32x4 0 0 0 0))
            (local.set $xp (local.get $x))
            (local.set $b (local.get $blocks))
            (block $blk_done
              (loop $blk
                (br_if $blk_done (i32.eqz (local.get $b)))
                (local.set $y (v128.load (local.get $wp)))${[0, 1, 2, 3, 4]
                  .map(
                    (n) => `${n > 0 ? `\n                ${times3("$y")}` : ""}
                (local.set $c ${code("$y")})
                (local.set $accA (i32x4.add (local.get $accA) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $c)) (v128.load offset=${32 * n} (local.get $xp)))))
                (local.set $accB (i32x4.add (local.get $accB) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $c)) (v128.load offset=${32 * n + 16} (local.get $xp)))))`,
                  )
                  .join("")}
                (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 160)))
                (local.set $b (i32.sub (local.get $b) (i32.const 1)))
                (br $blk)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $hsum (i32x4.add (local.get $accA) (local.get $accB))))`,
      "",
    )}
  )

  ;; The same for four tokens xStride bytes apart (prefill): each trit's codes are decoded and widened once and used
  ;; four times; out [4, outStride] i32.
  (func (export "t1_dot_4") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $xStride i32)
        (param $out i32) (param $outStride i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32) (local $op i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $lo v128) (local $hi v128) (local $y v128) (local $c v128) (local $cl v128) (local $ch v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    ${THRESHOLDS}
    ${rowLoop(
      `
            (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $xp (local.get $x))
            (local.set $b (local.get $blocks))
            (block $blk_done
              (loop $blk
                (br_if $blk_done (i32.eqz (local.get $b)))
                (local.set $x1 (i32.add (local.get $xp) (local.get $xStride)))
                (local.set $x2 (i32.add (local.get $x1) (local.get $xStride)))
                (local.set $x3 (i32.add (local.get $x2) (local.get $xStride)))
                (local.set $y (v128.load (local.get $wp)))${[0, 1, 2, 3, 4]
                  .map(
                    (n) => `${n > 0 ? `\n                ${times3("$y")}` : ""}
                (local.set $c ${code("$y")})
                (local.set $cl (i16x8.extend_low_i8x16_u (local.get $c)))
                (local.set $ch (i16x8.extend_high_i8x16_u (local.get $c)))${["$xp", "$x1", "$x2", "$x3"]
                  .map(
                    (xv, t) => `
                (local.set $a${t} (i32x4.add (local.get $a${t}) (i32x4.add
                  (i32x4.dot_i16x8_s (local.get $cl) (v128.load offset=${32 * n} (local.get ${xv})))
                  (i32x4.dot_i16x8_s (local.get $ch) (v128.load offset=${32 * n + 16} (local.get ${xv}))))))`,
                  )
                  .join("")}`,
                  )
                  .join("")}
                (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 160)))
                (local.set $b (i32.sub (local.get $b) (i32.const 1)))
                (br $blk)))
            ${STORE4}`,
      "",
    )}
  )
`;

/**
 * One block's relaxed dot into the i16 sums: for each trit n, code vector × activations [16n, 16n + 16) of every
 * token in `xs` (pointer locals), added to the matching `ss` (i16x8 locals).
 */
function relaxedBlock(xs: string[], ss: string[]): string {
  return `(local.set $y (v128.load (local.get $wp)))${[0, 1, 2, 3, 4]
    .map(
      (n) => `${n > 0 ? `\n                  ${times3("$y")}` : ""}
                  (local.set $c ${code("$y")})${xs
                    .map((xv, t) => `\n                  (local.set ${ss[t]} (i16x8.add (local.get ${ss[t]}) (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=${16 * n} (local.get ${xv})) (local.get $c))))`)
                    .join("")}`,
    )
    .join("")}`;
}

/** The block loop of one row over `tokens` tokens, summing in i16 over up to I16_BLOCKS blocks, then into i32 $a<t>. */
function relaxedRow(tokens: 1 | 4): string {
  const xs = tokens === 1 ? ["$xp"] : ["$xp", "$x1", "$x2", "$x3"];
  const ss = xs.map((_, t) => `$s${t}`);
  return `
            ${xs.map((_, t) => `(local.set $a${t} (v128.const i32x4 0 0 0 0))`).join(" ")}
            (local.set $xp (local.get $x))
            (local.set $b (local.get $blocks))
            (block $done
              (loop $outer
                (br_if $done (i32.eqz (local.get $b)))
                (local.set $n (select (i32.const ${I16_BLOCKS}) (local.get $b) (i32.gt_u (local.get $b) (i32.const ${I16_BLOCKS}))))
                (local.set $b (i32.sub (local.get $b) (local.get $n)))
                ${ss.map((s) => `(local.set ${s} (v128.const i32x4 0 0 0 0))`).join(" ")}
                (loop $inner${
                  tokens === 4
                    ? `
                  (local.set $x1 (i32.add (local.get $xp) (local.get $xStride)))
                  (local.set $x2 (i32.add (local.get $x1) (local.get $xStride)))
                  (local.set $x3 (i32.add (local.get $x2) (local.get $xStride)))`
                    : ""
                }
                  ${relaxedBlock(xs, ss)}
                  (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
                  (local.set $xp (i32.add (local.get $xp) (i32.const 80)))
                  (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                  (br_if $inner (local.get $n)))
                ${ss.map((s, t) => `(local.set $a${t} (i32x4.add (local.get $a${t}) (i32x4.extadd_pairwise_i16x8_s (local.get ${s}))))`).join("\n                ")}
                (br $outer)))
            ${tokens === 1 ? "(i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $hsum (local.get $a0)))" : STORE4}`;
}

const RELAXED_FUNCS = `
  ;; t1_dot_1 with int8 activations in order (blocks·80 bytes) and i16x8.relaxed_dot_i8x16_i7x16_s. A row the mask
  ;; skips is still read one byte per 64-byte line ($touchLines, kernels.wat.ts), as t2_dot_1r does, so the rows
  ;; around it stay one stream for the hardware prefetcher.
  (func (export "t1_dot_1r") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $out i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32) (local $n i32) (local $touch i32)
    (local $lo v128) (local $hi v128) (local $y v128) (local $c v128) (local $s0 v128) (local $a0 v128)
    ${THRESHOLDS}
    ${rowLoop(relaxedRow(1), "(local.set $touch (i32.or (local.get $touch) (call $touchLines (local.get $wp) (local.get $rowStride))))")}
    ;; keep the touch loads observable (their only purpose is to pull the skipped lines into the cache stream)
    (if (i32.eq (local.get $touch) (i32.const 0x7fffffff)) (then (i32.store (local.get $out) (local.get $touch))))
  )

  ;; Four tokens at once (prefill): each block's five code vectors are decoded once and used four times.
  (func (export "t1_dot_4r") (param $w i32) (param $rowStride i32) (param $blocks i32)
        (param $rowStart i32) (param $rowEnd i32) (param $mask i32) (param $x i32) (param $xStride i32)
        (param $out i32) (param $outStride i32)
    (local $r i32) (local $wp i32) (local $xp i32) (local $b i32) (local $n i32) (local $op i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $lo v128) (local $hi v128) (local $y v128) (local $c v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    ${THRESHOLDS}
    ${rowLoop(relaxedRow(4), "")}
  )
`;
