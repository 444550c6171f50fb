/**
 * Ternary weights placed from a file's own 2-bit layout, included into both modules by kernels.wat.ts (baseline
 * SIMD): `t2_place` writes rows of a GGUF TQ2_0 (llama.cpp) or I2_S (bitnet.cpp) tensor straight into the pair
 * layout the t2 kernels read (layout.ts interleaveRowPairs), checking every code. The JS loader used to transcode
 * each tensor to onebit-t2 first (@onebit/quant ternary-transcode.ts, ≈ 1.7 s of a 2B4T load, into buffers that
 * were then copied again); here each thread places its own rows, 128 weights per step.
 *
 * Both layouts hold 128 weights in 32 bytes, byte i of the first 16 (x) and of the last 16 (y) carrying weights
 * i, 32 + i, 64 + i, 96 + i (x) and 16 + i, 48 + i, 80 + i, 112 + i (y) as codes w + 1 — TQ2_0 at bits 1-0, 3-2, 5-4,
 * 7-6, I2_S at bits 7-6, 5-4, 3-2, 1-0 — and onebit-t2 wants two 16-byte blocks, byte j of block k carrying weights
 * 64k + j, +16, +32, +48 at bits 1-0, 3-2, 5-4, 7-6. So every output field is one input field moved within its byte
 * lane: masks and i16x8 shifts (a masked field never crosses into the neighbouring byte), as the word-at-a-time JS
 * transcoder does with 32-bit words. A code 3 (bits 11) anywhere makes the call return 1.
 *   TQ2_0: a row is cols/256 blocks of 66 bytes (two 32-byte halves, then the block's fp16 d, which the loader
 *          checks); I2_S: a row is cols/4 bytes (the tensor's scale sits in a tail after the last row).
 */

/** The two t2 blocks of one 128-weight group from x, y: [block 0, block 1] expressions per format. */
const BLOCKS = {
  // tq2HalfToT2: (x & 3) | ((y << 2) & 12) | ((x << 2) & 48) | ((y << 4) & 192); ((x >> 4) & 3) | ((y >> 2) & 12) | ((x >> 2) & 48) | (y & 192)
  tq2: [
    "(v128.or (v128.or (v128.and (local.get $x) (local.get $k3)) (v128.and (i16x8.shl (local.get $y) (i32.const 2)) (local.get $k12))) (v128.or (v128.and (i16x8.shl (local.get $x) (i32.const 2)) (local.get $k48)) (v128.and (i16x8.shl (local.get $y) (i32.const 4)) (local.get $k192))))",
    "(v128.or (v128.or (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $k3)) (v128.and (i16x8.shr_u (local.get $y) (i32.const 2)) (local.get $k12))) (v128.or (v128.and (i16x8.shr_u (local.get $x) (i32.const 2)) (local.get $k48)) (v128.and (local.get $y) (local.get $k192))))",
  ],
  // i2sHalfToT2: ((x >> 6) & 3) | ((y >> 4) & 12) | (x & 48) | ((y << 2) & 192); ((x >> 2) & 3) | (y & 12) | ((x << 4) & 48) | ((y << 6) & 192)
  i2s: [
    "(v128.or (v128.or (v128.and (i16x8.shr_u (local.get $x) (i32.const 6)) (local.get $k3)) (v128.and (i16x8.shr_u (local.get $y) (i32.const 4)) (local.get $k12))) (v128.or (v128.and (local.get $x) (local.get $k48)) (v128.and (i16x8.shl (local.get $y) (i32.const 2)) (local.get $k192))))",
    "(v128.or (v128.or (v128.and (i16x8.shr_u (local.get $x) (i32.const 2)) (local.get $k3)) (v128.and (local.get $y) (local.get $k12))) (v128.or (v128.and (i16x8.shl (local.get $x) (i32.const 4)) (local.get $k48)) (v128.and (i16x8.shl (local.get $y) (i32.const 6)) (local.get $k192))))",
  ],
} as const;

/** The four 2-bit fields of a byte (a packed HF row's four weight rows). */
const PLANES = [0, 1, 2, 3];

/** The byte masks both functions use: each 2-bit field of a byte ($k3 … $k192) and the low bit of every field ($k85). */
const FIELD_MASKS = `(local $k3 v128) (local $k12 v128) (local $k48 v128) (local $k192 v128) (local $k85 v128)
    (local.set $k3 (i8x16.splat (i32.const 3)))
    (local.set $k12 (i8x16.splat (i32.const 12)))
    (local.set $k48 (i8x16.splat (i32.const 48)))
    (local.set $k192 (i8x16.splat (i32.const 192)))
    (local.set $k85 (i8x16.splat (i32.const 85)))`;

/** Row $r's first t2 block at $dst in the pair layout: pair r/2 (2·$rowStride bytes), +16 for the odd row. */
const pairRowAddress = `(i32.add (i32.add (local.get $dst) (i32.mul (i32.shr_u (local.get $r) (i32.const 1)) (i32.shl (local.get $rowStride) (i32.const 1))))
          (i32.shl (i32.and (local.get $r) (i32.const 1)) (i32.const 4)))`;

/**
 * Hugging Face's packed layout (transformers' BitNet `pack_weights`, @onebit/quant hf-packed.ts): uint8 [R, cols] with
 * R = ⌈out/4⌉, byte (p, i) holding the codes w + 1 of rows p, R + p, 2R + p, 3R + p at bits 1-0, 3-2, 5-4, 7-6. So
 * t2 block k of row fR + p, whose byte b carries inputs 64k + 16j + b at bits 2j, takes field f of the packed row's
 * bytes 64k + 16j + b: from the four 16-byte vectors v_j at 64k + 16j, field f moved to field j in its byte lane
 * (v_j shifted by 2(j − f) as i16 lanes and masked: as above, a masked field never crosses into the next byte).
 */
function hfBlock(f: number): string {
  const fields = PLANES.map((j) => {
    const v = `(local.get $v${j})`;
    const moved = j === f ? v : j > f ? `(i16x8.shl ${v} (i32.const ${2 * (j - f)}))` : `(i16x8.shr_u ${v} (i32.const ${2 * (f - j)}))`;
    return `(v128.and ${moved} (local.get $k${[3, 12, 48, 192][j]}))`;
  });
  return `(v128.or (v128.or ${fields[0]} ${fields[1]}) (v128.or ${fields[2]} ${fields[3]}))`;
}

/** The placement functions' text, the same in both modules. */
export function ternaryPlaceWat(): string {
  const place = (fmt: "tq2" | "i2s") => `(local.set $bad (v128.or (local.get $bad) (v128.or
                (v128.and (v128.and (local.get $x) (i16x8.shr_u (local.get $x) (i32.const 1))) (local.get $k85))
                (v128.and (v128.and (local.get $y) (i16x8.shr_u (local.get $y) (i32.const 1))) (local.get $k85)))))
              (v128.store (local.get $o) ${BLOCKS[fmt][0]})
              (v128.store offset=32 (local.get $o) ${BLOCKS[fmt][1]})`;
  return `
  ;; rows [$r0, $r1) of a TQ2_0 ($format 0) or I2_S (1) tensor at $src, $srcRow bytes a row, $groups 128-weight groups
  ;; a row → the t2 pair layout at $dst ($rowStride bytes a t2 row); 1 if a code 3 was read (ternary-place.wat.ts)
  (func (export "t2_place") (param $src i32) (param $srcRow i32) (param $format i32) (param $r0 i32) (param $r1 i32)
        (param $groups i32) (param $dst i32) (param $rowStride i32) (result i32)
    (local $r i32) (local $g i32) (local $p i32) (local $o i32)
    (local $x v128) (local $y v128) (local $bad v128)
    ${FIELD_MASKS}
    (local.set $r (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $r1)))
        ;; row r's first t2 block: pair r/2 (2·rowStride bytes), +16 for the odd row; block k at +32k
        (local.set $o ${pairRowAddress})
        (local.set $p (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $srcRow))))
        (local.set $g (i32.const 0))
        (block $groups_done
          (loop $group
            (br_if $groups_done (i32.ge_u (local.get $g) (local.get $groups)))
            (local.set $x (v128.load (local.get $p)))
            (local.set $y (v128.load offset=16 (local.get $p)))
            (if (i32.eqz (local.get $format))
              (then
              ${place("tq2")}
                ;; TQ2_0: the second half of a block, then past its 2-byte d
                (local.set $p (i32.add (local.get $p) (select (i32.const 34) (i32.const 32) (i32.and (local.get $g) (i32.const 1))))))
              (else
              ${place("i2s")}
                (local.set $p (i32.add (local.get $p) (i32.const 32)))))
            (local.set $o (i32.add (local.get $o) (i32.const 64)))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $group)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (v128.any_true (local.get $bad))
  )

  ;; packed rows [$p0, $p1) of a Hugging Face packed tensor ($src: row $p0 at $src + $p0·$cols, its index in the tensor
  ;; $first + $p0; $rd = ⌈out/4⌉ packed rows) → rows first + p + f·rd (< $out) of the t2 pair layout at $dst, $cols a
  ;; multiple of 64; 1 if a placed code was 3 (ternary-place.wat.ts)
  (func (export "hf_place") (param $src i32) (param $cols i32) (param $p0 i32) (param $p1 i32) (param $first i32)
        (param $rd i32) (param $out i32) (param $dst i32) (param $rowStride i32) (result i32)
    (local $p i32) (local $row i32) (local $r i32) (local $q i32) (local $k i32) (local $planes i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t v128) (local $bad v128)
    ${FIELD_MASKS}
    (local.set $p (local.get $p0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $row (i32.add (local.get $first) (local.get $p)))
        ;; the planes whose row exists: f·rd + row < out
        (local.set $planes (i32.const 0))
        (block $counted
          (loop $count
            (br_if $counted (i32.ge_u (local.get $planes) (i32.const 4)))
            (br_if $counted (i32.ge_u (i32.add (local.get $row) (i32.mul (local.get $rd) (local.get $planes))) (local.get $out)))
            (local.set $planes (i32.add (local.get $planes) (i32.const 1)))
            (br $count)))
        ${PLANES.map((f) => `(local.set $r (i32.add (local.get $row) (i32.mul (local.get $rd) (i32.const ${f}))))
        (local.set $o${f} ${pairRowAddress})`).join("\n        ")}
        (local.set $q (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $cols))))
        (local.set $k (i32.shr_u (local.get $cols) (i32.const 6)))
        (block $blocks_done
          (loop $block
            (br_if $blocks_done (i32.eqz (local.get $k)))
            (local.set $v0 (v128.load (local.get $q)))
            (local.set $v1 (v128.load offset=16 (local.get $q)))
            (local.set $v2 (v128.load offset=32 (local.get $q)))
            (local.set $v3 (v128.load offset=48 (local.get $q)))
            ${PLANES.map((f) => `(if (i32.gt_u (local.get $planes) (i32.const ${f}))
              (then
                (local.set $t ${hfBlock(f)})
                (local.set $bad (v128.or (local.get $bad) (v128.and (v128.and (local.get $t) (i16x8.shr_u (local.get $t) (i32.const 1))) (local.get $k85))))
                (v128.store (local.get $o${f}) (local.get $t))
                (local.set $o${f} (i32.add (local.get $o${f}) (i32.const 32)))))`).join("\n            ")}
            (local.set $q (i32.add (local.get $q) (i32.const 64)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $block)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rows)))
    (v128.any_true (local.get $bad))
  )
`;
}
