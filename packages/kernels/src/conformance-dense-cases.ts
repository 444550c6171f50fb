/**
 * Conformance cases of the dense formats beyond int8's (part of CONFORMANCE_CASES, conformance-cases.ts): the int4
 * format (W4A8, js/dense-int4.ts) bit for bit the js reference and within its quantization bound of the float64
 * product; prepareDense from a row source (read a chunk of rows at a time, in order) identical to prepareDense from
 * the array, every format; and denseRows, every format, identical to the reference and to the format's definition.
 */
import type { Backend, DenseFormat, DenseRowSource } from "./backend";
import type { ConformanceCase } from "./conformance-cases";
import { identical, rangeOver, rng } from "./conformance-helpers";
import type { Activations } from "./contract/tensors";
import { DENSE_FORMATS, denseChunkRows, INT4_BLOCK, quantizeDenseInt8 } from "./js/dense";
import { quantizeDenseInt4, quantizeInt8Blocks } from "./js/dense-int4";
import { dequantizeRows, quantizeGgml } from "@onebit/quant";



const read = (b: Backend, x: Activations) => b.read(x);

/** A weight [out, in] with a few outliers, and an all-zero 32-block in row 0 when in ≥ 64. */
function denseWeight(out: number, inF: number, seed: number): Float32Array {
  const r = rng(seed);
  const w = Float32Array.from({ length: out * inF }, () => (r() - 0.5) * (r() < 0.02 ? 20 : 1));
  if (inF >= 64) w.fill(0, 32, 64);
  return w;
}

let encodedMemo: { w: Float32Array; encoded: Record<"F16" | "BF16" | "Q6_K", Uint8Array> } | undefined;
/**
 * A weight [out, in] and its F16, BF16 and Q6_K bytes, made once for every backend (ggml's Q6_K quantizer is slow in
 * JS). Row 1 holds half subnormals, ±0 and the largest half; the BF16 bytes' row 2 float32 subnormals and magnitudes
 * past the half range (an F16 of them would be infinite, which the int4 head refuses).
 */
function encodedWeights(out: number, inF: number): NonNullable<typeof encodedMemo> {
  if (!encodedMemo) {
    const w = denseWeight(out, inF, 11);
    for (let i = 0; i < 64; i++) w[inF + i] = [2 ** -20, -(2 ** -24), 0, -0, 65504, -3e-5][i % 6]!;
    const wide = w.slice();
    for (let i = 0; i < 64; i++) wide[2 * inF + i] = [3e38, -(2 ** -130), 2 ** -149, -0, -1e30, 7e-39][i % 6]!;
    encodedMemo = { w, encoded: { F16: quantizeGgml("F16", w), BF16: quantizeGgml("BF16", wide), Q6_K: quantizeGgml("Q6_K", w) } };
  }
  return encodedMemo;
}

/** A row source over an array that records its reads (start, count). */
function rowSource(w: Float32Array, rows: number, cols: number): DenseRowSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    rows,
    cols,
    reads,
    readRows(start, count, out) {
      reads.push([start, count]);
      out.set(w.subarray(start * cols, (start + count) * cols));
    },
  };
}

export const DENSE_CASES: ConformanceCase[] = [
  {
    name: "dense int4 (W4A8): identical to the reference, within its quantization bound of f32",
    async run(b, ref) {
      const r = rng(43);
      // in = 32: one block in a padded 4-block group; 96: 3 blocks; 128: one whole group; 160: a group and a block;
      // 2560: 2B4T's width, 20 groups (odd row count: the pair kernel's single-row tail)
      for (const [tokens, out, inF] of [[1, 7, 32], [3, 5, 96], [2, 9, 128], [4, 6, 160], [1, 33, 2560]] as const) {
        const w = denseWeight(out, inF, out * 97 + inF);
        const x = Float32Array.from({ length: tokens * inF }, () => (r() - 0.5) * 3 * (r() < 0.03 ? 10 : 1));
        x.fill(0, 0, INT4_BLOCK); // an all-zero activation block (scale 0)
        const dims = { outFeatures: out, inFeatures: inF };
        const want = await read(ref, ref.dense({ weight: ref.prepareDense({ weight: w, ...dims, format: "int4" }), x, tokens }));
        const got = await read(b, b.dense({ weight: b.prepareDense({ weight: w, ...dims, format: "int4" }), x: b.upload(x), tokens }));
        identical(`dense int4 ${tokens}×${out}×${inF}`, got, want);
        // independent truth: |w − q·d| ≤ |d| (≤ |d|/2 but where 7 clamps), |x − code·scale| ≤ scale/2
        const q = quantizeDenseInt4(w, out, inF);
        const xq = quantizeInt8Blocks(x, tokens, inF);
        for (let t = 0; t < tokens; t++)
          for (let o = 0; o < out; o++) {
            let exact = 0;
            let bound = 0;
            for (let j = 0; j < inF; j++) {
              const b32 = Math.floor(j / INT4_BLOCK);
              const xv = x[t * inF + j]!;
              const wv = w[o * inF + j]!;
              const d = Math.abs(q.scales[o * q.blocks + b32]!);
              const xs = xq.scales[t * q.blocks + b32]!;
              exact += xv * wv;
              bound += Math.abs(xv) * d + ((Math.abs(wv) + d) * xs) / 2 + Math.abs(xv * wv) * 2 ** -20;
            }
            const y = want[t * out + o]!;
            if (Math.abs(y - exact) > bound) throw new Error(`dense int4 ${tokens}×${out}×${inF}, output ${t * out + o}: the reference gives ${y}, float64 on the float weights ${exact} (bound ${bound})`);
          }
      }
    },
  },
  {
    name: "prepareDense from a row source with its own encoding (F16, BF16, Q6_K): identical to its decoded rows, every format",
    async run(b) {
      // 431 rows of 2560: two chunks (denseChunkRows = 409), an odd row count; F16 with subnormal, ±0 and 65504 halves
      const out = 431;
      const inF = 2560;
      const { w, encoded } = encodedWeights(out, inF);
      for (const format of ["F16", "BF16", "Q6_K"] as const) {
        const bytes = encoded[format];
        const rows = dequantizeRows(format, bytes, out, inF, 0, out);
        // the bytes in memory, and as a ByteRange (a loader's file read a piece at a time)
        const range = rangeOver(bytes, `${format} rows`);
        const x = Float32Array.from({ length: 2 * inF }, (_, i) => Math.cos(i * 0.21));
        for (const held of [bytes, range]) {
          const source: DenseRowSource = { rows: out, cols: inF, readRows: (s, n, o) => o.set(dequantizeRows(format, bytes, out, inF, s, n)), encoded: { format, bytes: held } };
          const how = held === bytes ? "" : " through a ByteRange";
          for (const dense of DENSE_FORMATS) {
            const dims = { outFeatures: out, inFeatures: inF, format: dense };
            const fromSource = b.prepareDense({ weight: source, ...dims });
            const fromRows = b.prepareDense({ weight: rows, ...dims });
            identical(`dense ${dense} from ${format} rows${how}`, await read(b, b.dense({ weight: fromSource, x: b.upload(x), tokens: 2 })), await read(b, b.dense({ weight: fromRows, x: b.upload(x), tokens: 2 })), "output (prepared from the decoded rows)");
            identical(`denseRows ${dense} from ${format} rows${how}`, await read(b, b.denseRows({ weight: fromSource, start: 0, count: 3 })), await read(b, b.denseRows({ weight: fromRows, start: 0, count: 3 })), "value");
          }
        }
      }
      // a Q6_K block whose d is NaN (fp16 0x7e00, bytes 208–209 of block 1 of row 420): the reference's error, naming an element of that row
      const bytes = encoded.Q6_K.slice();
      bytes[420 * 2100 + 210 + 208] = 0x00;
      bytes[420 * 2100 + 210 + 209] = 0x7e;
      const bad: DenseRowSource = { rows: out, cols: inF, readRows: (s, n, o) => o.set(dequantizeRows("Q6_K", bytes, out, inF, s, n)), encoded: { format: "Q6_K", bytes } };
      try {
        b.prepareDense({ weight: bad, outFeatures: out, inFeatures: inF, format: "int4" });
      } catch (e) {
        if (/dense int4 weight: element \[420, 256\] is NaN; expected a finite number/.test((e as Error).message)) return;
        throw e;
      }
      throw new Error("prepareDense int4 accepted Q6_K rows holding NaN");
    },
  },
  {
    name: "prepareDense from a row source: read in order a chunk at a time, identical to the array's, every format",
    async run(b) {
      // 2560 columns: denseChunkRows = 409, so 1000 rows are at least three chunks
      const out = 1000;
      const inF = 2560;
      const w = denseWeight(out, inF, 5);
      const x = Float32Array.from({ length: inF }, (_, i) => Math.sin(i * 0.37));
      const step = denseChunkRows(inF);
      for (const format of DENSE_FORMATS) {
        const dims = { outFeatures: out, inFeatures: inF, format };
        const source = rowSource(w, out, inF);
        const fromSource = b.prepareDense({ weight: source, ...dims });
        // in order, each row once, at most a chunk of denseChunkRows at a time (a backend may cut smaller: the wasm int4
        // layout's chunks start on row pairs)
        const reads = source.reads;
        const inOrder = reads.every(([start, count], i) => start === (i === 0 ? 0 : reads[i - 1]![0] + reads[i - 1]![1]) && count >= 1 && count <= step);
        const last = reads[reads.length - 1];
        if (!inOrder || !last || last[0] + last[1] !== out)
          throw new Error(`prepareDense ${format} from a row source: read ${JSON.stringify(reads)}, expected [0, ${out}) in order, in chunks of at most ${step} rows`);
        const fromArray = b.prepareDense({ weight: w, ...dims });
        if (fromSource.bytes !== (format === "f32" ? out * inF * 4 : fromArray.bytes))
          throw new Error(`prepareDense ${format} from a row source holds ${fromSource.bytes} bytes (from the array: ${fromArray.bytes})`);
        const want = await read(b, b.dense({ weight: fromArray, x: b.upload(x), tokens: 1 }));
        identical(`dense ${format} from a row source`, await read(b, b.dense({ weight: fromSource, x: b.upload(x), tokens: 1 })), want, "output (prepared from the array)");
        identical(`denseRows ${format} from a row source`, await read(b, b.denseRows({ weight: fromSource, start: 407, count: 5 })), await read(b, b.denseRows({ weight: fromArray, start: 407, count: 5 })), "value");
      }
      const bad = { rows: out, cols: inF + 1, readRows() {} };
      try {
        b.prepareDense({ weight: bad, outFeatures: out, inFeatures: inF, format: "int4" });
      } catch (e) {
        if (/dense weight: the row source is 1000×2561, expected out×in = 1000×2560/.test((e as Error).message)) return;
        throw e;
      }
      throw new Error("prepareDense accepted a row source of the wrong shape");
    },
  },
  {
    name: "denseRows: rows of a prepared weight dequantized as the format defines, every format",
    async run(b, ref) {
      const out = 9;
      const inF = 160;
      const w = denseWeight(out, inF, 17);
      const int8 = quantizeDenseInt8(w, out, inF);
      const int4 = quantizeDenseInt4(w, out, inF);
      // the definition, written out: f32 as is, int8 fround(code·scale), int4 fround((code − 8)·d)
      const value: Record<DenseFormat, (o: number, i: number) => number> = {
        f32: (o, i) => w[o * inF + i]!,
        int8: (o, i) => Math.fround(int8.codes[o * inF + i]! * int8.scales[o * int8.blocks + Math.floor(i / int8.blockLen)]!),
        int4: (o, i) => {
          const byte = int4.codes[(o * int4.blocks + Math.floor(i / 32)) * 16 + (i % 16)]!;
          return Math.fround(((i % 32 < 16 ? byte & 15 : byte >> 4) - 8) * int4.scales[o * int4.blocks + Math.floor(i / 32)]!);
        },
      };
      for (const format of DENSE_FORMATS) {
        const dims = { outFeatures: out, inFeatures: inF, format };
        const pw = b.prepareDense({ weight: w, ...dims });
        const pref = ref.prepareDense({ weight: w, ...dims });
        for (const [start, count] of [[0, 1], [3, 4], [8, 1], [0, 9], [5, 0]] as const) {
          const where = `denseRows ${format} [${start}, ${start + count})`;
          const got = await read(b, b.denseRows({ weight: pw, start, count }));
          identical(where, got, await read(ref, ref.denseRows({ weight: pref, start, count })), "value");
          identical(`${where} (by the format's definition)`, got, Float32Array.from({ length: count * inF }, (_, k) => value[format](start + Math.floor(k / inF), k % inF)), "value");
          if (b.residency === "host") {
            const into = new Float32Array(count * inF);
            if (b.denseRows({ weight: pw, start, count, out: into }) !== into) throw new Error(`${where}: did not return the out array it was given`);
            identical(`${where} into out`, into, got, "value");
          }
        }
        for (const [start, count] of [[8, 2], [-1, 1], [0.5, 1]] as const)
          try {
            b.denseRows({ weight: pw, start, count });
            throw new Error(`denseRows ${format} accepted rows [${start}, ${start}+${count}) of 9`);
          } catch (e) {
            if (!(e as Error).message.includes(`denseRows: rows [${start}, ${start}+${count}) are not integers within the weight's 9 rows`)) throw e;
          }
      }
    },
  },
];
