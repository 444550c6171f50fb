/**
 * Column panels: a ternary weight stored by columns, so that one token's GEMV reads only the columns whose
 * activation is not zero (relaxed-SIMD module only). For the down projection of a ReLU²GLU feed-forward
 * (BitNet b1.58 2B4T, arXiv 2504.12285 §2; BitNet a4.8, arXiv 2411.04965 §2.2), whose input relu(gate)² ⊙ up is zero
 * wherever the gate is not positive: about half the inputs with random weights, more in trained models.
 *
 * Layout: the rows in panels of 64 (PANEL_ROWS; rows a multiple of 64); panel P holds, for every input j, one 16-byte
 * vector of the 64 rows' codes (code = w + 1) — byte b, field f (bits 2f) the code of row 64P + 16f + b — at
 * P·panelStride + 16j, panelStride = blocks·1024 (blocks of 64 inputs, as in t2). That is a t2 block with the roles
 * of rows and inputs exchanged: a t2 row's block k holds, byte b field f, the code of input 64k + 16f + b. So the
 * 64 × 64 tile of rows 64P.. and inputs 64k.. is 64 vectors either way, and one transpose maps t2 rows to panels and
 * back (`panels_transpose`): prepareWeight stores a weight as panels, and a prompt for the table-lookup GEMM gets its
 * rows back in scratch, as tri5 rows (`panels_to_tri5`) or t2 rows (bit-linear-ops.ts; fewer tokens go one by one
 * through `col_gemv`).
 *
 * The tile transpose, with r = 16·ri + rb and c = 16·ci + cb: t2 vector r holds code(r, c) in byte cb, field ci; panel
 * vector c holds it in byte rb, field ri. For each rb, the four vectors 16·ri + rb (ri = 0..3) are a 4 × 4 matrix of
 * 2-bit fields per byte, transposed by two rounds of masked exchanges (fields one apart, then two); then for each ci
 * the 16 vectors are a 16 × 16 byte matrix, transposed by four rounds of interleaves (bytes, i16, i32, i64; the
 * input taken in bit-reversed order so the output comes out in order).
 *
 * The GEMV (`col_gemv`): `col_pairs` lists the non-zero activations, in input order, two at a time: each entry
 * [16·j1, 16·j2, x_j1 | x_j2 << 8] (12 bytes; a lone last one paired with itself and 0). Per entry and panel the
 * two column vectors are interleaved byte by byte (low and high halves: rows 16f + 0..7 and 16f + 8..15), and each
 * field f, masked out, is multiplied against (x_j1, x_j2) by `i16x8.relaxed_dot_i8x16_i7x16_s`: per lane
 * code_j1·x_j1 + code_j2·x_j2 for one row. Eight i16 sums a panel (64 rows), widened every 64 entries
 * (|lane| ≤ 64·2·2·128 = 32768: exact; −32768 is the only extreme a lane reaches). Out: Σ code·x (the caller
 * subtracts Σx as for t2: inputs whose x is 0 add nothing either way). Per 128 multiply-adds: 2 loads, 2
 * interleaves, 6 shifts, 8 ands, 8 dots, 8 adds — 0.28 vector operations each against the t2 GEMV's 0.20, for the
 * entries that exist only.
 * Where 64 entries span more than 80 bytes of the panel each (sparse inputs), their lines are first read one byte
 * per 64-byte line, in order: an access pattern with gaps loses the hardware prefetcher (measured, 2560×6912, one
 * thread: with 10 % of the inputs non-zero 594 µs without, against the t2 GEMV's 347).
 */

/** Rows of one panel. */
export const PANEL_ROWS = 64;
/** Bytes of one col_pairs entry, and of the header before the entries (the count, an i32). */
export const COL_PAIR_BYTES = 12;
export const COL_PAIRS_HEADER = 16;
/** Scratch one tile transpose needs. */
const TILE_SCRATCH_BYTES = 1024;
/** t2 blocks panels_to_tri5 transposes at a time (three tri5 groups of five). */
const TRI5_CHUNK = 30;
/** Scratch one thread's panels_transpose or panels_to_tri5 needs. */
export const PANEL_SCRATCH_BYTES = TILE_SCRATCH_BYTES + PANEL_ROWS * TRI5_CHUNK * 16;

/** i8x16.shuffle indices interleaving lanes of `width` bytes of two vectors: low halves, or high. */
function interleave(width: number, high: boolean): string {
  const p: number[] = [];
  for (let i = 0; i < 8 / width; i++) {
    for (let k = 0; k < width; k++) p.push(i * width + k + (high ? 8 : 0));
    for (let k = 0; k < width; k++) p.push(16 + i * width + k + (high ? 8 : 0));
  }
  return p.join(" ");
}

const bitReverse4 = (i: number) => ((i & 1) << 3) | ((i & 2) << 1) | ((i & 4) >> 1) | ((i & 8) >> 3);

/** The four fields of $f0..$f3 (vector index ↔ field index) exchanged, per byte. */
function fieldTranspose(): string {
  // vectors a, b exchange a's fields shifted down by `shift` with b's under `mask`
  const swap = (a: number, b: number, shift: number, mask: number) => `
      (local.set $t (v128.and (v128.xor (i16x8.shr_u (local.get $f${a}) (i32.const ${shift})) (local.get $f${b})) (v128.const i8x16 ${Array(16).fill(mask).join(" ")})))
      (local.set $f${b} (v128.xor (local.get $f${b}) (local.get $t)))
      (local.set $f${a} (v128.xor (local.get $f${a}) (i16x8.shl (local.get $t) (i32.const ${shift}))))`;
  return `${swap(0, 1, 2, 0x33)}${swap(2, 3, 2, 0x33)}${swap(0, 2, 4, 0x0f)}${swap(1, 3, 4, 0x0f)}`;
}

/** The 16 vectors at $s + 16·bitReverse(i) transposed as a 16 × 16 byte matrix into $y0..$y15. */
function byteTranspose(): string {
  const lines: string[] = [];
  for (let i = 0; i < 16; i++) lines.push(`(local.set $y${i} (v128.load offset=${16 * bitReverse4(i)} (local.get $s)))`);
  for (const width of [1, 2, 4, 8]) {
    // round: z[2i], z[2i+1] = interleave(y[i], y[i + 8]); written back into y through z (the inputs are read first)
    for (let i = 0; i < 8; i++) {
      lines.push(`(local.set $z${2 * i} (i8x16.shuffle ${interleave(width, false)} (local.get $y${i}) (local.get $y${i + 8})))`);
      lines.push(`(local.set $z${2 * i + 1} (i8x16.shuffle ${interleave(width, true)} (local.get $y${i}) (local.get $y${i + 8})))`);
    }
    for (let i = 0; i < 16; i++) lines.push(`(local.set $y${i} (local.get $z${i}))`);
  }
  return lines.join("\n      ");
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function columnPanelsWat(): string {
  const yz = range(16).map((i) => `(local $y${i} v128) (local $z${i} v128)`).join(" ");
  return `
  ;; One 64 × 64 tile transposed (column-panels.wat.ts): input vector i at $src + (i >> 1)·$srcPair + (i & 1)·16, output
  ;; vector i likewise at $dst / $dstPair; $s: 1 KiB of scratch.
  (func $panel_tile (param $src i32) (param $srcPair i32) (param $dst i32) (param $dstPair i32) (param $s i32)
    (local $rb i32) (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128) (local $t v128) (local $ci i32)
    ${yz}
    ;; fields: for each rb, vectors 16·ri + rb → scratch vector ci·16 + rb
    (loop $fields
      ${range(4).map((ri) => `(local.set $f${ri} (v128.load (i32.add (local.get $src) (i32.add (i32.mul (local.get $srcPair) (i32.shr_u (i32.add (local.get $rb) (i32.const ${16 * ri})) (i32.const 1))) (i32.shl (i32.and (local.get $rb) (i32.const 1)) (i32.const 4))))))`).join("\n      ")}
      ${fieldTranspose()}
      ${range(4).map((ci) => `(v128.store offset=${256 * ci} (i32.add (local.get $s) (i32.shl (local.get $rb) (i32.const 4))) (local.get $f${ci}))`).join("\n      ")}
      (local.set $rb (i32.add (local.get $rb) (i32.const 1)))
      (br_if $fields (i32.lt_u (local.get $rb) (i32.const 16))))
    ;; bytes: for each ci, the 16 scratch vectors → output vectors 16·ci + cb ($ci counts their pairs: 8·ci)
    (loop $bytes
      ${byteTranspose()}
      ${range(16).map((cb) => `(v128.store offset=${(cb & 1) * 16} (i32.add (local.get $dst) (i32.mul (local.get $dstPair) (i32.add (local.get $ci) (i32.const ${cb >> 1})))) (local.get $y${cb}))`).join("\n      ")}
      (local.set $s (i32.add (local.get $s) (i32.const 256)))
      (local.set $ci (i32.add (local.get $ci) (i32.const 8)))
      (br_if $bytes (i32.lt_u (local.get $ci) (i32.const 32))))
  )

  ;; Panels [p0, p1) of a weight of $blocks 64-input blocks: its t2 rows (pairs, rowStride = blocks·16) at $t2 ↔ its
  ;; panels (panelStride = blocks·1024) at $panels; $toPanels: 1 t2 → panels, 0 panels → t2. $s: 1 KiB of scratch.
  (func (export "panels_transpose") (param $t2 i32) (param $panels i32) (param $blocks i32) (param $p0 i32) (param $p1 i32) (param $toPanels i32) (param $s i32)
    (local $P i32) (local $k i32) (local $rows i32) (local $cols i32) (local $pair i32)
    (local.set $pair (i32.shl (local.get $blocks) (i32.const 5)))
    (local.set $P (local.get $p0))
    (block $done (loop $panels_loop
      (br_if $done (i32.ge_u (local.get $P) (local.get $p1)))
      (local.set $k (i32.const 0))
      (loop $blocks_loop
        ;; the tile's t2 side: rows 64P.. (pairs 32P..) at block k; its panel side: inputs 64k.. of panel P
        (local.set $rows (i32.add (local.get $t2) (i32.add (i32.mul (local.get $P) (i32.shl (local.get $blocks) (i32.const 10))) (i32.shl (local.get $k) (i32.const 5)))))
        (local.set $cols (i32.add (local.get $panels) (i32.add (i32.mul (local.get $P) (i32.shl (local.get $blocks) (i32.const 10))) (i32.shl (local.get $k) (i32.const 10)))))
        (if (local.get $toPanels)
          (then (call $panel_tile (local.get $rows) (local.get $pair) (local.get $cols) (i32.const 32) (local.get $s)))
          (else (call $panel_tile (local.get $cols) (i32.const 32) (local.get $rows) (local.get $pair) (local.get $s))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $blocks_loop (i32.lt_u (local.get $k) (local.get $blocks))))
      (local.set $P (i32.add (local.get $P) (i32.const 1)))
      (br $panels_loop)))
  )

  ;; Panels [p0, p1) of a weight of $blocks blocks → its rows in the tri5 layout (tri5-layout.wat.ts) at $dst ($blocks5
  ;; blocks of 80 inputs, 16·blocks5 bytes a row), for a prompt's GEMM: ${TRI5_CHUNK} t2 blocks at a time, their tiles
  ;; transposed into t2 pair rows in scratch ($s: PANEL_SCRATCH_BYTES) and transcoded from there by t2_to_tri5,
  ;; so the t2 rows never go through memory beyond L1.
  (func (export "panels_to_tri5") (param $panels i32) (param $blocks i32) (param $dst i32) (param $blocks5 i32) (param $p0 i32) (param $p1 i32) (param $s i32)
    (local $P i32) (local $k0 i32) (local $c i32) (local $k i32) (local $buf i32) (local $pb i32) (local $m0 i32) (local $rs i32) (local $n5 i32)
    (local.set $buf (i32.add (local.get $s) (i32.const ${TILE_SCRATCH_BYTES})))
    (local.set $P (local.get $p0))
    (block $done (loop $panels_loop
      (br_if $done (i32.ge_u (local.get $P) (local.get $p1)))
      (local.set $pb (i32.add (local.get $panels) (i32.mul (local.get $P) (i32.shl (local.get $blocks) (i32.const 10)))))
      (local.set $k0 (i32.const 0))
      (loop $chunks
        (local.set $c (select (i32.const ${TRI5_CHUNK}) (i32.sub (local.get $blocks) (local.get $k0))
          (i32.lt_u (i32.add (local.get $k0) (i32.const ${TRI5_CHUNK})) (local.get $blocks))))
        (local.set $rs (i32.shl (local.get $c) (i32.const 4)))
        (local.set $k (i32.const 0))
        (loop $tiles
          (call $panel_tile (i32.add (local.get $pb) (i32.shl (i32.add (local.get $k0) (local.get $k)) (i32.const 10))) (i32.const 32)
            (i32.add (local.get $buf) (i32.shl (local.get $k) (i32.const 5))) (i32.shl (local.get $rs) (i32.const 1)) (local.get $s))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $tiles (i32.lt_u (local.get $k) (local.get $c))))
        ;; tri5 blocks m0.. of rows 64P..: the chunk's four per five t2 blocks, or the rest of the row at its end; the
        ;; source pointer is set so that row 64P is at $buf
        (local.set $m0 (i32.shl (i32.div_u (local.get $k0) (i32.const 5)) (i32.const 2)))
        (local.set $n5 (select (i32.shl (i32.div_u (local.get $c) (i32.const 5)) (i32.const 2)) (i32.sub (local.get $blocks5) (local.get $m0))
          (i32.lt_u (i32.add (local.get $k0) (local.get $c)) (local.get $blocks))))
        (call $t2_to_tri5 (i32.sub (local.get $buf) (i32.mul (i32.shl (local.get $P) (i32.const 6)) (local.get $rs))) (local.get $rs) (local.get $c)
          (i32.add (local.get $dst) (i32.shl (local.get $m0) (i32.const 5))) (i32.shl (local.get $blocks5) (i32.const 4)) (local.get $n5)
          (i32.shl (local.get $P) (i32.const 6)) (i32.add (i32.shl (local.get $P) (i32.const 6)) (i32.const ${PANEL_ROWS})))
        (local.set $k0 (i32.add (local.get $k0) (local.get $c)))
        (br_if $chunks (i32.lt_u (local.get $k0) (local.get $blocks))))
      (local.set $P (i32.add (local.get $P) (i32.const 1)))
      (br $panels_loop)))
  )

  ;; The entries of col_gemv's list from int8 x [n] (n a multiple of 16) at $pairs: [count i32, 12 bytes of padding]
  ;; then [16·j1, 16·j2, x_j1 & 255 | (x_j2 & 255) << 8] per two non-zero x in input order; returns the count.
  (func (export "col_pairs") (param $x i32) (param $n i32) (param $pairs i32) (result i32)
    (local $j i32) (local $m i32) (local $jj i32) (local $e i32) (local $count i32) (local $waiting i32) (local $pj i32) (local $px i32)
    (local.set $e (i32.add (local.get $pairs) (i32.const ${COL_PAIRS_HEADER})))
    (block $done (loop $vectors
      (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $m (i8x16.bitmask (i8x16.ne (v128.load (i32.add (local.get $x) (local.get $j))) (v128.const i32x4 0 0 0 0))))
      (block $bits_done (loop $bits
        (br_if $bits_done (i32.eqz (local.get $m)))
        (local.set $jj (i32.add (local.get $j) (i32.ctz (local.get $m))))
        (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
        (if (local.get $waiting)
          (then
            (i32.store (local.get $e) (i32.shl (local.get $pj) (i32.const 4)))
            (i32.store offset=4 (local.get $e) (i32.shl (local.get $jj) (i32.const 4)))
            (i32.store offset=8 (local.get $e) (i32.or (i32.and (local.get $px) (i32.const 255))
              (i32.shl (i32.load8_u (i32.add (local.get $x) (local.get $jj))) (i32.const 8))))
            (local.set $e (i32.add (local.get $e) (i32.const ${COL_PAIR_BYTES})))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $waiting (i32.const 0)))
          (else
            (local.set $pj (local.get $jj))
            (local.set $px (i32.load8_u (i32.add (local.get $x) (local.get $jj))))
            (local.set $waiting (i32.const 1))))
        (br $bits)))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $vectors)))
    (if (local.get $waiting)
      (then
        (i32.store (local.get $e) (i32.shl (local.get $pj) (i32.const 4)))
        (i32.store offset=4 (local.get $e) (i32.shl (local.get $pj) (i32.const 4)))
        (i32.store offset=8 (local.get $e) (local.get $px))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))))
    (i32.store (local.get $pairs) (local.get $count))
    (local.get $count)
  )

  ;; out[64P + i] = Σ_j code(64P + i, j)·x_j (i32) for panels [p0, p1) of the weight at $panels ($blocks 64-input
  ;; blocks), over the entries col_pairs wrote at $pairs.
  (func (export "col_gemv") (param $panels i32) (param $blocks i32) (param $p0 i32) (param $p1 i32) (param $pairs i32) (param $out i32)
    (local $P i32) (local $pw i32) (local $p i32) (local $n i32) (local $left i32) (local $o i32) (local $line i32) (local $end i32) (local $touch i32)
    (local $m v128) (local $v1 v128) (local $v2 v128) (local $hv v128) (local $lo v128) (local $hi v128)
    ${range(8).map((i) => `(local $a${i} v128)`).join(" ")}
    (local.set $m (i8x16.splat (i32.const 3)))
    (local.set $P (local.get $p0))
    (block $done (loop $panels_loop
      (br_if $done (i32.ge_u (local.get $P) (local.get $p1)))
      (local.set $pw (i32.add (local.get $panels) (i32.mul (local.get $P) (i32.shl (local.get $blocks) (i32.const 10)))))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $P) (i32.const 8))))
      ${range(16).map((i) => `(v128.store offset=${16 * i} (local.get $o) (v128.const i32x4 0 0 0 0))`).join(" ")}
      (local.set $p (i32.add (local.get $pairs) (i32.const ${COL_PAIRS_HEADER})))
      (local.set $left (i32.load (local.get $pairs)))
      (block $chunks_done (loop $chunks
        (br_if $chunks_done (i32.eqz (local.get $left)))
        (local.set $n (select (i32.const 64) (local.get $left) (i32.gt_u (local.get $left) (i32.const 64))))
        (local.set $left (i32.sub (local.get $left) (local.get $n)))
        ;; where the chunk's entries are sparse, the lines they span, one byte each, in order (for the prefetcher)
        (local.set $line (i32.add (local.get $pw) (i32.load (local.get $p))))
        (local.set $end (i32.add (local.get $pw) (i32.load offset=4 (i32.add (local.get $p) (i32.mul (i32.sub (local.get $n) (i32.const 1)) (i32.const ${COL_PAIR_BYTES}))))))
        (if (i32.gt_u (i32.sub (local.get $end) (local.get $line)) (i32.mul (local.get $n) (i32.const 80)))
          (then (loop $lines
            (local.set $touch (i32.or (local.get $touch) (i32.load8_u (local.get $line))))
            (local.set $line (i32.add (local.get $line) (i32.const 64)))
            (br_if $lines (i32.le_u (local.get $line) (local.get $end))))))
        ${range(8).map((i) => `(local.set $a${i} (v128.const i32x4 0 0 0 0))`).join(" ")}
        (loop $inner
          (local.set $v1 (v128.load (i32.add (local.get $pw) (i32.load (local.get $p)))))
          (local.set $v2 (v128.load (i32.add (local.get $pw) (i32.load offset=4 (local.get $p)))))
          (local.set $hv (i16x8.splat (i32.load offset=8 (local.get $p))))
          (local.set $lo (i8x16.shuffle ${interleave(1, false)} (local.get $v1) (local.get $v2)))
          (local.set $hi (i8x16.shuffle ${interleave(1, true)} (local.get $v1) (local.get $v2)))
          ${range(4)
            .map((f) => {
              const plane = (v: string) => (f === 0 ? `(v128.and (local.get ${v}) (local.get $m))` : `(v128.and (i16x8.shr_u (local.get ${v}) (i32.const ${2 * f})) (local.get $m))`);
              return `(local.set $a${2 * f} (i16x8.add (local.get $a${2 * f}) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $hv) ${plane("$lo")})))
          (local.set $a${2 * f + 1} (i16x8.add (local.get $a${2 * f + 1}) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $hv) ${plane("$hi")})))`;
            })
            .join("\n          ")}
          (local.set $p (i32.add (local.get $p) (i32.const ${COL_PAIR_BYTES})))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $inner (local.get $n)))
        ;; $a(q) lane l is row 8q + l of the panel: widened into the panel's i32 sums
        ${range(8)
          .map(
            (q) => `(v128.store offset=${32 * q} (local.get $o) (i32x4.add (v128.load offset=${32 * q} (local.get $o)) (i32x4.extend_low_i16x8_s (local.get $a${q}))))
        (v128.store offset=${32 * q + 16} (local.get $o) (i32x4.add (v128.load offset=${32 * q + 16} (local.get $o)) (i32x4.extend_high_i16x8_s (local.get $a${q}))))`,
          )
          .join("\n        ")}
        (br $chunks)))
      (local.set $P (i32.add (local.get $P) (i32.const 1)))
      (br $panels_loop)))
    ;; keep the touch loads observable
    (if (i32.eq (local.get $touch) (i32.const 0x7fffffff)) (then (i32.store (local.get $out) (local.get $touch))))
  )
`;
}
