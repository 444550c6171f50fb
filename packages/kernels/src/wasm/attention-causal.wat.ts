/**
 * Causal attention of many queries in one call (JOB_OP.ATTENTION_CAUSAL, attention-ops.ts): work item r is query
 * token t and a span of SPAN query heads h .. h + SPAN − 1 that read one KV head (SPAN 2 where the group of query heads
 * per KV head is even, else 1), attending to positions 0 .. start + t. Per item, in this thread's scratch (SPAN rows of
 * n = start + t + 1 floats): the scores by `$attn_scores` (the same float32 dot as the one-query op), × scale in
 * float32, `$softmax_row` (softmax.wat.ts, the reference's float64 softmax) per row, then the values into the output
 * rows [t, h..] — by `$attn_values_pair` for a span of 2, `$attn_values` for 1 — the composition js/attention.ts
 * causalAttentionImpl defines, bit for bit.
 *
 * Why pairs of heads: the values are Σ_j p[h, j]·v[j] per output element, j in order — one multiply and one add per
 * product in the reference's order. Two heads that read the same values share every load of them, and 16 dimensions
 * of two heads are 8 accumulators: per position 4 value loads, 2 broadcasts, 8 multiplies and 8 adds for 64 products.
 * One head at a time took 32 dimensions (8 accumulators) for two positions an iteration: TurboFan hoisted the 16 value
 * loads above the arithmetic, and with the accumulators that spilled every iteration. A 2B4T prompt's layer (128
 * tokens from position 0, 20 heads over 5 KV heads × 128; a 2-vCPU AMD EPYC Zen 5 VM, alternated processes, medians
 * of 60 calls): 3.75 ms against 5.38 on one thread, 2.33 against 3.52 on two — with `$attn_scores` now stepping 8
 * dimensions at a time (kernels.wat.ts), which alone gave ≈ 0.4 ms of it.
 *
 * `$attn_scores` / `$attn_values` index their input and output by head (row h at h·stride); an item's rows are
 * addressed by passing the base minus h rows (i32 arithmetic wraps, the sum is the row's address).
 */
export function attentionCausalWat(): string {
  const acc = (h: string) => [0, 1, 2, 3].map((k) => `$${h}${k}`);
  const zero = "(v128.const f32x4 0 0 0 0)";
  return `
  ;; out[A, i] and out[B, i] (B's row d floats after A's) = the sum over j < n, in order, of p[., j] * values[j, i] for two
  ;; heads reading one KV head: $p head A's n probabilities, head B's $pStride bytes on; $vb the KV head's values at
  ;; position 0, positions $rowBytes apart. 16 dimensions at a time (8 accumulators), the d mod 16 rest one at a time.
  (func $attn_values_pair (param $p i32) (param $pStride i32) (param $vb i32) (param $rowBytes i32) (param $out i32)
        (param $d i32) (param $n i32)
    (local $i i32) (local $d16 i32) (local $vp i32) (local $pp i32) (local $pend i32) (local $ob i32)
    (local $sa v128) (local $sb v128) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    ${[...acc("a"), ...acc("b")].map((a) => `(local ${a} v128)`).join(" ")}
    (local $fa f32) (local $fb f32)
    (local.set $d16 (i32.and (local.get $d) (i32.const -16)))
    (local.set $ob (i32.add (local.get $out) (i32.shl (local.get $d) (i32.const 2))))
    (local.set $pend (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $i (i32.const 0))
    (block $i_done
      (loop $il
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $d16)))
        ${[...acc("a"), ...acc("b")].map((a) => `(local.set ${a} ${zero})`).join(" ")}
        (local.set $vp (i32.add (local.get $vb) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $pp (local.get $p))
        (block $j_done
          (loop $jl
            (br_if $j_done (i32.ge_u (local.get $pp) (local.get $pend)))
            (local.set $sa (v128.load32_splat (local.get $pp)))
            (local.set $sb (v128.load32_splat (i32.add (local.get $pp) (local.get $pStride))))
            ${[0, 1, 2, 3]
              .map(
                (k) => `(local.set $v${k} (v128.load offset=${16 * k} (local.get $vp)))
            (local.set $a${k} (f32x4.add (local.get $a${k}) (f32x4.mul (local.get $sa) (local.get $v${k}))))
            (local.set $b${k} (f32x4.add (local.get $b${k}) (f32x4.mul (local.get $sb) (local.get $v${k}))))`,
              )
              .join("\n            ")}
            (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $jl)))
        ${[0, 1, 2, 3]
          .map(
            (k) => `(v128.store offset=${16 * k} (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $a${k}))
        (v128.store offset=${16 * k} (i32.add (local.get $ob) (i32.shl (local.get $i) (i32.const 2))) (local.get $b${k}))`,
          )
          .join("\n        ")}
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $il)))
    (block $r_done
      (loop $rl
        (br_if $r_done (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $fa (f32.const 0))
        (local.set $fb (f32.const 0))
        (local.set $vp (i32.add (local.get $vb) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $pp (local.get $p))
        (block $k_done
          (loop $kl
            (br_if $k_done (i32.ge_u (local.get $pp) (local.get $pend)))
            (local.set $fa (f32.add (local.get $fa) (f32.mul (f32.load (local.get $pp)) (f32.load (local.get $vp)))))
            (local.set $fb (f32.add (local.get $fb) (f32.mul (f32.load (i32.add (local.get $pp) (local.get $pStride))) (f32.load (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $rowBytes)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $kl)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $fa))
        (f32.store (i32.add (local.get $ob) (i32.shl (local.get $i) (i32.const 2))) (local.get $fb))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rl)))
  )

  ;; items [r0, r1) of q [tokens, heads, d] over keys / values [≥ start + tokens, kvHeads, d] → out [tokens, heads, d]:
  ;; item r is token floor(r / (heads / span)) and heads h .. h + span - 1, h = (r mod (heads / span)) * span (span 1 or 2,
  ;; dividing group); $scalePtr: the f32 scale; $scratch: span * (start + tokens) floats for this thread
  (func (export "attn_causal") (param $q i32) (param $keys i32) (param $vals i32) (param $out i32) (param $kvHeads i32)
        (param $group i32) (param $d i32) (param $heads i32) (param $start i32) (param $scalePtr i32) (param $r0 i32)
        (param $r1 i32) (param $scratch i32) (param $span i32)
    (local $r i32) (local $t i32) (local $h i32) (local $n i32) (local $tokenOff i32) (local $rowBase i32) (local $p i32)
    (local $end i32) (local $end4 i32) (local $row i32) (local $units i32) (local $scale f32) (local $sv v128)
    (local.set $scale (f32.load (local.get $scalePtr)))
    (local.set $sv (f32x4.splat (local.get $scale)))
    (local.set $units (i32.div_u (local.get $heads) (local.get $span)))
    (local.set $r (local.get $r0))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $t (i32.div_u (local.get $r) (local.get $units)))
        (local.set $h (i32.mul (i32.rem_u (local.get $r) (local.get $units)) (local.get $span)))
        (local.set $n (i32.add (i32.add (local.get $start) (local.get $t)) (i32.const 1)))
        ;; token t's q and out rows start at t*heads*d floats
        (local.set $tokenOff (i32.shl (i32.mul (i32.mul (local.get $t) (local.get $heads)) (local.get $d)) (i32.const 2)))
        ;; scores [heads, n] as seen by the head kernels: the item's rows are the scratch
        (local.set $rowBase (i32.sub (local.get $scratch) (i32.shl (i32.mul (local.get $h) (local.get $n)) (i32.const 2))))
        (call $attn_scores (i32.add (local.get $q) (local.get $tokenOff)) (local.get $keys) (local.get $rowBase)
          (local.get $kvHeads) (local.get $group) (local.get $d) (local.get $n) (local.get $h) (i32.add (local.get $h) (local.get $span)))
        ;; each row x scale (float32, four at a time: the same products), then softmaxed
        (local.set $row (local.get $scratch))
        (local.set $end (i32.add (local.get $scratch) (i32.shl (i32.mul (local.get $n) (local.get $span)) (i32.const 2))))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $row) (local.get $end)))
            (local.set $p (local.get $row))
            (local.set $end4 (i32.add (local.get $row) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
            (block $s4_done
              (loop $s4
                (br_if $s4_done (i32.ge_u (local.get $p) (local.get $end4)))
                (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $sv)))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $s4)))
            (block $s_done
              (loop $s
                (br_if $s_done (i32.ge_u (local.get $p) (i32.add (local.get $row) (i32.shl (local.get $n) (i32.const 2)))))
                (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $scale)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $s)))
            (call $softmax_row (local.get $row) (local.get $n))
            (local.set $row (i32.add (local.get $row) (i32.shl (local.get $n) (i32.const 2))))
            (br $rows)))
        (if (i32.eq (local.get $span) (i32.const 2))
          (then
            (call $attn_values_pair (local.get $scratch) (i32.shl (local.get $n) (i32.const 2))
              (i32.add (local.get $vals) (i32.shl (i32.mul (i32.div_u (local.get $h) (local.get $group)) (local.get $d)) (i32.const 2)))
              (i32.shl (i32.mul (local.get $kvHeads) (local.get $d)) (i32.const 2))
              (i32.add (i32.add (local.get $out) (local.get $tokenOff)) (i32.shl (i32.mul (local.get $h) (local.get $d)) (i32.const 2)))
              (local.get $d) (local.get $n)))
          (else
            (call $attn_values (local.get $rowBase) (local.get $vals) (i32.add (local.get $out) (local.get $tokenOff))
              (local.get $kvHeads) (local.get $group) (local.get $d) (local.get $n) (local.get $h) (i32.add (local.get $h) (i32.const 1)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $items)))
  )
`;
}
