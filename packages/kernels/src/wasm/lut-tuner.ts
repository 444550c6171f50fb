/**
 * Which of a prompt GEMM's exact variants runs a shape (bit-linear-ops.ts): the table-lookup tiles over the weight's
 * t2 rows or over its rows transcoded to tri5 (tri5-layout.wat.ts), in tiles of up to 64 tokens or of up to 32. All
 * give the same bits; which is fastest depends on the machine's caches. Measured with `bench:lut` (128 tokens, one
 * thread, 2B4T shapes): on Zen 5 (48 KiB L1d, 1 MiB L2) tri5 in 64-token tiles was fastest for every projection, 1.04–
 * 1.09× t2's speed; on Zen 3 (32 KiB L1d, 512 KiB L2) the same variant was the slowest for three of the four, t2
 * in 64-token tiles 1.06–1.13× faster on the down, q·k·v and o projections and tri5 in 32-token tiles the fastest on
 * gate / up. So the backend times its first calls of each shape instead of fixing one order in advance: the
 * candidates in turn (so a burst of load on a shared host slows each alike), the first call of each not counted (it
 * may run before V8 has optimised that kernel), then the fastest median sticks for the backend's life.
 * A 2B4T prompt calls each projection's shape 30 times or more, so the choice is made within the first prompt.
 */

/** One way to run a prompt's LUT GEMM: its tiles over tri5 rows or t2 rows, and the widest tile (tokens) it cuts. */
export interface LutVariant {
  readonly tri5: boolean;
  readonly maxWidth: number;
}

interface ShapeState {
  readonly candidates: readonly LutVariant[];
  /** timings per candidate, the uncounted first call excluded */
  readonly times: number[][];
  /** calls so far (the round-robin position) */
  calls: number;
  chosen: number | undefined;
}

export class LutTuner {
  private readonly shapes = new Map<string, ShapeState>();

  /** `samples`: timed calls per candidate before a choice (after one uncounted call of each). */
  constructor(readonly samples = 4) {}

  /**
   * The variant for this call of shape `key`, and whether to time it and report back with `record(slot, …)`. A shape
   * asked about with other candidates (a test or benchmark forcing part of the choice) is a tuning of its own: what
   * was chosen among one set is never run when another is asked for.
   */
  pick(key: string, candidates: readonly LutVariant[]): { variant: LutVariant; timed: boolean; index: number; slot: string } {
    if (candidates.length === 0) throw new Error(`LutTuner: no candidates for ${key}`);
    const slot = `${key} [${candidates.map((c) => `${c.tri5 ? "tri5" : "t2"}/${c.maxWidth || "any"}`).join(" ")}]`;
    let s = this.shapes.get(slot);
    if (!s) {
      s = { candidates, times: candidates.map(() => []), calls: 0, chosen: candidates.length === 1 ? 0 : undefined };
      this.shapes.set(slot, s);
    }
    if (s.chosen !== undefined) return { variant: s.candidates[s.chosen]!, timed: false, index: s.chosen, slot };
    const index = s.calls % s.candidates.length;
    return { variant: s.candidates[index]!, timed: true, index, slot };
  }

  /** The time of a call that `pick` asked to be timed (`slot` as pick returned it). */
  record(slot: string, index: number, ms: number): void {
    const s = this.shapes.get(slot);
    if (!s || s.chosen !== undefined) return;
    // (a candidate's first call is not counted: its kernel may not be optimised yet)
    if (s.calls >= s.candidates.length) s.times[index]!.push(ms);
    s.calls++;
    if (s.times.every((t) => t.length >= this.samples)) {
      const medians = s.times.map((t) => [...t].sort((a, b) => a - b)[t.length >> 1]!);
      s.chosen = medians.indexOf(Math.min(...medians));
    }
  }

  /** The choices made so far, by slot (shape key and candidates; for reports and benchmarks). */
  choices(): Map<string, LutVariant> {
    const out = new Map<string, LutVariant>();
    for (const [key, s] of this.shapes) if (s.chosen !== undefined) out.set(key, s.candidates[s.chosen]!);
    return out;
  }
}
