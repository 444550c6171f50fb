import { createBackend } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { linearQuantFor, type Projection } from "./bitlinear-variant";
import { FeedForward } from "./feed-forward";
import { LayerSpecError } from "./layer-spec-error";
import { rng } from "./testing/float-reference";
import { Workspace } from "./workspace";

describe("Workspace", () => {
  it("hands a slot's buffer out again, grown to the largest length and cut to each request", () => {
    const ws = new Workspace();
    const a = ws.f32("x", 8);
    a.fill(3);
    const b = ws.f32("x", 8);
    expect(b).toBe(a); // the same buffer, contents as left
    expect(b[0]).toBe(3);
    const big = ws.f32("x", 20);
    expect(big.length).toBe(20);
    const small = ws.f32("x", 5);
    expect(small.length).toBe(5);
    expect(small.buffer).toBe(big.buffer); // a view of the grown buffer, no new allocation
    expect(ws.f32("y", 4).buffer).not.toBe(big.buffer); // slots are separate
    expect(ws.bytes).toBe(20 * 4 + 4 * 4);
    ws.clear();
    expect(ws.bytes).toBe(0);
  });

  it("hands the same shorter view out again while the slot and length stay (a decode step after a prompt), a new one after growth", () => {
    const ws = new Workspace();
    ws.f32("x", 16);
    const row = ws.f32("x", 4);
    expect(ws.f32("x", 4)).toBe(row);
    expect(ws.f32("x", 3)).not.toBe(row);
    expect(ws.f32("x", 3).length).toBe(3);
    const grown = ws.f32("x", 32);
    const row2 = ws.f32("x", 4);
    expect(row2).not.toBe(row);
    expect(row2.buffer).toBe(grown.buffer);
    expect(row2.byteOffset).toBe(grown.byteOffset);
    const codes = ws.i8("c", 64);
    const head = ws.i8("c", 16);
    expect(ws.i8("c", 16)).toBe(head);
    expect(head.buffer).toBe(codes.buffer);
    expect(ws.i8("c", 8).length).toBe(8);
    ws.clear();
    expect(ws.f32("x", 4)).not.toBe(row2);
  });

  it("places its buffers with alloc and gives them back with free when a slot grows or is cleared", () => {
    const live = new Set<Float32Array>();
    const ws = new Workspace({ alloc: (n) => { const a = new Float32Array(n); live.add(a); return a; }, free: (a) => { expect(live.delete(a)).toBe(true); } });
    ws.f32("a", 4);
    ws.f32("a", 2);
    expect(live.size).toBe(1);
    ws.f32("a", 8); // grows: the old buffer is freed
    ws.f32("b", 3);
    expect(live.size).toBe(2);
    ws.clear();
    expect(live.size).toBe(0);
  });

  it("does not keep a buffer larger than maxBytes, and names a bad request", () => {
    const ws = new Workspace({ maxBytes: 64 });
    const a = ws.f32("x", 32);
    expect(ws.f32("x", 32)).not.toBe(a);
    expect(ws.bytes).toBe(0);
    expect(() => ws.f32("x", -1)).toThrow(LayerSpecError);
    expect(() => ws.f32("x", 1.5)).toThrow("workspace x: expected a length ≥ 0, got 1.5");
    expect(() => new Workspace({ maxBytes: -1 })).toThrow(LayerSpecError);
  });

  it("i8 hands out bytes of a float slot placed by alloc, the same view again until it must grow", () => {
    const lengths: number[] = [];
    const ws = new Workspace({ alloc: (n) => (lengths.push(n), new Float32Array(n)) });
    const a = ws.i8("codes", 10);
    expect(a).toBeInstanceOf(Int8Array);
    expect(a.length).toBe(10);
    expect(lengths).toEqual([3]); // ⌈10/4⌉ floats
    a.fill(-7);
    const b = ws.i8("codes", 9);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(Array.from(b)).toEqual(new Array(9).fill(-7));
    const c = ws.i8("codes", 40);
    expect(c.length).toBe(40);
    expect(lengths).toEqual([3, 10]);
    expect(() => ws.i8("codes", -1)).toThrow(LayerSpecError);
  });

  it("a feed-forward block gives the same values with a workspace as without, its result in the up slot", async () => {
    const backend = await createBackend("wasm", { threads: 1 });
    const hidden = 64;
    const intermediate = 128;
    const r = rng(9);
    const spec = (p: Projection, inF: number, out: number) => ({ inFeatures: inF, outFeatures: out, quant: linearQuantFor("b1.58", p), groups: 1, groupAxis: "out" as const, epsMode: "clamp" as const });
    const weights = {
      gate: Float32Array.from({ length: intermediate * hidden }, r),
      up: Float32Array.from({ length: intermediate * hidden }, r),
      down: Float32Array.from({ length: hidden * intermediate }, r),
    };
    const ffn = new FeedForward(
      { hidden, intermediate, activation: "relu2", gate: spec("gate", hidden, intermediate), up: spec("up", hidden, intermediate), down: spec("down", intermediate, hidden), subNorm: null },
      weights,
      backend,
    );
    const ws = new Workspace();
    for (const tokens of [3, 1, 3]) {
      const x = Float32Array.from({ length: tokens * hidden }, (_, i) => Math.sin(i * 0.37 + tokens));
      const want = ffn.gated(x, tokens) as Float32Array;
      const got = ffn.gated(x, tokens, ws) as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(got.buffer).toBe(ws.f32("ffn.up", tokens * intermediate).buffer);
    }
    backend.dispose();
  });
});
