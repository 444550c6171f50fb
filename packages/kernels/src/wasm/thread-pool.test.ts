/**
 * The pool's hand-off under churn: many small jobs back to back, of both kinds — jobs whose rows are all claimed from
 * the shared counter (one-token bitLinear: the main thread closes them when it finds no rows left, and waits only for
 * the workers that joined) and jobs split by thread index (four-token bitLinear: every worker must run its range) —
 * so a worker often arrives after a job was closed, or after the next one was posted. Every result must still be the
 * reference's, bit for bit, and no job may hang.
 */
import { setFlagsFromString } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, PreparedWeight } from "../backend";
import { createBackend } from "../backends";
import { activations, ternaryWeight } from "../conformance-cases";
import { identical } from "../conformance-helpers";

setFlagsFromString("--experimental-wasm-relaxed-simd");

describe("wasm thread pool", () => {
  let pool: Backend;
  let ref: Backend;
  beforeAll(async () => {
    pool = await createBackend("wasm", { threads: 3 });
    ref = await createBackend("js");
  });
  afterAll(() => {
    pool.dispose();
    ref.dispose();
  });

  it("gives the reference's results for 600 alternating claimed and split jobs, small enough that workers join late", () => {
    // 40 rows of 128: a few µs of work, less than a parked worker takes to wake
    const shapes = [
      { out: 40, inF: 128 },
      { out: 260, inF: 256 },
    ];
    const weights = shapes.map((s, i) => {
      const w = ternaryWeight(s.out, s.inF, 11 + i);
      return { s, w, prepared: pool.prepareWeight({ weight: w }) as PreparedWeight, reference: ref.prepareWeight({ weight: w }) };
    });
    const want = new Map<string, Float32Array>();
    let checked = 0;
    for (let i = 0; i < 600; i++) {
      const { s, prepared, reference } = weights[i % 2]!;
      const tokens = i % 3 === 0 ? 4 : 1; // 4 tokens: rows split by thread index; 1: rows claimed
      const key = `${s.out}:${tokens}:${i % 5}`;
      const x = activations(tokens, s.inF, 100 + (i % 5));
      if (!want.has(key)) want.set(key, ref.bitLinear({ weight: reference, input: x }) as Float32Array);
      const got = pool.bitLinear({ weight: prepared, input: x }) as Float32Array;
      identical(`job ${i} (${s.out}×${s.inF}, ${tokens} tokens)`, got, want.get(key)!);
      checked++;
    }
    expect(checked).toBe(600);
  });
});
