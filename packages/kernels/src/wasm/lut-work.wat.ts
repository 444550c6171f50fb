/**
 * How the threads share a prompt's table-lookup GEMM (t2-gemm-lut.wat.ts) so that none waits for a slower one.
 *
 * The GEMM's work is cut into units — a tile of tokens over a run of rows — and each unit's inputs into chunks of
 * LUT_CHUNK blocks (the most the kernel sums in i16). Every unit has an owner (job-driver.ts: the thread whose run of
 * tokens, or of rows, it is in). A thread claims its own units' chunks from the front, one at a time, and when it has
 * none left it claims other threads' chunks from the back, last unit first. A ternary dot's integer sum splits
 * exactly over its inputs, so a thread sums the chunks it claimed into its own scratch and adds its part to the output
 * (LUT_ADD) once it has no more of that unit; the last thread to finish a unit then finishes its rows (t2_epilogue).
 * A thread that finds itself a unit's only member when it has drained it (most units: the others are busy with their
 * own) closes the unit and writes the float output straight from its sums (LUT_EPILOGUE). The unit's work is what it
 * was, wherever it runs: each chunk's tables are built once, by whichever thread claimed it.
 *
 * Why: on the 2-vCPU VMs we measure on, one vCPU runs 30–40 % slower than the other for seconds at a time (another
 * guest on its core). Split evenly, each of a 2B4T prompt's GEMMs waited for the slower thread: 8–16 % of the
 * threads' time in a 2-thread prefill, ≈ 3 % with the units shared (docs/kernels.md).
 *
 * A unit's state (LUT_UNIT_BYTES at u, zeroed by the caller before the job):
 *   u + 0   claims  front << 16 | back: blocks claimed from each end (the unit is drained when front + back = blocks)
 *   u + 4   members joined | finished << 8 | LUT_UNIT_CLOSED: threads that took part, those done, and closed once the
 *                   last of them is done (no thread joins a closed unit; its rows are finished)
 *   u + 8   lock    1 while a thread adds its part to the output
 *   u + 12  parts   parts added so far (under the lock): the first stores, the others add
 */

/** Bytes of one unit's state. */
export const LUT_UNIT_BYTES = 16;
const CLOSED = 1 << 16;

/** `chunk`: the most blocks a claim takes (t2-gemm-lut.wat.ts LUT_CHUNK). */
export function lutWorkWat(chunk: number): string {
  return `
  ;; lut_join(u): 1 if this thread joined unit u, 0 if it is closed (lut-work.wat.ts)
  (func (export "lut_join") (param $u i32) (result i32)
    (local $s i32)
    (loop $retry
      (local.set $s (i32.atomic.load offset=4 (local.get $u)))
      (if (i32.and (local.get $s) (i32.const ${CLOSED})) (then (return (i32.const 0))))
      (br_if $retry (i32.ne (i32.atomic.rmw.cmpxchg offset=4 (local.get $u) (local.get $s) (i32.add (local.get $s) (i32.const 1))) (local.get $s))))
    (i32.const 1))
  ;; lut_claim(u, blocks, front): up to ${chunk} blocks of unit u claimed from its front (front ≠ 0) or back, as
  ;; count << 16 | first block, or −1 when drained
  (func (export "lut_claim") (param $u i32) (param $blocks i32) (param $front i32) (result i32)
    (local $s i32) (local $f i32) (local $b i32) (local $left i32) (local $n i32)
    (loop $retry
      (local.set $s (i32.atomic.load (local.get $u)))
      (local.set $f (i32.shr_u (local.get $s) (i32.const 16)))
      (local.set $b (i32.and (local.get $s) (i32.const 0xffff)))
      (local.set $left (i32.sub (local.get $blocks) (i32.add (local.get $f) (local.get $b))))
      (if (i32.le_s (local.get $left) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $n (select (i32.const ${chunk}) (local.get $left) (i32.gt_u (local.get $left) (i32.const ${chunk}))))
      (br_if $retry (i32.ne (i32.atomic.rmw.cmpxchg (local.get $u) (local.get $s)
        (i32.add (local.get $s) (select (i32.shl (local.get $n) (i32.const 16)) (local.get $n) (local.get $front)))) (local.get $s))))
    (i32.or (i32.shl (local.get $n) (i32.const 16))
      (select (local.get $f) (i32.sub (i32.sub (local.get $blocks) (local.get $b)) (local.get $n)) (local.get $front))))
  ;; lut_finish(u): count this thread done with unit u; 1 if it was the last member (the unit is now closed)
  (func (export "lut_finish") (param $u i32) (result i32)
    (local $s i32) (local $n i32) (local $last i32)
    (loop $retry
      (local.set $s (i32.atomic.load offset=4 (local.get $u)))
      (local.set $n (i32.add (i32.and (i32.shr_u (local.get $s) (i32.const 8)) (i32.const 0xff)) (i32.const 1)))
      (local.set $last (i32.eq (local.get $n) (i32.and (local.get $s) (i32.const 0xff))))
      (br_if $retry (i32.ne (i32.atomic.rmw.cmpxchg offset=4 (local.get $u) (local.get $s)
        (i32.or (i32.or (i32.and (local.get $s) (i32.const 0xff)) (i32.shl (local.get $n) (i32.const 8))) (select (i32.const ${CLOSED}) (i32.const 0) (local.get $last))))
        (local.get $s))))
    (local.get $last))
  ;; lut_close_alone(u): 1 if this thread is unit u's only member, none having finished: then it is closed (and this
  ;; thread done) at once — no other thread claimed any of its blocks, so this one may write the finished output
  (func (export "lut_close_alone") (param $u i32) (result i32)
    (i32.eq (i32.atomic.rmw.cmpxchg offset=4 (local.get $u) (i32.const 1) (i32.const ${CLOSED | (1 << 8) | 1})) (i32.const 1)))
  ;; lut_lock(u): take unit u's output lock (spinning: a holder adds one tile's sums, well under a millisecond);
  ;; returns the parts added before (0: store rather than add)
  (func (export "lut_lock") (param $u i32) (result i32)
    (loop $spin
      (br_if $spin (i32.atomic.rmw.cmpxchg offset=8 (local.get $u) (i32.const 0) (i32.const 1))))
    (i32.atomic.load offset=12 (local.get $u)))
  ;; lut_unlock(u): one more part added; release the lock
  (func (export "lut_unlock") (param $u i32)
    (i32.atomic.store offset=12 (local.get $u) (i32.add (i32.atomic.load offset=12 (local.get $u)) (i32.const 1)))
    (i32.atomic.store offset=8 (local.get $u) (i32.const 0)))
`;
}
