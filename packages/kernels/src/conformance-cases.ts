/**
 * The conformance suite as plain functions, so the same cases run under vitest in Node (conformance.test.ts)
 * and inside a real browser (test/browser/, Playwright driving Chromium). Each case compares a backend with the
 * js reference and throws an Error describing the first mismatch: BitLinear outputs must be identical (integer
 * dot products are exact and the float epilogue is the same expression); f32 matmul must be identical on CPU
 * backends (same float32 summation order) and within float32 rounding on GPU backends (which may fuse
 * multiply-adds).
 */
import { packBinaryB1, packTernaryT2, quantizeInt8 } from "@onebit/quant";
import { type Backend, KernelInputError, type PackedLinearWeight, type QuantizedActivations } from "./backend";
import { DENSE_CASES } from "./conformance-dense-cases";
import { ENCODED_CASES } from "./conformance-encoded-cases";
import { identical, rng } from "./conformance-helpers";
import { KV_CODE_CASES } from "./conformance-kv-cases";
import type { Activations } from "./contract/tensors";
import { quantizeDenseInt8, quantizeInt16Rows } from "./js/dense";
import { quantizeActivationsImpl } from "./js/quantize-activations";
import { normImpl } from "./js/norm";

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

/**
 * A case runs on any backend, host or device: inputs go in through `upload` (device backends) or as they are,
 * results come back through one awaited `read`.
 */
export interface ConformanceCase {
  name: string;
  run(backend: Backend, ref: Backend): Promise<void>;
}

async function same(backend: Backend, ref: Backend, w: PackedLinearWeight, x: QuantizedActivations, rowMask?: Uint8Array, sparseInputs = false): Promise<void> {
  const want = await ref.read(ref.bitLinear({ weight: ref.prepareWeight({ weight: w, sparseInputs }), input: x, rowMask }));
  const got = await backend.read(backend.bitLinear({ weight: backend.prepareWeight({ weight: w, sparseInputs }), input: x, rowMask }));
  const zeros = x.codes.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
  const where = `${w.kind} ${w.outFeatures}×${w.inFeatures} (${w.scaleAxis}, ${w.scales.length} scales)${sparseInputs ? " placed for sparse inputs" : ""} × ${x.tokens} tokens of int${x.bits}${x.groups > 1 ? ` in ${x.groups} groups` : ""}${sparseInputs ? ` (${zeros} of ${x.codes.length} codes 0)` : ""}${rowMask ? " with a row mask" : ""}`;
  if (got.length !== want.length) throw new Error(`${where}: ${got.length} outputs, expected ${want.length}`);
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) throw new Error(`${where}: output ${i} (token ${Math.floor(i / w.outFeatures)}, row ${i % w.outFeatures}) is ${got[i]}, the js reference gives ${want[i]}`);
}

/** `same` with both weights placed for sparse inputs (prepareWeight sparseInputs: wasm relaxed stores column panels). */
const sameSparseInputs = (backend: Backend, ref: Backend, w: PackedLinearWeight, x: QuantizedActivations, rowMask?: Uint8Array) => same(backend, ref, w, x, rowMask, true);

async function throwsWith(fn: () => unknown, pattern: string | RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const message = (e as Error).message;
    if (typeof pattern === "string" ? message.includes(pattern) : pattern.test(message)) return;
    throw new Error(`expected an error matching ${pattern}, got: ${message}`);
  }
  throw new Error(`expected an error matching ${pattern}, but nothing was thrown`);
}

/**
 * A KV store for the attention cases: uploaded, or (inPlace) in the backend's own storage from allocF32, written with
 * copyInto as a KV cache is.
 */
function kvStore(b: Backend, keysHost: Float32Array, valuesHost: Float32Array, capacity: number, inPlace: boolean): { keys: Activations; values: Activations } {
  if (!inPlace) return { keys: b.upload(keysHost), values: b.upload(valuesHost) };
  const keys = b.allocF32(capacity);
  const values = b.allocF32(capacity);
  b.copyInto({ src: b.upload(keysHost), dst: keys, dstOffset: 0 });
  b.copyInto({ src: b.upload(valuesHost), dst: values, dstOffset: 0 });
  return { keys, values };
}

/** Host values of an activation result. */
const read = (b: Backend, x: Activations) => b.read(x);


/** A device backend may fuse multiply-adds: within float32 rounding of the reference there, identical on CPUs. */
const gpu = (b: Backend) => b.name === "webgl" || b.residency === "device";

export const CONFORMANCE_CASES: ConformanceCase[] = [
  {
    name: "ternary × int8, odd sizes, 1..9 tokens",
    async run(b, ref) {
      for (const [out, inF, tokens] of [
        [1, 1, 1], [3, 63, 1], [7, 65, 2], [13, 200, 5], [33, 130, 9], [64, 256, 4], [17, 1000, 3],
      ] as const)
        await same(b, ref, ternaryWeight(out, inF, out * 31 + inF), activations(tokens, inF, tokens * 7 + inF));
    },
  },
  {
    name: "binary × int8",
    async run(b, ref) {
      for (const [out, inF, tokens] of [[5, 100, 1], [9, 300, 6]] as const) await same(b, ref, binaryWeight(out, inF, inF), activations(tokens, inF, out));
    },
  },
  { name: "ternary × int4", run: (b, ref) => same(b, ref, ternaryWeight(11, 150, 5), activations(5, 150, 6, { bits: 4 })) },
  {
    name: "ternary × sparse int8 (85 % zeros, the sparse kernel) and 30 % zeros (dense)",
    async run(b, ref) {
      await same(b, ref, ternaryWeight(21, 300, 7), activations(1, 300, 8, { zeroFraction: 0.85 }));
      await same(b, ref, ternaryWeight(21, 300, 9), activations(1, 300, 10, { zeroFraction: 0.3 }));
    },
  },
  {
    name: "gated rows: only rows the mask selects are computed, the rest are 0",
    async run(b, ref) {
      const mask = Uint8Array.from({ length: 19 }, (_, i) => (i % 3 === 0 ? 1 : 0));
      await same(b, ref, ternaryWeight(19, 77, 11), activations(3, 77, 12), mask);
      await same(b, ref, ternaryWeight(19, 77, 13), activations(1, 77, 14, { zeroFraction: 0.9 }), mask);
      // one dense token over many blocks (i16 sums flushed every 8 blocks) with a random mask: pairs with both,
      // one or neither row selected, and an odd last row
      const r = rng(15);
      const randomMask = Uint8Array.from({ length: 33 }, () => (r() < 0.5 ? 1 : 0));
      await same(b, ref, ternaryWeight(33, 1100, 16), activations(1, 1100, 17), randomMask);
    },
  },
  {
    name: "group-quantized weights: per-row-group and per-column-group scales",
    async run(b, ref) {
      await same(b, ref, ternaryWeight(12, 96, 15, "out", 3), activations(2, 96, 16));
      await same(b, ref, ternaryWeight(6, 100, 17, "in", 2), activations(3, 100, 18, { groups: 2 }));
      await same(b, ref, ternaryWeight(6, 100, 19, "in", 4), activations(2, 100, 20));
    },
  },
  {
    name: "a decode-sized GEMV and a prefill-sized GEMM (640×256, 1 and 16 tokens)",
    async run(b, ref) {
      await same(b, ref, ternaryWeight(640, 256, 23), activations(1, 256, 24));
      await same(b, ref, ternaryWeight(256, 640, 25), activations(16, 640, 26));
    },
  },
  {
    // wasm relaxed SIMD takes ≥ 12 tokens on ≥ 128 rows a thread through its table-lookup GEMM (t2-gemm-lut.wat.ts)
    name: "prefill GEMMs of the table-lookup kernel: token tiles of 64, 32 and 16 with a remainder, odd rows, masks, K chunk remainders, i16 bounds",
    async run(b, ref) {
      // 51 tokens: one tile of 64 lanes (13 past the tokens), or on 2 threads 25 and 26 (tiles of 32); 83 = 64 + 16 + 3;
      // 1000 columns = 16 blocks (chunks of 3 and a last of 1, zero-padded); split by rows, [0, 152) and [152, 301):
      // an odd end
      const w = ternaryWeight(301, 1000, 27);
      await same(b, ref, w, activations(51, 1000, 28));
      await same(b, ref, w, activations(83, 1000, 36));
      const r = rng(29);
      await same(b, ref, w, activations(13, 1000, 30), Uint8Array.from({ length: 301 }, () => (r() < 0.6 ? 1 : 0)));
      // 70 tokens: on 2 threads split by tokens (35 each: a tile of 32 and 3 single tokens, every row), masked too
      await same(b, ref, w, activations(70, 1000, 34));
      await same(b, ref, w, activations(70, 1000, 35), Uint8Array.from({ length: 301 }, () => (r() < 0.5 ? 1 : 0)));
      // per-column-group scales: two sub-weights of 4 blocks each
      await same(b, ref, ternaryWeight(300, 512, 31, "in", 2), activations(20, 512, 32, { groups: 2 }));
      // every weight −1 against −128 and +1 against −128 (|Σ| per i16 chunk = 48·512 = 24576), 20 tokens
      for (const [wv, xv] of [[-1, -128], [1, -128], [-1, 127]] as const) {
        const inF = 640;
        const weight: PackedLinearWeight = { kind: "ternary", outFeatures: 260, inFeatures: inF, data: packTernaryT2(new Int8Array(260 * inF).fill(wv), 260, inF), scales: Float32Array.of(0.5), scaleAxis: "tensor" };
        const x = activations(20, inF, 33);
        x.codes.fill(xv);
        await same(b, ref, weight, x);
      }
    },
  },
  {
    // wasm relaxed stores these as column panels (64 rows each; column-panels.wat.ts): one token through col_gemv over
    // its non-zero inputs, more tokens through the t2 rows transposed back (t2_dot_4r, the table-lookup GEMM, tri5)
    name: "weights placed for sparse inputs (a ReLU²GLU down projection): densities, i16 bounds, masks, prompts",
    async run(b, ref) {
      const w = ternaryWeight(128, 192, 41);
      for (const [zeros, seed] of [[0.5, 42], [0.9, 43], [0, 44], [1, 45], [0.99, 46]] as const) await sameSparseInputs(b, ref, w, activations(1, 192, seed, { zeroFraction: zeros }));
      // the sparse flag set with 85 % zeros (elsewhere the scalar sparse kernel), and a row mask
      await sameSparseInputs(b, ref, w, activations(1, 192, 47, { zeroFraction: 0.85 }));
      const r = rng(48);
      await sameSparseInputs(b, ref, w, activations(1, 192, 49, { zeroFraction: 0.5 }), Uint8Array.from({ length: 128 }, () => (r() < 0.5 ? 1 : 0)));
      // 200 inputs (a padded last block), 320 rows (5 panels: an odd count for 2 threads), an odd number of non-zeros
      const x = activations(1, 200, 50, { zeroFraction: 0.4 });
      x.codes[x.codes.findIndex((v) => v !== 0)] = 0;
      await sameSparseInputs(b, ref, ternaryWeight(320, 200, 51), x);
      // rows not a multiple of 64 stay rows; binary weights; per-row-group scales
      await sameSparseInputs(b, ref, ternaryWeight(100, 192, 52), activations(1, 192, 53, { zeroFraction: 0.5 }));
      await sameSparseInputs(b, ref, binaryWeight(64, 300, 54), activations(1, 300, 55, { zeroFraction: 0.5 }));
      await sameSparseInputs(b, ref, ternaryWeight(128, 256, 56, "out", 4), activations(1, 256, 57, { zeroFraction: 0.6 }));
      // the i16 sums at their bound: 640 inputs all non-zero (5 chunks of 64 pairs), every code 2 against −128 (a lane
      // reaches −32768) and every code 0 against 127
      for (const [wv, xv] of [[1, -128], [-1, 127], [1, 127]] as const) {
        const weight: PackedLinearWeight = { kind: "ternary", outFeatures: 64, inFeatures: 640, data: packTernaryT2(new Int8Array(64 * 640).fill(wv), 64, 640), scales: Float32Array.of(0.5), scaleAxis: "tensor" };
        const big = activations(1, 640, 58);
        big.codes.fill(xv);
        await sameSparseInputs(b, ref, weight, big);
      }
      // prompts: 3 tokens (t2_dot_4r), 20, 70 and 128 tokens over 256 rows (the table-lookup GEMM over the t2 rows
      // transposed back; at 70 on one thread tri5 tiles from those rows and 6 tokens left for t2_dot_4r; at 128 on one
      // or two threads every token in tri5 tiles, made from the panels directly), masked too
      // (1000 inputs: 16 blocks, panels_to_tri5's chunk of 15 and a last of 1)
      const wide = ternaryWeight(256, 640, 59);
      await sameSparseInputs(b, ref, w, activations(3, 192, 60, { zeroFraction: 0.5 }));
      await sameSparseInputs(b, ref, wide, activations(20, 640, 61, { zeroFraction: 0.5 }));
      await sameSparseInputs(b, ref, wide, activations(70, 640, 62, { zeroFraction: 0.5 }), Uint8Array.from({ length: 256 }, () => (r() < 0.7 ? 1 : 0)));
      await sameSparseInputs(b, ref, ternaryWeight(256, 1000, 67), activations(128, 1000, 66, { zeroFraction: 0.5 }));
      // the same prepared weight for a token, a prompt, then a token again (the prompt's t2 rows live in scratch only)
      const pw = b.prepareWeight({ weight: wide, sparseInputs: true });
      const pr = ref.prepareWeight({ weight: wide, sparseInputs: true });
      for (const [tokens, seed] of [[1, 63], [16, 64], [1, 65]] as const) {
        const xs = activations(tokens, 640, seed, { zeroFraction: 0.5 });
        identical(`a weight placed for sparse inputs, reused (${tokens} tokens)`, await b.read(b.bitLinear({ weight: pw, input: xs })), await ref.read(ref.bitLinear({ weight: pr, input: xs })));
      }
    },
  },
  {
    // wasm joins t2 weights of one input into one weight (q, k, v: one GEMM); other backends place them apart
    name: "prepareWeights: each part as prepareWeight places it, and a joined weight gives the parts' outputs side by side",
    async run(b, ref) {
      const groups: Array<[string, PackedLinearWeight[]]> = [
        ["q, k, v", [ternaryWeight(256, 320, 41), ternaryWeight(64, 320, 42, "out", 2), ternaryWeight(64, 320, 43)]],
        ["an odd last part", [ternaryWeight(130, 256, 44), ternaryWeight(7, 256, 45)]],
        ["an odd first part (apart on wasm)", [ternaryWeight(9, 128, 46), ternaryWeight(8, 128, 47)]],
        ["column groups (apart on wasm)", [ternaryWeight(64, 256, 48, "in", 2), ternaryWeight(64, 256, 49, "in", 2)]],
        ["binary", [binaryWeight(64, 128, 50), binaryWeight(66, 128, 51)]],
        ["one weight", [ternaryWeight(200, 192, 52)]],
      ];
      for (const [what, weights] of groups) {
        const { parts, joined } = b.prepareWeights({ weights });
        if (parts.length !== weights.length) throw new Error(`prepareWeights (${what}): ${parts.length} parts for ${weights.length} weights`);
        const inF = weights[0]!.inFeatures;
        const rows = weights.reduce((n, w) => n + w.outFeatures, 0);
        // 1 token (a decode GEMV), 20 and 70 (a prompt: the table-lookup GEMM on wasm, by rows and by tokens)
        for (const tokens of what === "q, k, v" ? [1, 20, 70] : [1, 20]) {
          const x = activations(tokens, inF, 53 + tokens, weights[0]!.scaleAxis === "in" ? { groups: 2 } : {});
          const wants = await Promise.all(weights.map((w) => ref.read(ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: x }))));
          for (let i = 0; i < parts.length; i++)
            identical(`prepareWeights (${what}) part ${i}, ${tokens} tokens`, await b.read(b.bitLinear({ weight: parts[i]!, input: x })), wants[i]!);
          if (!joined) continue;
          if (joined.outFeatures !== rows || joined.inFeatures !== inF) throw new Error(`prepareWeights (${what}): joined weight ${joined.outFeatures}×${joined.inFeatures}, expected ${rows}×${inF}`);
          const y = await b.read(b.bitLinear({ weight: joined, input: x }));
          let col = 0;
          weights.forEach((w, i) => {
            const part = new Float32Array(tokens * w.outFeatures);
            for (let t = 0; t < tokens; t++) part.set(y.subarray(t * rows + col, t * rows + col + w.outFeatures), t * w.outFeatures);
            identical(`prepareWeights (${what}) joined, part ${i}'s columns, ${tokens} tokens`, part, wants[i]!);
            col += w.outFeatures;
          });
        }
      }
      await throwsWith(() => b.prepareWeights({ weights: [] }), "expected at least one weight");
      await throwsWith(() => b.prepareWeights({ weights: [ternaryWeight(8, 128, 54), ternaryWeight(8, 256, 55)] }), "weights[1]: a ternary weight of 256 inputs");
    },
  },
  {
    name: "80-column block edges (onebit-t1 pads rows to 80) and extreme codes over many blocks (i16 sums at their bound)",
    async run(b, ref) {
      for (const [out, inF, tokens] of [[3, 79, 1], [5, 80, 4], [6, 81, 6], [9, 159, 1], [4, 161, 5], [7, 961, 1], [5, 961, 4]] as const)
        await same(b, ref, ternaryWeight(out, inF, out * 17 + inF), activations(tokens, inF, tokens * 3 + inF));
      // every weight +1 against −128 (and −1 against +127): the largest |partial sum| any kernel keeps in i16
      for (const [w, xv] of [[1, -128], [-1, 127], [1, 127]] as const) {
        const inF = 2000;
        const weight: PackedLinearWeight = { kind: "ternary", outFeatures: 6, inFeatures: inF, data: packTernaryT2(new Int8Array(6 * inF).fill(w), 6, inF), scales: Float32Array.of(0.5), scaleAxis: "tensor" };
        for (const tokens of [1, 5]) {
          const x = activations(tokens, inF, 1);
          x.codes.fill(xv);
          await same(b, ref, weight, x);
        }
      }
    },
  },
  {
    name: "f32 matmul: identical to the reference on CPU backends, within float32 rounding on GPU backends",
    async run(b, ref) {
      const r = rng(21);
      for (const [tokens, out, inF] of [[3, 11, 37], [1, 5, 4], [2, 9, 130]] as const) {
        const x = Float32Array.from({ length: tokens * inF }, () => r() - 0.5);
        const w = Float32Array.from({ length: out * inF }, () => r() - 0.5);
        const want = await read(ref, ref.matmulF32({ x, tokens, weight: w, outFeatures: out, inFeatures: inF }));
        const got = await read(b, b.matmulF32({ x: b.upload(x), tokens, weight: w, outFeatures: out, inFeatures: inF }));
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
            if (gpu(b) ? Math.abs(got[i]! - want[i]!) > bound : !Object.is(got[i], want[i]))
              throw new Error(`matmulF32 ${tokens}×${out}×${inF}: output ${i} is ${got[i]}, the js reference gives ${want[i]}${gpu(b) ? ` (tolerance ${bound.toExponential(2)})` : ""}`);
          }
      }
    },
  },
  {
    name: "attention scores and values over an f32 KV store: identical to the reference on CPU backends",
    async run(b, ref) {
      const r = rng(31);
      // [heads, kvHeads, headDim, positions]: GQA groups of 1, 2 and 4; head dims with and without a tail past 16
      for (const [heads, kvHeads, headDim, positions] of [[4, 1, 16, 5], [6, 3, 20, 9], [8, 2, 37, 1], [20, 5, 128, 40], [2, 1, 48, 6]] as const) {
        const where = `attention ${heads}/${kvHeads} heads × ${headDim} over ${positions} positions`;
        const capacity = (positions + 3) * kvHeads * headDim; // a cache with room to spare
        const keysHost = Float32Array.from({ length: capacity }, () => r() - 0.5);
        const valuesHost = Float32Array.from({ length: capacity }, () => r() - 0.5);
        const q = Float32Array.from({ length: heads * headDim }, () => r() - 0.5);
        const scale = 1 / Math.sqrt(headDim);
        const want = await read(ref, ref.attentionScores({ q, heads, keys: keysHost, kvHeads, headDim, positions, scale }));
        // the reference is a correct dot product: within float32 rounding of float64
        for (let h = 0; h < heads; h++)
          for (let j = 0; j < positions; j++) {
            let exact = 0;
            let mag = 0;
            const kb = (j * kvHeads + Math.floor(h / (heads / kvHeads))) * headDim;
            for (let i = 0; i < headDim; i++) {
              exact += q[h * headDim + i]! * keysHost[kb + i]!;
              mag += Math.abs(q[h * headDim + i]! * keysHost[kb + i]!);
            }
            const i = h * positions + j;
            if (Math.abs(want[i]! - exact * scale) > (headDim + 2) * 2 ** -23 * mag * scale)
              throw new Error(`${where}: reference score [${h}, ${j}] is ${want[i]}, float64 gives ${exact * scale}`);
          }
        const p = want.slice();
        ref.softmax({ x: p, rows: heads, cols: positions });
        const outWant = await read(ref, ref.attentionValues({ p, heads, values: valuesHost, kvHeads, headDim, positions }));
        for (const inPlace of [false, true]) {
          const { keys, values } = kvStore(b, keysHost, valuesHost, capacity, inPlace);
          const tag = `${where}${inPlace ? " (store in place)" : ""}`;
          const got = await read(b, b.attentionScores({ q: b.upload(q), heads, keys, kvHeads, headDim, positions, scale }));
          identical(tag, got, want, "score");
          const outGot = await read(b, b.attentionValues({ p: b.upload(p), heads, values, kvHeads, headDim, positions }));
          identical(tag, outGot, outWant, "value output");
          if (inPlace) {
            b.freeF32(keys);
            b.freeF32(values);
          }
        }
      }
    },
  },
  {
    name: "softmax: identical to the reference on CPU backends (−∞ entries, a dead row, wide ranges)",
    async run(b, ref) {
      if (b.residency === "device") return; // webgpu-cases.ts holds the device softmax to a tolerance
      const r = rng(47);
      for (const [rows, cols] of [[1, 1], [3, 7], [20, 129]] as const) {
        const x = Float32Array.from({ length: rows * cols }, (_, i) => (i % 11 === 5 ? Number.NEGATIVE_INFINITY : (r() - 0.5) * 10 ** Math.floor(r() * 4)));
        if (rows > 1) x.fill(Number.NEGATIVE_INFINITY, cols, 2 * cols);
        const want = x.slice();
        ref.softmax({ x: want, rows, cols });
        const got = x.slice();
        b.softmax({ x: got, rows, cols });
        identical(`softmax ${rows}×${cols}`, got, want);
      }
    },
  },
  {
    name: "rope: identical to the reference on CPU backends (both pairings, far positions, several tokens)",
    async run(b, ref) {
      if (b.residency === "device") return; // webgpu-cases.ts holds the device rope to a tolerance
      const r = rng(59);
      for (const [tokens, heads, headDim, style] of [[1, 20, 128, "half"], [3, 4, 6, "interleaved"], [5, 2, 64, "half"], [2, 3, 2, "interleaved"]] as const) {
        const positions = Int32Array.from({ length: tokens }, (_, t) => (t === 0 ? 4095 : Math.floor(r() * 300)));
        const x = Float32Array.from({ length: tokens * heads * headDim }, () => (r() - 0.5) * 8);
        const want = x.slice();
        ref.rope({ x: want, tokens, heads, headDim, positions, theta: 500000, style });
        const got = x.slice();
        b.rope({ x: got, tokens, heads, headDim, positions, theta: 500000, style });
        identical(`rope ${tokens}×${heads}×${headDim} (${style})`, got, want);
      }
    },
  },
  {
    name: "causalAttention: many query tokens at once, the composition of scores, softmax and values",
    async run(b, ref) {
      const r = rng(53);
      // [tokens, start, heads, kvHeads, headDim]: a prompt from position 0, a chunk after a cached prefix, one decode token;
      // even groups of query heads per KV head (wasm: items of two heads) and odd ones (one head an item: 3, and 1)
      for (const [tokens, start, heads, kvHeads, headDim] of [[5, 0, 4, 1, 16], [3, 6, 6, 3, 20], [1, 9, 8, 2, 37], [12, 4, 20, 5, 128], [4, 2, 6, 2, 24], [2, 5, 3, 3, 8]] as const) {
        const where = `causalAttention ${tokens} tokens from position ${start}, ${heads}/${kvHeads} heads × ${headDim}`;
        const capacity = (start + tokens + 2) * kvHeads * headDim;
        const keysHost = Float32Array.from({ length: capacity }, () => r() - 0.5);
        const valuesHost = Float32Array.from({ length: capacity }, () => r() - 0.5);
        const q = Float32Array.from({ length: tokens * heads * headDim }, () => (r() - 0.5) * 4);
        const scale = 1 / Math.sqrt(headDim);
        const want = await read(ref, ref.causalAttention({ q, tokens, heads, keys: keysHost, values: valuesHost, kvHeads, headDim, start, scale }));
        // the definition, spelled out with the one-query kernels
        const width = heads * headDim;
        for (let t = 0; t < tokens; t++) {
          const p = await read(ref, ref.attentionScores({ q: q.subarray(t * width, (t + 1) * width), heads, keys: keysHost, kvHeads, headDim, positions: start + t + 1, scale }));
          ref.softmax({ x: p, rows: heads, cols: start + t + 1 });
          identical(`${where}: reference token ${t}`, want.subarray(t * width, (t + 1) * width), await read(ref, ref.attentionValues({ p, heads, values: valuesHost, kvHeads, headDim, positions: start + t + 1 })));
        }
        for (const inPlace of [false, true]) {
          const { keys, values } = kvStore(b, keysHost, valuesHost, capacity, inPlace);
          const got = await read(b, b.causalAttention({ q: b.upload(q), tokens, heads, keys, values, kvHeads, headDim, start, scale }));
          const tag = `${where}${inPlace ? " (store in place)" : ""}`;
          if (inPlace && b.residency === "host") {
            // q and the output in the backend's own storage too, a sentinel after each
            const qBlock = b.allocF32(q.length + 1) as Float32Array;
            const outBlock = b.allocF32(want.length + 1) as Float32Array;
            qBlock.set(q);
            qBlock[q.length] = 777;
            outBlock[want.length] = -777;
            const out = outBlock.subarray(0, want.length);
            const into = b.causalAttention({ q: qBlock.subarray(0, q.length), tokens, heads, keys, values, kvHeads, headDim, start, scale, out });
            if (into !== out) throw new Error(`${tag}: did not return its out buffer`);
            if (gpu(b)) {
              for (let i = 0; i < want.length; i++) if (!(Math.abs(out[i]! - want[i]!) <= 1e-5)) throw new Error(`${tag} (q and out in place): output ${i} is ${out[i]}, the js reference gives ${want[i]}`);
            } else identical(`${tag} (q and out in place)`, out, want, "output");
            if (qBlock[q.length] !== 777 || outBlock[want.length] !== -777) throw new Error(`${tag} (q and out in place): wrote outside its range`);
            identical(`${tag} (q and out in place): q unchanged`, qBlock.subarray(0, q.length), q);
            b.freeF32(qBlock);
            b.freeF32(outBlock);
          }
          if (gpu(b)) {
            // a GPU softmax is within 1e-6 of each row's largest probability: outputs (values in ±0.5) within 1e-5
            for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= 1e-5)) throw new Error(`${tag}: output ${i} is ${got[i]}, the js reference gives ${want[i]}`);
          } else identical(tag, got, want, "output");
          if (inPlace) {
            b.freeF32(keys);
            b.freeF32(values);
          }
        }
      }
      await throwsWith(
        () => b.causalAttention({ q: b.upload(new Float32Array(2 * 4 * 8)), tokens: 2, heads: 4, keys: b.upload(new Float32Array(40)), values: b.upload(new Float32Array(48)), kvHeads: 2, headDim: 8, start: 1, scale: 1 }),
        "causalAttention keys: has 40 values, fewer than (start + tokens)·kvHeads·headDim = 48",
      );
    },
  },
  {
    name: "element-wise kernels and outputs on the backend's own storage (allocF32 views): the reference's bits, neighbours untouched",
    async run(b, ref) {
      if (b.residency !== "host") return; // a device backend's allocF32 is a device tensor; its cases cover it
      const r = rng(61);
      // views into one allocF32 block with a sentinel float on each side: the kernels must write exactly their range
      const own = (values: Float32Array) => {
        const block = b.allocF32(values.length + 2) as Float32Array;
        block[0] = 12345;
        block[values.length + 1] = -54321;
        const view = block.subarray(1, values.length + 1);
        view.set(values);
        return { block, view, intact: () => block[0] === 12345 && block[values.length + 1] === -54321 };
      };
      for (const [tokens, features] of [[1, 64], [3, 22], [2, 7]] as const) {
        const n = tokens * features;
        const where = `${tokens}×${features} in allocF32 storage`;
        const x = Float32Array.from({ length: n }, () => (r() - 0.5) * 6);
        const y = Float32Array.from({ length: n }, () => (r() - 0.5) * 6);
        const gain = Float32Array.from({ length: features }, () => 0.5 + r());
        for (const op of ["add", "multiply"] as const) {
          const want = x.slice();
          ref[op]({ x: want, y });
          for (const yOwned of [false, true]) {
            const xs = own(x);
            const ys = own(y);
            b[op]({ x: xs.view, y: yOwned ? ys.view : y });
            identical(`${op} ${where}${yOwned ? ", y too" : ""}`, xs.view, want);
            if (!xs.intact() || !ys.intact()) throw new Error(`${op} ${where}: wrote outside its range`);
            b.freeF32(xs.block);
            b.freeF32(ys.block);
          }
        }
        const normWant = await read(ref, ref.norm({ x, tokens, features, gain, eps: 1e-5, kind: "rms" }));
        const xs = own(x);
        const outs = own(new Float32Array(n));
        const got = b.norm({ x: xs.view, tokens, features, gain, eps: 1e-5, kind: "rms", out: outs.view });
        if (got !== outs.view) throw new Error(`norm ${where}: did not return its out buffer`);
        identical(`norm ${where}`, outs.view, normWant);
        identical(`norm ${where}: x unchanged`, xs.view, x);
        if (!xs.intact() || !outs.intact()) throw new Error(`norm ${where}: wrote outside its range`);
        const qWant = ref.quantize({ x, tokens, features, kind: "int8" });
        const qGot = b.quantize({ x: xs.view, tokens, features, kind: "int8" });
        if (!("codes" in qGot) || !("codes" in qWant)) throw new Error("quantize: host codes expected");
        identical(`quantize ${where}: codes`, qGot.codes, qWant.codes);
        identical(`quantize ${where}: scales`, qGot.scales, qWant.scales);
        for (const activation of ["relu2", "silu"] as const) {
          const want = x.slice();
          ref.gateActivation({ x: want, tokens, features, activation });
          const gs = own(x);
          b.gateActivation({ x: gs.view, tokens, features, activation });
          identical(`gateActivation ${activation} ${where}`, gs.view, want);
          if (!gs.intact()) throw new Error(`gateActivation ${activation} ${where}: wrote outside its range`);
          b.freeF32(gs.block);
        }
        b.freeF32(xs.block);
        b.freeF32(outs.block);
      }
      // quantize into allocF32 storage (codes as bytes between sentinels, the layout a model's workspace gives) and
      // into a host array; then bitLinear reading the stored codes — in place on wasm (64-column rows: its layout)
      for (const [tokens, features, out] of [[1, 128, 37], [3, 64, 20], [2, 100, 9]] as const) {
        const n = tokens * features;
        const where = `quantize ${tokens}×${features} into allocF32 storage`;
        const x = Float32Array.from({ length: n }, () => (r() - 0.5) * 6);
        const qWant = ref.quantize({ x, tokens, features, kind: "int8" }) as QuantizedActivations;
        const words = Math.ceil(n / 4);
        const block = b.allocF32(words + 2) as Float32Array;
        block[0] = 12345;
        block[words + 1] = -54321;
        const codes = new Int8Array(block.buffer, block.byteOffset + 4, n);
        const xs = own(x);
        const q = b.quantize({ x: xs.view, tokens, features, kind: "int8", out: codes });
        if (!("codes" in q) || q.codes !== codes) throw new Error(`${where}: did not return its out buffer as codes`);
        identical(`${where}: codes`, codes, qWant.codes, "code");
        identical(`${where}: scales`, q.scales, qWant.scales, "scale");
        if (q.zeros !== qWant.zeros) throw new Error(`${where}: zeros ${q.zeros}, the reference counts ${qWant.zeros}`);
        if (block[0] !== 12345 || block[words + 1] !== -54321) throw new Error(`${where}: wrote outside its range`);
        const hostOut = new Int8Array(n);
        const qHost = b.quantize({ x, tokens, features, kind: "int8", out: hostOut });
        if (!("codes" in qHost) || qHost.codes !== hostOut) throw new Error(`quantize ${tokens}×${features} into a host array: did not return it as codes`);
        identical(`quantize ${tokens}×${features} into a host array`, hostOut, qWant.codes, "code");
        const w = ternaryWeight(out, features, 7 + features);
        const want = await read(ref, ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: qWant }));
        identical(`bitLinear on codes in allocF32 storage (${tokens}×${features} → ${out})`, await read(b, b.bitLinear({ weight: b.prepareWeight({ weight: w }), input: q })), want);
        identical(`${where}: codes unchanged by bitLinear`, codes, qWant.codes, "code");
        b.freeF32(block);
        b.freeF32(xs.block);
      }
      // codes into storage that overlaps x (over its second row: written in order, row 0's codes would land on row 1's
      // floats before they are read): the codes must still be the reference's
      {
        const x = Float32Array.from({ length: 3 * 64 }, () => (r() - 0.5) * 6);
        const want = ref.quantize({ x, tokens: 3, features: 64, kind: "int8" }) as QuantizedActivations;
        const xs = own(x);
        const overlapping = new Int8Array(xs.view.buffer, xs.view.byteOffset + 64 * 4, x.length);
        const q = b.quantize({ x: xs.view, tokens: 3, features: 64, kind: "int8", out: overlapping });
        if (!("codes" in q) || q.codes !== overlapping) throw new Error("quantize into storage overlapping x: did not return its out buffer as codes");
        identical("quantize into storage overlapping x", overlapping, want.codes, "code");
        b.freeF32(xs.block);
      }
      await throwsWith(() => b.quantize({ x: new Float32Array(8), tokens: 2, features: 4, kind: "int8", out: new Int8Array(7) }), "quantize out: has 7 elements, expected tokens·features = 8");
      // a BitLinear output into allocF32 storage (wasm writes the dots there and finishes y in place): the dense
      // kernels, a row mask, the sparse kernel (its dots finished in JS), the prefill table lookup (≥ 12 tokens, ≥ 128
      // rows a thread), column groups (summed in float64, so through scratch)
      const cases: Array<[string, PackedLinearWeight, QuantizedActivations, Uint8Array | undefined]> = [
        ["2 tokens", ternaryWeight(37, 64, 3), activations(2, 64, 5), undefined],
        ["1 token, a row mask", ternaryWeight(38, 64, 4), activations(1, 64, 6), Uint8Array.from({ length: 38 }, (_, i) => (i % 3 === 1 ? 0 : 1))],
        ["1 sparse token", ternaryWeight(40, 256, 5), activations(1, 256, 7, { zeroFraction: 0.9 }), undefined],
        ["16 tokens × 300 rows", ternaryWeight(300, 128, 6), activations(16, 128, 8), Uint8Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? 0 : 1))],
        ["2 column groups", ternaryWeight(24, 128, 7, "in", 2), activations(2, 128, 9, { groups: 2 }), undefined],
      ];
      for (const [label, w, acts, rowMask] of cases) {
        const want = await read(ref, ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: acts, rowMask }));
        const outs = own(new Float32Array(acts.tokens * w.outFeatures).fill(Number.NaN));
        const got = b.bitLinear({ weight: b.prepareWeight({ weight: w }), input: acts, rowMask, out: outs.view });
        if (got !== outs.view) throw new Error(`bitLinear into allocF32 storage (${label}): did not return its out buffer`);
        identical(`bitLinear into allocF32 storage (${label})`, outs.view, want);
        if (!outs.intact()) throw new Error(`bitLinear into allocF32 storage (${label}): wrote outside its range`);
        b.freeF32(outs.block);
      }
      // an out buffer over the codes it reads (wasm reads codes in storage in place, row chunk after row chunk): the
      // reference's output still, not one computed from codes that earlier rows' outputs overwrote
      {
        const w = ternaryWeight(37, 64, 10);
        const acts = activations(2, 64, 11);
        const want = await read(ref, ref.bitLinear({ weight: ref.prepareWeight({ weight: w }), input: acts }));
        const block = b.allocF32(2 * 37) as Float32Array;
        const codes = new Int8Array(block.buffer, block.byteOffset, acts.codes.length);
        codes.set(acts.codes);
        const got = b.bitLinear({ weight: b.prepareWeight({ weight: w }), input: { ...acts, codes }, out: block });
        if (got !== block) throw new Error("bitLinear into storage over its codes: did not return its out buffer");
        identical("bitLinear into storage over its codes", block, want);
        b.freeF32(block);
      }
    },
  },
  {
    name: "firstNonFinite: the first NaN / ±∞ of host arrays and of the backend's own storage, every length's tail",
    async run(b, ref) {
      if (b.residency !== "host") return; // a device backend does not offer it (its logits are checked once read)
      const r = rng(67);
      for (const n of [0, 1, 3, 15, 16, 17, 63, 64, 65, 2560, 2563]) {
        const values = Float32Array.from({ length: n }, () => (r() - 0.5) * 2 ** (r() * 200 - 100));
        // the largest finite floats: their x − x is 0, their sums no overflow
        if (n > 2) values[1] = 3.4028234663852886e38;
        if (n > 3) values[2] = -3.4028234663852886e38;
        const spots = n === 0 ? [] : [...new Set([0, n - 1, Math.floor(n / 2), n - (n % 16 || 16), n & ~15])].filter((i) => i >= 0 && i < n);
        const cases: Array<[string, Float32Array]> = [["all finite", values]];
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
          for (const at of spots) {
            const x = values.slice();
            x[at] = bad;
            if (at + 3 < n) x[at + 3] = Number.NaN; // a later one does not hide the first
            cases.push([`${bad} at ${at}`, x]);
          }
        for (const [what, x] of cases) {
          const want = ref.firstNonFinite({ x });
          if (want !== (what === "all finite" ? -1 : Number(what.split(" at ")[1]))) throw new Error(`firstNonFinite reference, ${n} values, ${what}: ${want}`);
          const host = b.firstNonFinite({ x: x.slice() });
          if (host !== want) throw new Error(`firstNonFinite of a host array, ${n} values, ${what}: ${host}, the reference gives ${want}`);
          const own = b.allocF32(n + 1) as Float32Array;
          own[n] = Number.NaN; // past the end: not read
          const view = own.subarray(0, n);
          view.set(x);
          const got = b.firstNonFinite({ x: view });
          b.freeF32(own);
          if (got !== want) throw new Error(`firstNonFinite of allocF32 storage, ${n} values, ${what}: ${got}, the reference gives ${want}`);
        }
      }
    },
  },
  {
    name: "prompt-sized element-wise kernels (split across threads on wasm): RMSNorm, SiLU, ReLU² (and its active rows), product, sum, RoPE and quantize, the reference's bits",
    async run(b, ref) {
      const r = rng(67);
      // ≥ 2¹⁶ floats: the wasm backend splits rows across its threads; 7 rows split unevenly (4 + 3); 7500 features
      // (a multiple of 4, not of 16: ReLU² marks four features at a time)
      for (const [tokens, features] of [[20, 4096], [7, 12000], [9, 7500]] as const) {
        const n = tokens * features;
        const where = `${tokens}×${features}`;
        const x = Float32Array.from({ length: n }, () => (r() - 0.5) * 8);
        const gain = Float32Array.from({ length: features }, () => 0.5 + r());
        const want = await read(ref, ref.norm({ x, tokens, features, gain, eps: 1e-5, kind: "rms" }));
        const got = await read(b, b.norm({ x: b.upload(x), tokens, features, gain, eps: 1e-5, kind: "rms" }));
        if (gpu(b)) {
          for (let i = 0; i < n; i++) if (!(Math.abs(got[i]! - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)))) throw new Error(`norm ${where}: value ${i} is ${got[i]}, the reference gives ${want[i]}`);
        } else identical(`norm ${where}`, got, want);
        for (const activation of ["silu", "relu2"] as const) {
          const wantAct = x.slice();
          ref.gateActivation({ x: wantAct, tokens, features, activation });
          const dx = b.upload(x.slice());
          b.gateActivation({ x: dx, tokens, features, activation });
          const gotAct = await read(b, dx);
          if (gpu(b)) {
            for (let i = 0; i < n; i++) if (!(Math.abs(gotAct[i]! - wantAct[i]!) <= 1e-6 * (1 + Math.abs(wantAct[i]!)))) throw new Error(`gateActivation ${activation} ${where}: value ${i} is ${gotAct[i]}, the reference gives ${wantAct[i]}`);
          } else identical(`gateActivation ${activation} ${where}`, gotAct, wantAct);
        }
        // RoPE over a prompt's tokens (split across threads on wasm, a token a row), both pairings, far positions
        const headDim = [128, 96, 100].find((d) => features % d === 0)!;
        const positions = Int32Array.from({ length: tokens }, (_, t) => 3000 + 7 * t);
        for (const style of ["half", "interleaved"] as const) {
          const ropeArgs = { tokens, heads: features / headDim, headDim, positions, theta: 500000, style };
          const ropeWant = x.slice();
          ref.rope({ x: ropeWant, ...ropeArgs });
          const dx = b.upload(x.slice());
          b.rope({ x: dx, ...ropeArgs });
          const ropeGot = await read(b, dx);
          if (gpu(b)) {
            for (let i = 0; i < n; i++) if (!(Math.abs(ropeGot[i]! - ropeWant[i]!) <= 1e-5 * (1 + Math.abs(ropeWant[i]!)))) throw new Error(`rope ${style} ${where}: value ${i} is ${ropeGot[i]}, the reference gives ${ropeWant[i]}`);
          } else identical(`rope ${style} ${where}`, ropeGot, ropeWant);
        }
        for (const kind of ["int8", "int4"] as const)
          for (const epsMode of ["clamp", "add"] as const) {
            const qWant = ref.quantize({ x, tokens, features, kind, epsMode }) as QuantizedActivations;
            const qGot = await quantizedOnHost(b, b.quantize({ x: b.upload(x), tokens, features, kind, epsMode }));
            identical(`quantize ${kind} (ε ${epsMode}) ${where}`, qGot.codes, qWant.codes, "code");
            identical(`quantize ${kind} (ε ${epsMode}) ${where}`, qGot.scales, qWant.scales, "scale");
            if (qGot.zeros !== qWant.zeros) throw new Error(`quantize ${kind} ${where}: ${qGot.zeros} zero codes counted, the reference counts ${qWant.zeros}`);
          }
        if (b.residency === "host") {
          // ReLU² marking the active rows, split across threads (one mask a thread, OR-ed): features never positive,
          // one positive only in the last token (a later thread's rows), one only in the first
          const g = x.slice();
          for (let t = 0; t < tokens; t++)
            for (const f of [0, 5, features - 1]) g[t * features + f] = -Math.abs(g[t * features + f]!) - 0.25;
          g[(tokens - 1) * features + 5] = 1.5;
          g[features - 1] = 0.75;
          const rowsWant = new Uint8Array(features);
          const actWant = g.slice();
          const onWant = ref.gateActivation({ x: actWant, tokens, features, activation: "relu2", activeRows: rowsWant });
          const rowsGot = new Uint8Array(features).fill(7);
          const actGot = g.slice();
          const onGot = b.gateActivation({ x: actGot, tokens, features, activation: "relu2", activeRows: rowsGot });
          identical(`gateActivation relu2 ${where}, marking`, actGot, actWant);
          identical(`gateActivation relu2 ${where}: active rows`, rowsGot, rowsWant, "row");
          if (onGot !== onWant || rowsWant[0] !== 0 || rowsWant[5] !== 1 || rowsWant[features - 1] !== 1) throw new Error(`gateActivation relu2 ${where}: ${onGot} active rows, the reference ${onWant}`);
          // the product and the sum in place on the backend's storage, the odd tail past whole rows of a split
          for (const op of ["multiply", "add"] as const)
            for (const length of [n, n - 3]) {
              const y = Float32Array.from({ length }, () => (r() - 0.5) * 8);
              const opWant = x.slice(0, length);
              ref[op]({ x: opWant, y });
              const block = b.allocF32(length + 1) as Float32Array;
              block[length] = 4321;
              const view = block.subarray(0, length);
              view.set(x.subarray(0, length));
              b[op]({ x: view, y });
              identical(`${op} ${length} values in allocF32 storage`, view, opWant);
              if (block[length] !== 4321) throw new Error(`${op} ${length} values: wrote past its range`);
              b.freeF32(block);
            }
          // a non-finite value in a late row of a prompt split across threads: the first such element is named
          const bad = x.slice();
          bad[n - features + 5] = Number.NEGATIVE_INFINITY;
          bad[n - 3] = Number.NaN;
          for (const kind of ["int8", "int4"] as const)
            await throwsWith(() => b.quantize({ x: bad, tokens, features, kind }), new RegExp(`element ${n - features + 5} is -Infinity; expected a finite number`));
        }
      }
    },
  },
  {
    name: "allocF32 gives zeroed storage; freed storage is reused and cannot be freed twice",
    async run(b) {
      const a = b.allocF32(1000);
      const zeros = await read(b, a);
      if (zeros.length !== 1000 || zeros.some((v) => v !== 0)) throw new Error("allocF32(1000): expected 1000 zeros");
      b.copyInto({ src: b.upload(new Float32Array(1000).fill(7)), dst: a, dstOffset: 0 });
      b.freeF32(a);
      const again = b.allocF32(1000);
      if ((await read(b, again)).some((v) => v !== 0)) throw new Error("allocF32 after freeF32: storage was not zeroed");
      if (b.name === "wasm") await throwsWith(() => b.freeF32(a), "was not allocated by this wasm backend");
      b.freeF32(again);
    },
  },
  {
    name: "dense int8 (W8A16): identical to the reference on CPU backends, within its quantization bound of f32",
    async run(b, ref) {
      const r = rng(41);
      // in = 40: one short block with a scalar tail; 48: a 16-wide step; 100: 96 + tail; 2560: ten 256-blocks
      for (const [tokens, out, inF] of [[1, 7, 40], [3, 5, 48], [2, 9, 100], [1, 33, 2560]] as const) {
        const w = Float32Array.from({ length: out * inF }, () => (r() - 0.5) * (r() < 0.02 ? 20 : 1)); // a few outliers
        const x = Float32Array.from({ length: tokens * inF }, () => (r() - 0.5) * 3);
        const dims = { outFeatures: out, inFeatures: inF };
        const wantF32 = await read(ref, ref.matmulF32({ x, tokens, weight: w, ...dims }));
        const gotF32 = await read(b, b.dense({ weight: b.prepareDense({ weight: w, ...dims, format: "f32" }), x: b.upload(x), tokens }));
        const want = await read(ref, ref.dense({ weight: ref.prepareDense({ weight: w, ...dims, format: "int8" }), x, tokens }));
        const got = await read(b, b.dense({ weight: b.prepareDense({ weight: w, ...dims, format: "int8" }), x: b.upload(x), tokens }));
        const q = quantizeDenseInt8(w, out, inF);
        const xq = quantizeInt16Rows(x, tokens, inF);
        for (let t = 0; t < tokens; t++)
          for (let o = 0; o < out; o++) {
            const i = t * out + o;
            const where = `dense int8 ${tokens}×${out}×${inF}: output ${i}`;
            if (!gpu(b) && !Object.is(gotF32[i], wantF32[i])) throw new Error(`dense f32 ${tokens}×${out}×${inF}: output ${i} is ${gotF32[i]}, matmulF32 gives ${wantF32[i]}`);
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
  ...DENSE_CASES,
  ...ENCODED_CASES,
  {
    name: "per-token INT8 / INT4 quantization: codes, scales and zero counts identical to @onebit/quant's",
    async run(b, ref) {
      const r = rng(51);
      // features with and without a 16-wide tail; ties (halves once scaled), all-zero and tiny rows, both ε modes
      for (const [tokens, features] of [[1, 2560], [3, 37], [2, 6912], [4, 16], [1, 5]] as const)
        for (const kind of ["int8", "int4"] as const)
          for (const epsMode of ["clamp", "add"] as const) {
            const x = Float32Array.from({ length: tokens * features }, () => (r() < 0.2 ? Math.round((r() - 0.5) * 254) / 2 : (r() - 0.5) * 6));
            if (tokens > 1) x.fill(0, 0, features); // an all-zero token
            if (tokens > 2) for (let i = 2 * features; i < 3 * features; i++) x[i] = (r() - 0.5) * 1e-7; // below the ε floor
            const args = { tokens, features, kind, epsMode };
            const want = ref.quantize({ x, ...args }) as QuantizedActivations;
            const where = `quantize ${kind} ${tokens}×${features} (ε ${epsMode})`;
            // independent truth: @onebit/quant itself (int8 shown; int4 is the same code path's other branch)
            if (kind === "int8") identical(`${where} vs quantizeInt8`, want.codes, quantizeInt8(x, [tokens, features], { granularity: "row", epsMode }).codes, "code");
            const got = await quantizedOnHost(b, b.quantize({ x: b.upload(x), ...args }));
            identical(where, got.codes, want.codes, "code");
            identical(where, got.scales, want.scales, "scale");
            let zeros = 0;
            for (const c of want.codes) if (c === 0) zeros++;
            if (got.zeros !== zeros || want.zeros !== zeros) throw new Error(`${where}: zeros counted ${got.zeros} (reference ${want.zeros}), the codes have ${zeros}`);
          }
      if (b.residency === "host") {
        await throwsWith(() => b.quantize({ x: Float32Array.of(1, 2, Number.NaN, 4), tokens: 2, features: 2, kind: "int8" }), /element 2 is NaN; expected a finite number/);
        // non-finite values inside the SIMD kernels' 16-wide steps (wasm keeps |x| maxima as integer bits there)
        for (const [at, v] of [[17, Number.NaN], [33, Number.POSITIVE_INFINITY], [62, Number.NEGATIVE_INFINITY]] as const)
          for (const kind of ["int8", "int4"] as const) {
            const x = Float32Array.from({ length: 80 }, (_, i) => Math.sin(i));
            x[at] = v;
            if (at === 17) x[60] = Number.POSITIVE_INFINITY; // NaN and ∞ in one row: the first named
            await throwsWith(() => b.quantize({ x, tokens: 2, features: 40, kind }), new RegExp(`element ${at} is ${v}; expected a finite number`));
          }
      }
    },
  },
  {
    name: "every activation quantizer (absmax8, fp4, Top-K, grouped): identical to the reference",
    async run(b, ref) {
      const r = rng(53);
      for (const [kind, groups] of [["absmax8", 1], ["fp4", 1], ["int8-topk", 1], ["int8", 4], ["int4", 2], ["absmax8", 2]] as const) {
        const tokens = 3;
        const features = 64;
        const x = Float32Array.from({ length: tokens * features }, () => (r() - 0.5) * 4);
        const args = { tokens, features, kind, groups, topKFraction: 0.5 };
        const want = ref.quantize({ x, ...args }) as QuantizedActivations;
        const truth = quantizeActivationsImpl(x, tokens, features, kind, { groups, topKFraction: 0.5 });
        identical(`reference quantize ${kind}`, want.codes, truth.codes, "code");
        const got = await quantizedOnHost(b, b.quantize({ x: b.upload(x), ...args }));
        const where = `quantize ${kind} in ${groups} group(s)`;
        identical(where, got.codes, want.codes, "code");
        identical(where, got.scales, want.scales, "scale");
      }
    },
  },
  {
    name: "norms and element-wise ops (RMSNorm, grouped and LayerNorm, add, multiply, ReLU², SiLU, copy)",
    async run(b, ref) {
      const r = rng(57);
      const tokens = 3;
      const features = 48;
      const x = Float32Array.from({ length: tokens * features }, () => (r() - 0.5) * 3);
      const y = Float32Array.from({ length: tokens * features }, () => (r() - 0.5) * 3);
      const gain = Float32Array.from({ length: features }, () => 0.5 + r());
      for (const [kind, groups] of [["rms", 1], ["rms", 4], ["layer", 1], ["layer", 2]] as const) {
        const args = { tokens, features, gain, eps: 1e-5, kind, groups };
        const want = await read(ref, ref.norm({ x, ...args }));
        // independent truth: RMSNorm of token 0 in float64
        if (kind === "rms" && groups === 1) {
          let ss = 0;
          for (let i = 0; i < features; i++) ss += x[i]! ** 2;
          const v = (x[0]! / Math.sqrt(ss / features + 1e-5)) * gain[0]!;
          if (Math.abs(want[0]! - v) > 1e-5 * Math.abs(v)) throw new Error(`reference rms norm: ${want[0]}, float64 gives ${v}`);
        }
        identical(`reference norm ${kind} ×${groups}`, want, normImpl(x, tokens, features, gain, 1e-5, kind, groups));
        const got = await read(b, b.norm({ x: b.upload(x), ...args }));
        if (gpu(b)) {
          for (let i = 0; i < want.length; i++)
            if (Math.abs(got[i]! - want[i]!) > 1e-5 * (1 + Math.abs(want[i]!))) throw new Error(`norm ${kind} ×${groups}: output ${i} is ${got[i]}, the js reference gives ${want[i]}`);
        } else identical(`norm ${kind} ×${groups}`, got, want);
        if (b.residency === "host") {
          // into a caller's buffer: that buffer, the same values
          const out = new Float32Array(tokens * features).fill(Number.NaN);
          const into = b.norm({ x, ...args, out });
          if (into !== out) throw new Error(`norm ${kind} ×${groups} with out: returned a new array, not out`);
          identical(`norm ${kind} ×${groups} into out`, out, want);
          await throwsWith(() => b.norm({ x, ...args, out: new Float32Array(5) }), "norm out: has 5 elements, expected 144");
        }
      }
      // Rows whose Σx²/n sits on a float32 rounding boundary, where a sum in another order than the reference's
      // (wasm's eight-lane float64 sum for one row) must give way to the reference's order:
      // - 20 pairs 1 ± 2⁻¹²: Σx² = 40 + 5·2⁻²¹ exactly in any order, Σx²/n = 1 + 2⁻²⁴, a tie (to even: 1);
      // - 2²⁶, 2¹⁴ and fourteen 0.5: in order Σx² = 2⁵² + 2²⁸ (each 0.25 lost to rounding), Σx²/16 = 2⁴⁸ + 2²⁴, a
      //   tie (to 2⁴⁸), while eight lanes keep some quarters (2⁵² + 2²⁸ + 3), which would round up to 2⁴⁸ + 2²⁵.
      const tie = Float32Array.from({ length: 40 }, (_, i) => 1 + (i % 2 ? -1 : 1) * 2 ** -12);
      const order = Float32Array.from({ length: 16 }, (_, i) => (i === 0 ? 2 ** 26 : i === 1 ? 2 ** 14 : 0.5));
      for (const row of [tie, order]) {
        const args = { tokens: 1, features: row.length, gain: new Float32Array(row.length).fill(1), eps: 0, kind: "rms" as const, groups: 1 };
        const want = await read(ref, ref.norm({ x: row, ...args }));
        const got = await read(b, b.norm({ x: b.upload(row), ...args }));
        if (gpu(b)) {
          for (let i = 0; i < want.length; i++)
            if (Math.abs(got[i]! - want[i]!) > 1e-5 * (1 + Math.abs(want[i]!))) throw new Error(`norm of a boundary row: output ${i} is ${got[i]}, the js reference gives ${want[i]}`);
        } else identical(`norm of a row of ${row.length} on a float32 boundary`, got, want);
      }
      for (const op of ["add", "multiply"] as const) {
        const want = x.slice();
        ref[op]({ x: want, y });
        const dx = b.upload(x.slice());
        b[op]({ x: dx, y: b.upload(y) });
        identical(op, await read(b, dx), want);
      }
      for (const activation of ["relu2", "silu"] as const) {
        const want = x.slice();
        const rows = new Uint8Array(features);
        const on = ref.gateActivation({ x: want, tokens, features, activation, activeRows: rows });
        if (activation === "relu2" && (on !== rows.reduce((a, v) => a + v, 0) || on === 0)) throw new Error(`gateActivation relu2: ${on} active rows reported`);
        const dx = b.upload(x.slice());
        b.gateActivation({ x: dx, tokens, features, activation });
        const got = await read(b, dx);
        if (activation === "silu" && gpu(b)) {
          for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > 1e-6 * (1 + Math.abs(want[i]!))) throw new Error(`gateActivation silu: output ${i} is ${got[i]}, the reference gives ${want[i]}`);
        } else identical(`gateActivation ${activation}`, got, want);
      }
      const dst = b.allocF32(features * 5);
      b.copyInto({ src: b.upload(x), dst, dstOffset: features });
      const back = await read(b, dst);
      identical("copyInto", back.subarray(features, features * 4), x);
      if (back[0] !== 0 || back[features * 4] !== 0) throw new Error("copyInto wrote outside its range");
      b.copyInto({ src: b.upload(x), srcOffset: features, length: features, dst, dstOffset: 4 * features });
      identical("copyInto a slice", (await read(b, dst)).subarray(4 * features), x.subarray(features, 2 * features));
      // from the backend's own memory to its own memory (the wasm backend's memory.copy: a KV write from a workspace)
      const own = b.allocF32(x.length);
      b.copyInto({ src: b.upload(x), dst: own, dstOffset: 0 });
      b.copyInto({ src: own, srcOffset: features, length: 2 * features, dst, dstOffset: features });
      const both = await read(b, dst);
      identical("copyInto within the backend's memory", both.subarray(features, 3 * features), x.subarray(features, 3 * features));
      identical("copyInto within the backend's memory (the rest untouched)", both.subarray(3 * features, 4 * features), x.subarray(2 * features, 3 * features));
      let refused = false;
      try {
        b.copyInto({ src: own, srcOffset: features, length: 2 * features, dst, dstOffset: 4 * features });
      } catch (e) {
        refused = e instanceof KernelInputError && /do not fit/.test((e as Error).message);
      }
      if (!refused) throw new Error("copyInto past the destination's end was not refused with a KernelInputError");
      b.freeF32(own);
      b.freeF32(dst);
    },
  },
  ...KV_CODE_CASES,
  {
    name: "refuses bad shapes, naming the argument",
    async run(b, ref) {
      const w = b.prepareWeight({ weight: ternaryWeight(4, 10, 1) });
      await throwsWith(() => b.bitLinear({ weight: w, input: activations(1, 11, 1) }), "activations.features: 11 does not match the weight's inFeatures 10");
      await throwsWith(() => b.bitLinear({ weight: w, input: activations(1, 10, 1), rowMask: new Uint8Array(3) }), "rowMask: has 3 entries, expected outFeatures 4");
      await throwsWith(() => b.prepareWeight({ weight: { ...ternaryWeight(4, 10, 1), data: new Uint8Array(5) } }), /weight.data: has 5 bytes, expected 64/);
      await throwsWith(() => b.bitLinear({ weight: ref.prepareWeight({ weight: ternaryWeight(4, 10, 1) }), input: activations(1, 10, 1) }), /prepared by the js backend/);
      await throwsWith(() => b.matmulF32({ x: b.upload(new Float32Array(5)), tokens: 1, weight: new Float32Array(12), outFeatures: 3, inFeatures: 4 }), "matmulF32 x: has 5 elements, expected tokens·in = 4");
      await throwsWith(() => b.prepareDense({ weight: new Float32Array(6), outFeatures: 2, inFeatures: 3, format: "int2" as "int8" }), 'dense format: expected one of f32, int8, int4, got "int2"');
      await throwsWith(() => b.prepareDense({ weight: new Float32Array(80), outFeatures: 2, inFeatures: 40, format: "int4" }), "dense int4: inFeatures 40 is not a multiple of the 32-column block; use the int8 or f32 format");
      await throwsWith(() => b.prepareDense({ weight: {} as Float32Array, outFeatures: 2, inFeatures: 3, format: "f32" }), "dense weight: expected a Float32Array or a row source { rows, cols, readRows(start, count, out) }, got Object");
      await throwsWith(
        () => b.dense({ weight: b.prepareDense({ weight: new Float32Array(6), outFeatures: 2, inFeatures: 3, format: "int8" }), x: b.upload(new Float32Array(4)), tokens: 1 }),
        "dense x: has 4 elements, expected tokens·in = 3",
      );
      const scores = { q: b.upload(new Float32Array(8)), heads: 2, keys: b.upload(new Float32Array(40)), kvHeads: 1, headDim: 4, positions: 11, scale: 1 };
      await throwsWith(() => b.attentionScores(scores), "attentionScores cache: has 40 values, fewer than positions·kvHeads·headDim = 44");
      await throwsWith(() => b.attentionScores({ ...scores, heads: 3, kvHeads: 2, positions: 2 }), "attentionScores: heads 3 is not a multiple of kvHeads 2");
      await throwsWith(() => b.attentionValues({ p: b.upload(new Float32Array(5)), heads: 2, values: b.upload(new Float32Array(40)), kvHeads: 1, headDim: 4, positions: 3 }), "attentionValues p: has 5 values, expected heads·positions = 6");
    },
  },
  {
    name: "the kernel list tells the truth: every kernel declared, and calls counted where they ran",
    async run(b) {
      const list = b.kernels();
      const names = list.map((k) => k.kernel);
      if (new Set(names).size !== names.length || names.length < 17) throw new Error(`kernels(): ${names.length} entries (${names.join(", ")})`);
      for (const k of list) if (!k.description) throw new Error(`kernels(): ${k.kernel} has no description`);
      const before = list.find((k) => k.kernel === "softmax")!.calls;
      b.softmax({ x: b.upload(Float32Array.of(1, 2, 3)), rows: 1, cols: 3 });
      const after = b.kernels().find((k) => k.kernel === "softmax")!;
      const ran = after.source === "reference" ? after.calls.reference - before.reference : after.calls.native - before.native;
      if (ran !== 1) throw new Error(`softmax (${after.source}) ran once, its ${after.source === "reference" ? "reference" : "native"} count moved by ${ran}`);
    },
  },
];

/** Quantized activations on the host: a device backend's are read back through a bitLinear-free path (codes). */
async function quantizedOnHost(b: Backend, q: ReturnType<Backend["quantize"]>): Promise<QuantizedActivations> {
  if ("codes" in q) return q;
  if (!b.readQuantized) throw new Error(`${b.name}: quantize returned device activations but the backend has no readQuantized`);
  return b.readQuantized(q);
}
