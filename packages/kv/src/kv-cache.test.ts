import { hostArray } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { attendCached } from "./attention";
import { KvCache, KvCacheFullError } from "./kv-cache";

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32 - 0.5;
  };
}

const opts = { layers: 2, kvHeads: 2, headDim: 8, maxTokens: 6 };

function fill(cache: KvCache, seed: number, tokens = 6) {
  const r = rng(seed);
  const per = opts.kvHeads * opts.headDim;
  const k = Float32Array.from({ length: tokens * per }, r);
  const v = Float32Array.from({ length: tokens * per }, r);
  k.set([0, 1, 2, 3, 4, 5, 6, 40]); // the BOS token's first head: a spread of values and an outlier
  cache.write(1, 0, tokens, k, v);
  return { k, v };
}

function readAll(cache: KvCache, which: "K" | "V", tokens = 6) {
  const out: number[] = [];
  const buf = new Float32Array(opts.headDim);
  for (let p = 0; p < tokens; p++)
    for (let h = 0; h < opts.kvHeads; h++) {
      if (which === "K") cache.readK(1, p, h, buf);
      else cache.readV(1, p, h, buf);
      out.push(...buf);
    }
  return out;
}

const H = (x: Parameters<typeof hostArray>[0]) => hostArray(x, "test");

describe("KvCache", () => {
  it("stores f32 exactly and f16 to half precision", () => {
    const c32 = new KvCache({ ...opts, bits: 32 });
    const { k } = fill(c32, 1);
    expect(readAll(c32, "K")).toEqual([...k]);
    const c16 = new KvCache({ ...opts, bits: 16 });
    fill(c16, 1);
    readAll(c16, "K").forEach((v, i) => expect(Math.abs(v - k[i]!)).toBeLessThanOrEqual(Math.abs(k[i]!) * 2 ** -11 + 1e-7));
  });
  it("4-bit: each (token, head) within half a step of its own [min, max] range", () => {
    const c = new KvCache({ ...opts, bits: 4 });
    const { k } = fill(c, 2);
    const got = readAll(c, "K");
    for (let p = 0; p < 6; p++)
      for (let h = 0; h < 2; h++) {
        const seg = [...k.subarray((p * 2 + h) * 8, (p * 2 + h + 1) * 8)];
        const step = (Math.max(...seg) - Math.min(...seg)) / 15;
        seg.forEach((v, i) => expect(Math.abs(got[(p * 2 + h) * 8 + i]! - v)).toBeLessThanOrEqual(step / 2 + 1e-5));
      }
  });
  it("3-bit keeps the BOS token's heads at 4 bits", () => {
    const c = new KvCache({ ...opts, bits: 3 });
    const { k } = fill(c, 3);
    const got = readAll(c, "K");
    const seg = [...k.subarray(0, 8)]; // BOS, head 0, with the outlier
    const step4 = (Math.max(...seg) - Math.min(...seg)) / 15;
    seg.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(step4 / 2 + 1e-5));
    const seg1 = [...k.subarray(16, 24)]; // position 1, 3 bits
    const step3 = (Math.max(...seg1) - Math.min(...seg1)) / 7;
    seg1.forEach((v, i) => expect(Math.abs(got[16 + i]! - v)).toBeLessThanOrEqual(step3 / 2 + 1e-5));
    const plain3 = new KvCache({ ...opts, bits: 3, bosFourBit: false });
    fill(plain3, 3);
    const err = (g: number[]) => seg.reduce((s, v, i) => s + Math.abs(g[i]! - v), 0);
    expect(err(got)).toBeLessThan(err(readAll(plain3, "K")));
  });
  it("accounts memory exactly", () => {
    const per = 2 * 8; // kvHeads·headDim values per token
    expect(new KvCache({ ...opts, bits: 32 }).bytes()).toBe(2 * 2 * 6 * per * 4);
    expect(new KvCache({ ...opts, bits: 16 }).bytes()).toBe(2 * 2 * 6 * per * 2);
    // 4-bit: codes + f32 scale and offset per (token, head), for K and V of each layer
    expect(new KvCache({ ...opts, bits: 4 }).bytes()).toBe(2 * 2 * (Math.ceil((6 * per * 4) / 8) + 6 * 2 * 8));
    // 3-bit with a 4-bit BOS row: one extra bit per BOS value
    expect(new KvCache({ ...opts, bits: 3 }).bytes()).toBe(2 * 2 * (Math.ceil((6 * per * 3 + per) / 8) + 6 * 2 * 8));
  });
  it("throws a clear error when full", () => {
    const c = new KvCache({ ...opts, maxTokens: 2 });
    expect(() => c.reserve(3)).toThrow(KvCacheFullError);
    expect(() => c.write(0, 1, 2, new Float32Array(32), new Float32Array(32))).toThrow(/KV cache is full: it holds 2 tokens and 3 were needed/);
  });
});

describe("attendCached", () => {
  it("equals naive causal GQA attention on an f32 cache", () => {
    const c = new KvCache({ ...opts, bits: 32 });
    const { k, v } = fill(c, 4);
    const r = rng(5);
    const heads = 4; // 2 query heads per KV head
    const q = Float32Array.from({ length: 2 * heads * 8 }, r); // positions 4 and 5
    const got = H(attendCached(c, 1, q, 2, heads, 4));
    for (let t = 0; t < 2; t++)
      for (let h = 0; h < heads; h++) {
        const kvh = h >> 1;
        const last = 4 + t;
        const s: number[] = [];
        for (let j = 0; j <= last; j++) {
          let dot = 0;
          for (let i = 0; i < 8; i++) dot += q[(t * heads + h) * 8 + i]! * k[(j * 2 + kvh) * 8 + i]!;
          s.push(dot / Math.sqrt(8));
        }
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < 8; i++) {
          let want = 0;
          for (let j = 0; j <= last; j++) want += (e[j]! / z) * v[(j * 2 + kvh) * 8 + i]!;
          expect(got[(t * heads + h) * 8 + i]).toBeCloseTo(want, 5);
        }
      }
  });
  it("4-bit and 3-bit caches stay within a stated bound of f32 attention (max abs error ≤ 0.15 here)", () => {
    const r = rng(6);
    const q = Float32Array.from({ length: 4 * 8 }, r);
    const ref = new KvCache({ ...opts, bits: 32 });
    fill(ref, 7);
    const want = H(attendCached(ref, 1, q, 1, 4, 5));
    for (const bits of [4, 3] as const) {
      const c = new KvCache({ ...opts, bits });
      fill(c, 7);
      const got = H(attendCached(c, 1, q, 1, 4, 5));
      const err = Math.max(...got.map((g, i) => Math.abs(g - want[i]!)));
      expect(err).toBeLessThanOrEqual(0.15);
    }
  });
});

describe("attention on a backend, cache stores placed by the backend", () => {
  it("wasm (2 threads, cache in wasm memory) equals the js reference bit for bit, for every cache precision", async () => {
    const { createBackend } = await import("@onebit/kernels");
    const wasm = await createBackend("wasm", { threads: 2, simd: "baseline" });
    try {
      const big = { layers: 2, kvHeads: 2, headDim: 40, maxTokens: 12 };
      const r = rng(11);
      const per = big.kvHeads * big.headDim;
      const k = Float32Array.from({ length: 9 * per }, r);
      const v = Float32Array.from({ length: 9 * per }, r);
      const q = Float32Array.from({ length: 3 * 6 * big.headDim }, r); // 3 tokens at positions 6..8, 6 heads
      for (const bits of [32, 16, 4, 3] as const) {
        const ref = new KvCache({ ...big, bits });
        const placed = new KvCache({ ...big, bits, storage: wasm });
        for (const c of [ref, placed]) c.write(1, 0, 9, k, v);
        const want = H(attendCached(ref, 1, q, 3, 6, 6));
        const got = H(attendCached(placed, 1, q, 3, 6, 6, { backend: wasm }));
        expect([...got]).toEqual([...want]);
        placed.dispose();
        expect(() => placed.readK(1, 0, 0, new Float32Array(40))).toThrow("KvCache: used after dispose()");
      }
    } finally {
      wasm.dispose();
    }
  });
  it("a layer decoded whole equals the per-head reads", () => {
    for (const bits of [16, 4, 3] as const) {
      const c = new KvCache({ ...opts, bits });
      fill(c, 9);
      const whole = H(c.floats("k", 1, 6));
      expect([...whole.subarray(0, 6 * opts.kvHeads * opts.headDim)]).toEqual(readAll(c, "K"));
    }
  });
});
