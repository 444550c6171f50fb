import { hostArray } from "@onebit/kernels";
import { quantizeUnsigned } from "@onebit/quant";
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
  it("8-bit: each (token, head) within half a step of its own range, a byte per code, the range's ends kept", () => {
    const c = new KvCache({ ...opts, bits: 8 });
    const { k, v } = fill(c, 12);
    for (const [which, x] of [["K", k], ["V", v]] as const) {
      const got = readAll(c, which);
      for (let g = 0; g < 12; g++) {
        const seg = [...x.subarray(g * 8, (g + 1) * 8)];
        const [lo, hi] = [Math.min(...seg), Math.max(...seg)];
        const step = (hi - lo) / 255;
        seg.forEach((val, i) => expect(Math.abs(got[g * 8 + i]! - val)).toBeLessThanOrEqual(step / 2 + Math.abs(val) * 2 ** -22));
        // the minimum is stored exactly (code 0 → the offset) and the maximum within float32 rounding
        expect(got[g * 8 + seg.indexOf(lo)]).toBe(Math.fround(lo));
        expect(Math.abs(got[g * 8 + seg.indexOf(hi)]! - hi)).toBeLessThanOrEqual(Math.abs(hi) * 2 ** -22 + step * 2 ** -20);
      }
    }
    // 16× finer than 4-bit on the same data
    const c4 = new KvCache({ ...opts, bits: 4 });
    fill(c4, 12);
    const err = (cache: KvCache) => readAll(cache, "K").reduce((m, g, i) => Math.max(m, Math.abs(g - k[i]!)), 0);
    expect(err(c)).toBeLessThan(err(c4) / 8);
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
    // 8-bit: a byte per code + f32 scale and offset per (token, head), for K and V of each layer
    expect(new KvCache({ ...opts, bits: 8 }).bytes()).toBe(2 * 2 * (6 * per + 6 * 2 * 8));
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
  it("4-bit queries: each (token, head) through @onebit/quant's unsigned 4-bit quantizer and back, then attention", () => {
    const r = rng(14);
    const c = new KvCache({ ...opts, bits: 4 });
    fill(c, 15);
    const heads = 4;
    const q = Float32Array.from({ length: 2 * heads * 8 }, r); // positions 4 and 5
    const q4 = new Float32Array(q.length);
    const qq = quantizeUnsigned(q, [2 * heads, 8], { bits: 4, granularity: "row" });
    for (let i = 0; i < q.length; i++) q4[i] = Math.fround(Math.fround(qq.codes[i]! * qq.scales[i >> 3]!) + qq.offsets![i >> 3]!);
    expect([...H(attendCached(c, 1, q, 2, heads, 4, { queryBits: 4 }))]).toEqual([...H(attendCached(c, 1, q4, 2, heads, 4))]);
    expect(() => attendCached(c, 1, q, 2, heads, 4, { queryBits: 3 as 4 })).toThrow("attention queryBits: expected 4 or none, got 3");
  });
  it("8-, 4- and 3-bit caches stay within a stated bound of f32 attention (max abs error ≤ 0.01 / 0.15 / 0.15 here)", () => {
    const r = rng(6);
    const q = Float32Array.from({ length: 4 * 8 }, r);
    const ref = new KvCache({ ...opts, bits: 32 });
    fill(ref, 7);
    const want = H(attendCached(ref, 1, q, 1, 4, 5));
    for (const [bits, bound] of [[8, 0.01], [4, 0.15], [3, 0.15]] as const) {
      const c = new KvCache({ ...opts, bits });
      fill(c, 7);
      const got = H(attendCached(c, 1, q, 1, 4, 5));
      const err = Math.max(...got.map((g, i) => Math.abs(g - want[i]!)));
      expect(err).toBeLessThanOrEqual(bound);
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
      for (const bits of [32, 16, 8, 4, 3] as const) {
        const ref = new KvCache({ ...big, bits });
        const placed = new KvCache({ ...big, bits, storage: wasm });
        for (const c of [ref, placed]) c.write(1, 0, 9, k, v);
        const want = H(attendCached(ref, 1, q, 3, 6, 6));
        const got = H(attendCached(placed, 1, q, 3, 6, 6, { backend: wasm }));
        expect([...got]).toEqual([...want]);
        if (bits === 16) {
          // the f16 store sits in wasm memory and the backend's own decodeHalf (f16_decode) reads it
          const decodes = () => wasm.kernels().find((k) => k.kernel === "decodeHalf")!.calls.native;
          const before = decodes();
          expect([...H(placed.floats("k", 1, 9, wasm))]).toEqual([...H(ref.floats("k", 1, 9))]);
          expect(decodes()).toBe(before + 1);
        }
        const want4 = H(attendCached(ref, 1, q, 3, 6, 6, { queryBits: 4 })); // a4.8's 4-bit queries
        expect([...H(attendCached(placed, 1, q, 3, 6, 6, { backend: wasm, queryBits: 4 }))]).toEqual([...want4]);
        placed.dispose();
        expect(() => placed.readK(1, 0, 0, new Float32Array(40))).toThrow("KvCache: used after dispose()");
      }
    } finally {
      wasm.dispose();
    }
  });
  it("a layer decoded whole equals the per-head reads", () => {
    for (const bits of [16, 8, 4, 3] as const) {
      const c = new KvCache({ ...opts, bits });
      fill(c, 9);
      const whole = H(c.floats("k", 1, 6));
      expect([...whole.subarray(0, 6 * opts.kvHeads * opts.headDim)]).toEqual(readAll(c, "K"));
    }
  });
});

describe("a cache on a device backend (the device test double: stores behind handles, written and decoded by its kernels)", () => {
  it("holds, decodes and attends exactly as the host cache, for every precision, reading nothing back", async () => {
    const { createDeviceDouble } = await import("@onebit/kernels");
    const device = createDeviceDouble();
    const big = { layers: 2, kvHeads: 2, headDim: 20, maxTokens: 12 };
    const r = rng(13);
    const per = big.kvHeads * big.headDim;
    const k = Float32Array.from({ length: 9 * per }, r);
    const v = Float32Array.from({ length: 9 * per }, r);
    const q = Float32Array.from({ length: 6 * big.headDim }, r); // one token at position 8, 6 heads
    for (const bits of [32, 16, 8, 4, 3] as const) {
      const host = new KvCache({ ...big, bits });
      const onDevice = new KvCache({ ...big, bits, storage: device });
      host.write(1, 0, 5, k.subarray(0, 5 * per), v.subarray(0, 5 * per)); // a prefill (a 3-bit BOS row apart) …
      onDevice.write(1, 0, 5, device.upload(k.subarray(0, 5 * per)), device.upload(v.subarray(0, 5 * per)));
      for (let t = 5; t < 9; t++) {
        // … then decode steps, one position each
        host.write(1, t, 1, k.subarray(t * per, (t + 1) * per), v.subarray(t * per, (t + 1) * per));
        onDevice.write(1, t, 1, device.upload(k.subarray(t * per, (t + 1) * per)), device.upload(v.subarray(t * per, (t + 1) * per)));
      }
      const reads = device.transfers.reads;
      const want = H(attendCached(host, 1, q, 1, 6, 8));
      const got = attendCached(onDevice, 1, device.upload(q), 1, 6, 8, { backend: device });
      const want4 = H(attendCached(host, 1, q, 1, 6, 8, { queryBits: 4 }));
      const got4 = attendCached(onDevice, 1, device.upload(q), 1, 6, 8, { backend: device, queryBits: 4 });
      expect(device.transfers.reads).toBe(reads); // write, decode, 4-bit queries and attention stayed on the device
      expect([...(await device.read(got))]).toEqual([...want]);
      expect([...(await device.read(got4))]).toEqual([...want4]);
      for (const which of ["k", "v"] as const)
        expect([...(await device.read(onDevice.floats(which, 1, 9))).subarray(0, 9 * per)]).toEqual([...H(host.floats(which, 1, 9)).subarray(0, 9 * per)]);
      expect(onDevice.bytes()).toBe(host.bytes());
      if (bits !== 32) expect(() => onDevice.readK(1, 0, 0, new Float32Array(20))).toThrow(/keeps this cache on the device; decode a layer with floats\(\)/);
      onDevice.dispose();
    }
  });
});
