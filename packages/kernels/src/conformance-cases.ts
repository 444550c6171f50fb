/**
 * The conformance suite as plain functions, so the same cases run under vitest in Node (conformance.test.ts)
 * and inside a real browser (test/browser/, Playwright driving Chromium). Each case compares a backend with the
 * js reference and throws an Error describing the first mismatch: BitLinear outputs must be identical (integer
 * dot products are exact and the float epilogue is the same expression); f32 matmul must be identical on CPU
 * backends (same float32 summation order) and within float32 rounding on GPU backends (which may fuse
 * multiply-adds).
 */
import { packBinaryB1, packTernaryT2 } from "@onebit/quant";
import type { Backend, PackedLinearWeight, QuantizedActivations } from "./backend";
import { quantizeDenseInt8, quantizeInt16Rows } from "./js/dense";

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export function ternaryWeight(out: number, inF: number, seed: number, scaleAxis: PackedLinearWeight["scaleAxis"] = "tensor", groups = 1): PackedLinearWeight {
  const r = rng(seed);
  const values = Int8Array.from({ length: out * inF }, () => Math.floor(r() * 3) - 1);
  const scales = Float32Array.from({ length: scaleAxis === "tensor" ? 1 : groups }, () => 0.01 + r() * 0.1);
  return { kind: "ternary", outFeatures: out, inFeatures: inF, data: packTernaryT2(values, out, inF), scales, scaleAxis };
}

export function binaryWeight(out: number, inF: number, seed: number): PackedLinearWeight {
  const r = rng(seed);
  const values = Int8Array.from({ length: out * inF }, () => (r() < 0.5 ? -1 : 1));
  return { kind: "binary", outFeatures: out, inFeatures: inF, data: packBinaryB1(values, out, inF), scales: Float32Array.of(0.05), scaleAxis: "tensor" };
}

export function activations(tokens: number, features: number, seed: number, opts: { bits?: 8 | 4; groups?: number; zeroFraction?: number } = {}): QuantizedActivations {
  const r = rng(seed);
  const lo = opts.bits === 4 ? -8 : -128;
  const hi = opts.bits === 4 ? 7 : 127;
  const codes = Int8Array.from({ length: tokens * features }, () => (r() < (opts.zeroFraction ?? 0) ? 0 : lo + Math.floor(r() * (hi - lo + 1))));
  const groups = opts.groups ?? 1;
  const scales = Float32Array.from({ length: tokens * groups }, () => 0.001 + r() * 0.01);
  return { tokens, features, codes, scales, groups, bits: opts.bits ?? 8, sparse: (opts.zeroFraction ?? 0) > 0.5 };
}

export interface ConformanceCase {
  name: string;
  run(backend: Backend, ref: Backend): void;
}

function same(backend: Backend, ref: Backend, w: PackedLinearWeight, x: QuantizedActivations, rowMask?: Uint8Array): void {
  const want = ref.bitLinear(ref.prepareWeight(w), x, { rowMask });
  const got = backend.bitLinear(backend.prepareWeight(w), x, { rowMask });
  const where = `${w.kind} ${w.outFeatures}×${w.inFeatures} (${w.scaleAxis}, ${w.scales.length} scales) × ${x.tokens} tokens of int${x.bits}${x.groups > 1 ? ` in ${x.groups} groups` : ""}${rowMask ? " with a row mask" : ""}`;
  if (got.length !== want.length) throw new Error(`${where}: ${got.length} outputs, expected ${want.length}`);
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) throw new Error(`${where}: output ${i} (token ${Math.floor(i / w.outFeatures)}, row ${i % w.outFeatures}) is ${got[i]}, the js reference gives ${want[i]}`);
}

function throwsWith(fn: () => unknown, pattern: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    const message = (e as Error).message;
    if (typeof pattern === "string" ? message.includes(pattern) : pattern.test(message)) return;
    throw new Error(`expected an error matching ${pattern}, got: ${message}`);
  }
  throw new Error(`expected an error matching ${pattern}, but nothing was thrown`);
}

export const CONFORMANCE_CASES: ConformanceCase[] = [
  {
    name: "ternary × int8, odd sizes, 1..9 tokens",
    run(b, ref) {
      for (const [out, inF, tokens] of [
        [1, 1, 1], [3, 63, 1], [7, 65, 2], [13, 200, 5], [33, 130, 9], [64, 256, 4], [17, 1000, 3],
      ] as const)
        same(b, ref, ternaryWeight(out, inF, out * 31 + inF), activations(tokens, inF, tokens * 7 + inF));
    },
  },
  {
    name: "binary × int8",
    run(b, ref) {
      for (const [out, inF, tokens] of [[5, 100, 1], [9, 300, 6]] as const) same(b, ref, binaryWeight(out, inF, inF), activations(tokens, inF, out));
    },
  },
  { name: "ternary × int4", run: (b, ref) => same(b, ref, ternaryWeight(11, 150, 5), activations(5, 150, 6, { bits: 4 })) },
  {
    name: "ternary × sparse int8 (85 % zeros, the sparse kernel) and 30 % zeros (dense)",
    run(b, ref) {
      same(b, ref, ternaryWeight(21, 300, 7), activations(1, 300, 8, { zeroFraction: 0.85 }));
      same(b, ref, ternaryWeight(21, 300, 9), activations(1, 300, 10, { zeroFraction: 0.3 }));
    },
  },
  {
    name: "gated rows: only rows the mask selects are computed, the rest are 0",
    run(b, ref) {
      const mask = Uint8Array.from({ length: 19 }, (_, i) => (i % 3 === 0 ? 1 : 0));
      same(b, ref, ternaryWeight(19, 77, 11), activations(3, 77, 12), mask);
      same(b, ref, ternaryWeight(19, 77, 13), activations(1, 77, 14, { zeroFraction: 0.9 }), mask);
      // one dense token over many blocks (i16 sums flushed every 8 blocks) with a random mask: pairs with both,
      // one or neither row selected, and an odd last row
      const r = rng(15);
      const randomMask = Uint8Array.from({ length: 33 }, () => (r() < 0.5 ? 1 : 0));
      same(b, ref, ternaryWeight(33, 1100, 16), activations(1, 1100, 17), randomMask);
    },
  },
  {
    name: "group-quantized weights: per-row-group and per-column-group scales",
    run(b, ref) {
      same(b, ref, ternaryWeight(12, 96, 15, "out", 3), activations(2, 96, 16));
      same(b, ref, ternaryWeight(6, 100, 17, "in", 2), activations(3, 100, 18, { groups: 2 }));
      same(b, ref, ternaryWeight(6, 100, 19, "in", 4), activations(2, 100, 20));
    },
  },
  {
    name: "a decode-sized GEMV and a prefill-sized GEMM (640×256, 1 and 16 tokens)",
    run(b, ref) {
      same(b, ref, ternaryWeight(640, 256, 23), activations(1, 256, 24));
      same(b, ref, ternaryWeight(256, 640, 25), activations(16, 640, 26));
    },
  },
  {
    name: "f32 matmul: identical to the reference on CPU backends, within float32 rounding on GPU backends",
    run(b, ref) {
      const r = rng(21);
      for (const [tokens, out, inF] of [[3, 11, 37], [1, 5, 4], [2, 9, 130]] as const) {
        const x = Float32Array.from({ length: tokens * inF }, () => r() - 0.5);
        const w = Float32Array.from({ length: out * inF }, () => r() - 0.5);
        const want = ref.matmulF32(x, tokens, w, out, inF);
        const got = b.matmulF32(x, tokens, w, out, inF);
        for (let t = 0; t < tokens; t++)
          for (let o = 0; o < out; o++) {
            const i = t * out + o;
            // the reference itself is a correct matmul: within float32 rounding of a float64 computation
            let exact = 0;
            let magnitude = 0;
            for (let j = 0; j < inF; j++) {
              exact += x[t * inF + j]! * w[o * inF + j]!;
              magnitude += Math.abs(x[t * inF + j]! * w[o * inF + j]!);
            }
            const bound = inF * 2 ** -23 * magnitude;
            if (Math.abs(want[i]! - exact) > bound) throw new Error(`js reference matmul ${tokens}×${out}×${inF}: output ${i} is ${want[i]}, float64 gives ${exact}`);
            if (b.name === "webgl" ? Math.abs(got[i]! - want[i]!) > bound : !Object.is(got[i], want[i]))
              throw new Error(`matmulF32 ${tokens}×${out}×${inF}: output ${i} is ${got[i]}, the js reference gives ${want[i]}${b.name === "webgl" ? ` (tolerance ${bound.toExponential(2)})` : ""}`);
          }
      }
    },
  },
  {
    name: "attention scores and values over an f32 KV store: identical to the reference on CPU backends",
    run(b, ref) {
      const r = rng(31);
      // [heads, kvHeads, headDim, positions]: GQA groups of 1, 2 and 4; head dims with and without a tail past 16
      for (const [heads, kvHeads, headDim, positions] of [[4, 1, 16, 5], [6, 3, 20, 9], [8, 2, 37, 1], [20, 5, 128, 40]] as const) {
        const where = `attention ${heads}/${kvHeads} heads × ${headDim} over ${positions} positions`;
        const capacity = (positions + 3) * kvHeads * headDim; // a cache with room to spare
        for (const inPlace of [false, true]) {
          const keys = inPlace ? b.allocF32(capacity) : new Float32Array(capacity);
          const values = inPlace ? b.allocF32(capacity) : new Float32Array(capacity);
          for (let i = 0; i < capacity; i++) {
            keys[i] = r() - 0.5;
            values[i] = r() - 0.5;
          }
          const q = Float32Array.from({ length: heads * headDim }, () => r() - 0.5);
          const scale = 1 / Math.sqrt(headDim);
          const want = ref.attentionScores(q, heads, keys, kvHeads, headDim, positions, scale);
          const got = b.attentionScores(q, heads, keys, kvHeads, headDim, positions, scale);
          // the reference is a correct dot product: within float32 rounding of float64
          for (let h = 0; h < heads; h++)
            for (let j = 0; j < positions; j++) {
              let exact = 0;
              let mag = 0;
              const kb = (j * kvHeads + Math.floor(h / (heads / kvHeads))) * headDim;
              for (let i = 0; i < headDim; i++) {
                exact += q[h * headDim + i]! * keys[kb + i]!;
                mag += Math.abs(q[h * headDim + i]! * keys[kb + i]!);
              }
              const i = h * positions + j;
              if (Math.abs(want[i]! - exact * scale) > (headDim + 2) * 2 ** -23 * mag * scale)
                throw new Error(`${where}: reference score [${h}, ${j}] is ${want[i]}, float64 gives ${exact * scale}`);
              if (!Object.is(got[i], want[i])) throw new Error(`${where}${inPlace ? " (store in place)" : ""}: score [${h}, ${j}] is ${got[i]}, the js reference gives ${want[i]}`);
            }
          ref.softmax(want, heads, positions);
          const outWant = ref.attentionValues(want, heads, values, kvHeads, headDim, positions);
          const outGot = b.attentionValues(want, heads, values, kvHeads, headDim, positions);
          for (let i = 0; i < outWant.length; i++)
            if (!Object.is(outGot[i], outWant[i])) throw new Error(`${where}${inPlace ? " (store in place)" : ""}: value output ${i} is ${outGot[i]}, the js reference gives ${outWant[i]}`);
          if (inPlace) {
            b.freeF32(keys);
            b.freeF32(values);
          }
        }
      }
    },
  },
  {
    name: "allocF32 gives zeroed storage; freed storage is reused and cannot be freed twice",
    run(b) {
      const a = b.allocF32(1000);
      if (a.length !== 1000 || a.some((v) => v !== 0)) throw new Error("allocF32(1000): expected 1000 zeros");
      a.fill(7);
      b.freeF32(a);
      const again = b.allocF32(1000);
      if (again.some((v) => v !== 0)) throw new Error("allocF32 after freeF32: storage was not zeroed");
      if (b.name === "wasm") throwsWith(() => b.freeF32(a), "was not allocated by this wasm backend");
      b.freeF32(again);
    },
  },
  {
    name: "dense int8 (W8A16): identical to the reference on CPU backends, within its quantization bound of f32",
    run(b, ref) {
      const r = rng(41);
      // in = 40: one short block with a scalar tail; 48: a 16-wide step; 100: 96 + tail; 2560: ten 256-blocks
      for (const [tokens, out, inF] of [[1, 7, 40], [3, 5, 48], [2, 9, 100], [1, 33, 2560]] as const) {
        const w = Float32Array.from({ length: out * inF }, () => (r() - 0.5) * (r() < 0.02 ? 20 : 1)); // a few outliers
        const x = Float32Array.from({ length: tokens * inF }, () => (r() - 0.5) * 3);
        const wantF32 = ref.matmulF32(x, tokens, w, out, inF);
        const gotF32 = b.dense(b.prepareDense(w, out, inF, "f32"), x, tokens);
        const want = ref.dense(ref.prepareDense(w, out, inF, "int8"), x, tokens);
        const got = b.dense(b.prepareDense(w, out, inF, "int8"), x, tokens);
        const q = quantizeDenseInt8(w, out, inF);
        const xq = quantizeInt16Rows(x, tokens, inF);
        for (let t = 0; t < tokens; t++)
          for (let o = 0; o < out; o++) {
            const i = t * out + o;
            const where = `dense int8 ${tokens}×${out}×${inF}: output ${i}`;
            if (b.name !== "webgl" && !Object.is(gotF32[i], wantF32[i])) throw new Error(`dense f32 ${tokens}×${out}×${inF}: output ${i} is ${gotF32[i]}, matmulF32 gives ${wantF32[i]}`);
            if (!Object.is(got[i], want[i])) throw new Error(`${where} is ${got[i]}, the js reference gives ${want[i]}`);
            // independent truth: each weight is within half its block scale, each activation within half its scale
            let exact = 0;
            let bound = 0;
            for (let j = 0; j < inF; j++) {
              const xv = x[t * inF + j]!;
              const wv = w[o * inF + j]!;
              const ws = q.scales[o * q.blocks + Math.floor(j / q.blockLen)]!;
              exact += xv * wv;
              bound += (Math.abs(xv) * ws) / 2 + (Math.abs(wv) * xq.scales[t]!) / 2 + (ws * xq.scales[t]!) / 4 + Math.abs(xv * wv) * 2 ** -20;
            }
            if (Math.abs(want[i]! - exact) > bound) throw new Error(`${where}: the reference gives ${want[i]}, float64 on the float weights ${exact} (bound ${bound})`);
          }
      }
    },
  },
  {
    name: "per-token INT8 / INT4 quantization: codes, scales and zero counts identical to @onebit/quant's",
    run(b, ref) {
      const r = rng(51);
      // features with and without a 16-wide tail; ties (halves once scaled), all-zero and tiny rows, both ε modes
      for (const [tokens, features] of [[1, 2560], [3, 37], [2, 6912], [4, 16], [1, 5]] as const)
        for (const kind of ["int8", "int4"] as const)
          for (const epsMode of ["clamp", "add"] as const) {
            const x = Float32Array.from({ length: tokens * features }, () => (r() < 0.2 ? Math.round((r() - 0.5) * 254) / 2 : (r() - 0.5) * 6));
            if (tokens > 1) x.fill(0, 0, features); // an all-zero token
            if (tokens > 2) for (let i = 2 * features; i < 3 * features; i++) x[i] = (r() - 0.5) * 1e-7; // below the ε floor
            const want = ref.quantizeRows(x, tokens, features, kind, epsMode);
            const got = b.quantizeRows(x, tokens, features, kind, epsMode);
            const where = `quantizeRows ${kind} ${tokens}×${features} (ε ${epsMode})`;
            for (let i = 0; i < want.codes.length; i++)
              if (got.codes[i] !== want.codes[i]) throw new Error(`${where}: code ${i} is ${got.codes[i]}, @onebit/quant gives ${want.codes[i]}`);
            for (let t = 0; t < tokens; t++)
              if (!Object.is(got.scales[t], want.scales[t])) throw new Error(`${where}: scale ${t} is ${got.scales[t]}, @onebit/quant gives ${want.scales[t]}`);
            let zeros = 0;
            for (const c of want.codes) if (c === 0) zeros++;
            if (got.zeros !== zeros || want.zeros !== zeros) throw new Error(`${where}: zeros counted ${got.zeros} (reference ${want.zeros}), the codes have ${zeros}`);
          }
      throwsWith(() => b.quantizeRows(Float32Array.of(1, 2, Number.NaN, 4), 2, 2, "int8"), /element 2 is NaN; expected a finite number/);
    },
  },
  {
    name: "unsigned 3/4-bit KV codes to f32: identical to the reference, in place or copied",
    run(b, ref) {
      const r = rng(61);
      // [bits, bitOffset, groups, groupSize]: byte-aligned 4-bit (SIMD path), odd group sizes, 3-bit streams at odd offsets
      for (const [bits, bitOffset, groups, groupSize] of [[4, 0, 10, 128], [4, 0, 3, 20], [4, 4, 2, 16], [3, 0, 5, 128], [3, 5, 3, 37]] as const) {
        const n = groups * groupSize;
        const codes = Uint8Array.from({ length: Math.ceil((bitOffset + n * bits) / 8) }, () => Math.floor(r() * 256));
        const scales = Float32Array.from({ length: groups }, () => r() * 0.1);
        const offsets = Float32Array.from({ length: groups }, () => r() - 0.5);
        const want = new Float32Array(n);
        ref.dequantizeUnsigned(codes, bitOffset, bits, groups, groupSize, scales, offsets, want);
        // truth: decode the stream bit by bit, independently of both
        for (let k = 0; k < n; k++) {
          let code = 0;
          for (let j = 0; j < bits; j++) {
            const at = bitOffset + k * bits + j;
            code |= ((codes[at >> 3]! >> (at & 7)) & 1) << j;
          }
          const g = Math.floor(k / groupSize);
          const v = Math.fround(Math.fround(code * scales[g]!) + offsets[g]!);
          if (!Object.is(want[k], v)) throw new Error(`dequantizeUnsigned reference ${bits}-bit: value ${k} is ${want[k]}, the bit stream gives ${v}`);
        }
        for (const inPlace of [false, true]) {
          const got = inPlace ? b.allocF32(n) : new Float32Array(n);
          b.dequantizeUnsigned(codes, bitOffset, bits, groups, groupSize, scales, offsets, got);
          for (let k = 0; k < n; k++)
            if (!Object.is(got[k], want[k])) throw new Error(`dequantizeUnsigned ${bits}-bit from bit ${bitOffset}, ${groups}×${groupSize}${inPlace ? " (in place)" : ""}: value ${k} is ${got[k]}, the js reference gives ${want[k]}`);
          if (inPlace) b.freeF32(got);
        }
      }
    },
  },
  {
    name: "refuses bad shapes, naming the argument",
    run(b, ref) {
      const w = b.prepareWeight(ternaryWeight(4, 10, 1));
      throwsWith(() => b.bitLinear(w, activations(1, 11, 1)), "activations.features: 11 does not match the weight's inFeatures 10");
      throwsWith(() => b.bitLinear(w, activations(1, 10, 1), { rowMask: new Uint8Array(3) }), "rowMask: has 3 entries, expected outFeatures 4");
      throwsWith(() => b.prepareWeight({ ...ternaryWeight(4, 10, 1), data: new Uint8Array(5) }), /weight.data: has 5 bytes, expected 64/);
      throwsWith(() => b.bitLinear(ref.prepareWeight(ternaryWeight(4, 10, 1)), activations(1, 10, 1)), /prepared by the js backend/);
      throwsWith(() => b.matmulF32(new Float32Array(5), 1, new Float32Array(12), 3, 4), "matmulF32 x: has 5 elements, expected tokens·in = 4");
      throwsWith(() => b.prepareDense(new Float32Array(6), 2, 3, "int4" as "int8"), 'dense format: expected one of f32, int8, got "int4"');
      throwsWith(() => b.dense(b.prepareDense(new Float32Array(6), 2, 3, "int8"), new Float32Array(4), 1), "dense x: has 4 elements, expected tokens·in = 3");
      throwsWith(() => b.attentionScores(new Float32Array(8), 2, new Float32Array(40), 1, 4, 11, 1), "attentionScores cache: has 40 values, fewer than positions·kvHeads·headDim = 44");
      throwsWith(() => b.attentionScores(new Float32Array(8), 3, new Float32Array(40), 2, 4, 2, 1), "attentionScores: heads 3 is not a multiple of kvHeads 2");
      throwsWith(() => b.attentionValues(new Float32Array(5), 2, new Float32Array(40), 1, 4, 3), "attentionValues p: has 5 values, expected heads·positions = 6");
    },
  },
];
