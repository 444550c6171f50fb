/**
 * The tri5 layout of a ternary weight, made from its onebit-t2 rows for a prompt's table-lookup GEMM
 * (t2-gemm-lut.wat.ts `tri5_gemm_lut`; bit-linear-ops.ts makes it in scratch per call): five codes (code = w + 1 ∈
 * {0, 1, 2}) to a byte as the base-3 number Σ_i code_i·3^i (0..242), which the GEMM uses as its table index. A 16-byte
 * block holds 80 weights of a row — byte j those of inputs 80m + 16i + j, i = 0..4, code_i — and rows lie in
 * interleaved pairs as t2's do (block m of row r at (r >> 1)·2·rowStride + 32m + (r & 1)·16). Inputs past the t2
 * row's get code 1 (w = 0); the activations are zero there anyway.
 *
 * Why: the GEMM's cost is about one table load and one add per weight byte and 8 tokens, so a byte of five weights
 * does 5/4 the work of a t2 byte for the same instructions (tables of 243 entries rather than 81, built once per
 * tile of tokens). Holding the weight both ways would cost 0.8× its bytes again, so the rows are transcoded per call
 * instead, once for all of a prompt's tiles.
 *
 * A t2 block k's 16 bytes hold, in field j (bits 2j), the codes of inputs 64k + 16j .. 64k + 16j + 15 in byte order:
 * so the 16 codes of inputs 16s .. 16s + 15 are field s & 3 of block s >> 2, one shift and one and per vector.
 */
/** Weights (inputs) of one tri5 block: 16 bytes of five. */
export const TRI5_BLOCK = 80;

/** i8x16 lanes as a v128 constant. */
const bytes = (values: number[]) => `(v128.const i8x16 ${values.join(" ")})`;

/**
 * One tri5 block's bytes from the five t2 vectors $v0..$v4 of its group of four (group-relative block b): code_i sits
 * in field s & 3 of $v{s >> 2}, s = 5b + i. Two codes in adjacent fields of one vector are read as a nibble and
 * looked up (relaxed swizzle: every index is < 16) as code_i·3^i + code_{i+1}·3^{i+1}; a lone code as code_i·3^i.
 */
function blockFromGroup(b: number): string {
  const terms: string[] = [];
  for (let i = 0; i < 5; ) {
    const s = 5 * b + i;
    const v = `(local.get $v${s >> 2})`;
    const f = s & 3;
    const shifted = f === 0 ? v : `(i8x16.shr_u ${v} (i32.const ${2 * f}))`;
    if (i < 4 && f < 3) {
      const table = Array.from({ length: 16 }, (_, n) => ((n & 3) * 3 ** i + (n >> 2) * 3 ** (i + 1)) & 0xff);
      const nibble = f === 2 ? shifted : `(v128.and ${shifted} ${bytes(Array(16).fill(15))})`;
      terms.push(`(i8x16.relaxed_swizzle ${bytes(table)} ${nibble})`);
      i += 2;
    } else {
      const table = Array.from({ length: 16 }, (_, n) => ((n & 3) * 3 ** i) & 0xff);
      const code = f === 3 ? shifted : `(v128.and ${shifted} ${bytes(Array(16).fill(3))})`;
      terms.push(`(i8x16.relaxed_swizzle ${bytes(table)} ${code})`);
      i += 1;
    }
  }
  return terms.slice(1).reduce((sum, t) => `(i8x16.add ${sum} ${t})`, terms[0]!);
}

export function tri5LayoutWat(): string {
  // t2 block k + j of the row at $sp — or, in the row's last group, past its $srcBlocks blocks, every field code 1
  const block = (j: number, last: boolean) => {
    const load = `(v128.load offset=${32 * j} (local.get $sp))`;
    return `(local.set $v${j} ${last ? `(if (result v128) (i32.lt_u (i32.add (local.get $k) (i32.const ${j})) (local.get $srcBlocks)) (then ${load}) (else ${bytes(Array(16).fill(0x55))}))` : load})`;
  };
  // tri5 block m + b — in the last group only where the row has it (the pair layout: a store past the row would land in
  // the next pair's)
  const store = (b: number, last: boolean) => {
    const st = `(v128.store offset=${32 * b} (local.get $dp) ${blockFromGroup(b)})`;
    return b === 0 || !last ? st : `(if (i32.lt_u (i32.add (local.get $m) (i32.const ${b})) (local.get $blocks5)) (then ${st}))`;
  };
  // one group: five t2 blocks in, four tri5 blocks out; then on to the next
  const group = (last: boolean) => `${[0, 1, 2, 3, 4].map((j) => block(j, last)).join("\n            ")}
            ${[0, 1, 2, 3].map((b) => store(b, last)).join("\n            ")}
            (local.set $sp (i32.add (local.get $sp) (i32.const 160)))
            (local.set $dp (i32.add (local.get $dp) (i32.const 128)))
            (local.set $k (i32.add (local.get $k) (i32.const 5)))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))`;
  return `
  ;; rows [rowStart, rowEnd) (even) of a t2 weight in the pair layout (srcRowStride bytes a row, srcBlocks blocks of
  ;; 64 inputs) into the tri5 layout at dst (dstRowStride = 16*blocks5 bytes a row) (tri5-layout.wat.ts): four tri5
  ;; blocks (five t2 blocks, 320 inputs) at a time, the groups that the row holds whole without a check
  (func $t2_to_tri5 (export "t2_to_tri5") (param $src i32) (param $srcRowStride i32) (param $srcBlocks i32) (param $dst i32)
        (param $dstRowStride i32) (param $blocks5 i32) (param $rowStart i32) (param $rowEnd i32)
    (local $r i32) (local $m i32) (local $k i32) (local $sp i32) (local $dp i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128)
    (local.set $r (local.get $rowStart))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rowEnd)))
        (local.set $sp (i32.add (i32.add (local.get $src) (i32.mul (i32.shr_u (local.get $r) (i32.const 1)) (i32.shl (local.get $srcRowStride) (i32.const 1))))
          (i32.shl (i32.and (local.get $r) (i32.const 1)) (i32.const 4))))
        (local.set $dp (i32.add (i32.add (local.get $dst) (i32.mul (i32.shr_u (local.get $r) (i32.const 1)) (i32.shl (local.get $dstRowStride) (i32.const 1))))
          (i32.shl (i32.and (local.get $r) (i32.const 1)) (i32.const 4))))
        (local.set $m (i32.const 0))
        (local.set $k (i32.const 0))
        (block $whole_done
          (loop $whole
            (br_if $whole_done (i32.or (i32.gt_u (i32.add (local.get $k) (i32.const 5)) (local.get $srcBlocks))
              (i32.gt_u (i32.add (local.get $m) (i32.const 4)) (local.get $blocks5))))
            ${group(false)}
            (br $whole)))
        (block $rest_done
          (loop $rest
            (br_if $rest_done (i32.ge_u (local.get $m) (local.get $blocks5)))
            ${group(true)}
            (br $rest)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )
`;
}
