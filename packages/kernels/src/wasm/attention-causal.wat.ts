/**
 * Causal attention of many queries in one call (JOB_OP.ATTENTION_CAUSAL, attention-ops.ts): work item r is query
 * token t = ⌊r / heads⌋, head h = r mod heads, which attends to positions 0 .. start + t. Per item, in this thread's
 * scratch row of n = start + t + 1 floats: the scores by `$attn_scores` (the same float32 dot as the one-query op),
 * × scale in float32, `$softmax_row` (softmax.wat.ts, the reference's float64 softmax), then `$attn_values` into the
 * output row [t, h] — the composition js/attention.ts causalAttentionImpl defines, bit for bit.
 *
 * `$attn_scores` / `$attn_values` index their input and output by head (row h at h·stride); a single head's row is
 * addressed by passing the base minus h rows (i32 arithmetic wraps, the sum is the row's address).
 */
export function attentionCausalWat(): string {
  return `
  ;; items [r0, r1) of q [tokens, heads, d] over keys / values [≥ start + tokens, kvHeads, d] → out [tokens, heads, d];
  ;; $scalePtr: the f32 scale; $scratch: start + tokens floats for this thread
  (func (export "attn_causal") (param $q i32) (param $keys i32) (param $vals i32) (param $out i32) (param $kvHeads i32)
        (param $group i32) (param $d i32) (param $heads i32) (param $start i32) (param $scalePtr i32) (param $r0 i32)
        (param $r1 i32) (param $scratch i32)
    (local $r i32) (local $t i32) (local $h i32) (local $n i32) (local $tokenOff i32) (local $rowBase i32) (local $p i32)
    (local $end i32) (local $scale f32)
    (local.set $scale (f32.load (local.get $scalePtr)))
    (local.set $r (local.get $r0))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $t (i32.div_u (local.get $r) (local.get $heads)))
        (local.set $h (i32.rem_u (local.get $r) (local.get $heads)))
        (local.set $n (i32.add (i32.add (local.get $start) (local.get $t)) (i32.const 1)))
        ;; token t's q and out rows start at t·heads·d floats
        (local.set $tokenOff (i32.shl (i32.mul (i32.mul (local.get $t) (local.get $heads)) (local.get $d)) (i32.const 2)))
        ;; scores [heads, n] as seen by the head kernels: this head's row is the scratch
        (local.set $rowBase (i32.sub (local.get $scratch) (i32.shl (i32.mul (local.get $h) (local.get $n)) (i32.const 2))))
        (call $attn_scores (i32.add (local.get $q) (local.get $tokenOff)) (local.get $keys) (local.get $rowBase)
          (local.get $kvHeads) (local.get $group) (local.get $d) (local.get $n) (local.get $h) (i32.add (local.get $h) (i32.const 1)))
        (local.set $p (local.get $scratch))
        (local.set $end (i32.add (local.get $scratch) (i32.shl (local.get $n) (i32.const 2))))
        (block $s_done
          (loop $s
            (br_if $s_done (i32.ge_u (local.get $p) (local.get $end)))
            (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (local.get $scale)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $s)))
        (call $softmax_row (local.get $scratch) (local.get $n))
        (call $attn_values (local.get $rowBase) (local.get $vals) (i32.add (local.get $out) (local.get $tokenOff))
          (local.get $kvHeads) (local.get $group) (local.get $d) (local.get $n) (local.get $h) (i32.add (local.get $h) (i32.const 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $items)))
  )
`;
}
