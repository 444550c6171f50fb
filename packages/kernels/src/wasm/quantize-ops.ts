/**
 * Per-element quantization on the wasm backend. These are O(tokens·features) streams, too short to be worth a job
 * split across threads, so they call the kernel exports directly on this thread.
 */
import { type EpsMode, guard, SQRT7 } from "@onebit/quant";
import type { QuantizedActivations } from "../backend";
import { KernelInputError } from "../backend";
import { checkDequantizeUnsigned } from "../js/dequantize-unsigned";
import { checkQuantizeOut } from "../js/quantize-activations";
import { checkQuantizeRows, type RowQuantKind } from "../js/quantize-rows";
import { ELEMENTWISE_KIND } from "./abi";
import type { WasmContext } from "./context";
import { runRows, splitRows } from "./elementwise-ops";

/**
 * quantizeInt8 / quantizeInt4 per token of x [tokens, features] f32 → int8 codes [tokens, features] and a scale per
 * token, bit for bit @onebit/quant: statistics (row_stats) and codes (row_codes) in SIMD, the scale arithmetic in JS.
 */
export function quantizeRows(ctx: WasmContext, x: Float32Array, tokens: number, features: number, kind: RowQuantKind, epsMode?: EpsMode, out?: Int8Array): QuantizedActivations {
  ctx.alive();
  const { heap, exports: ex } = ctx;
  checkQuantizeRows(x, tokens, features, kind);
  const n = tokens * features;
  if (out !== undefined) checkQuantizeOut(out, n);
  // scratch: [x: f32 n, unless x lives in wasm memory: read in place][stats: f64 tokens][multipliers: f32 tokens][codes: int8 n, unless in place]
  const inPlace = heap.owns(x);
  // codes written in place when `out` lives in wasm memory (a model's workspace: bitLinear then reads them there),
  // unless it overlaps x (a later row's x would be overwritten before it is read)
  const codesInPlace =
    out !== undefined && heap.owns(out) && !(inPlace && out.byteOffset < x.byteOffset + x.byteLength && x.byteOffset < out.byteOffset + out.byteLength);
  const xBytes = inPlace ? 0 : (n * 4 + 15) & ~15;
  const statsBytes = (tokens * 8 + 15) & ~15;
  const sBytes = (tokens * 4 + 15) & ~15;
  const base = heap.scratch(xBytes + statsBytes + sBytes + (codesInPlace ? 0 : n) + 16);
  const statsPtr = base + xBytes;
  const sPtr = statsPtr + statsBytes;
  const codesPtr = codesInPlace ? out.byteOffset : sPtr + sBytes;
  const xPtr = inPlace ? x.byteOffset : base;
  if (!inPlace) new Float32Array(heap.buffer, base, n).set(x);
  // a prompt's rows split across the threads (elementwise-ops.ts), a decode token's on this thread
  const split = splitRows(ctx, tokens, features);
  if (split) runRows(ctx, ELEMENTWISE_KIND.ROW_STATS, xPtr, tokens, features, undefined, { stats: statsPtr, statKind: kind === "int4" ? 1 : 0 });
  else ex.row_stats(xPtr, features, tokens, kind === "int4" ? 1 : 0, statsPtr);
  // (the whole memory's views: statsPtr and sPtr are multiples of 16)
  const { f64: stats, f32: mult } = heap.words;
  const statsAt = statsPtr >> 3;
  const multAt = sPtr >> 2;
  const scales = new Float32Array(tokens);
  const q = kind === "int8" ? 127 : SQRT7;
  const f = Math.fround;
  for (let t = 0; t < tokens; t++) {
    // int8: absmax; int4: absmean = Σ|x| / features
    const raw = kind === "int8" ? stats[statsAt + t]! : stats[statsAt + t]! / features;
    if (!(raw < Number.POSITIVE_INFINITY)) {
      for (let i = t * features; i < (t + 1) * features; i++)
        if (!Number.isFinite(x[i]!)) throw new KernelInputError(`quantizeRows x: element ${i} is ${x[i]}; expected a finite number`);
    }
    const stat = f(raw);
    const sv = f(q / guard(stat, { epsMode }));
    mult[multAt + t] = sv;
    scales[t] = epsMode === "add" ? f(stat / q) : f(1 / sv);
  }
  const [lo, hi] = kind === "int8" ? [-128, 127] : [-8, 7];
  const zeros = split
    ? runRows(ctx, ELEMENTWISE_KIND.ROW_CODES, xPtr, tokens, features, undefined, { stats: sPtr, codes: codesPtr, lo, hi })
    : ex.row_codes(xPtr, features, tokens, sPtr, lo, hi, codesPtr);
  let codes: Int8Array;
  if (out === undefined) codes = new Int8Array(heap.buffer, codesPtr, n).slice();
  else {
    if (!codesInPlace) out.set(new Int8Array(heap.buffer, codesPtr, n));
    codes = out;
  }
  return { tokens, features, codes, scales, groups: 1, bits: kind === "int4" ? 4 : 8, zeros };
}

/**
 * Unsigned KV codes to f32 (js/dequantize-unsigned.ts): out [groups·groupSize] = code·scale[g] + offset[g], codes a
 * bit stream from `bitOffset`. SIMD for byte-aligned 4-bit groups, 3- and 8-bit codes read through a 16-bit window
 * (dequant_u's scalar loop); `out` is written in place when it lives in this heap.
 */
export function dequantizeUnsigned(
  ctx: WasmContext,
  codes: Uint8Array,
  bitOffset: number,
  bits: number,
  groups: number,
  groupSize: number,
  scales: Float32Array,
  offsets: Float32Array,
  outAll: Float32Array,
  firstGroup = 0,
): void {
  ctx.alive();
  const { heap, exports: ex } = ctx;
  checkDequantizeUnsigned(codes, bitOffset, bits, groups, groupSize, scales, offsets, outAll, firstGroup);
  // groups firstGroup.. of scales, offsets and out (the bit reader below handles 3, 4 and 8 bits alike)
  scales = scales.subarray(firstGroup);
  offsets = offsets.subarray(firstGroup);
  const out = outAll.subarray(firstGroup * groupSize);
  const n = groups * groupSize;
  const byte0 = bitOffset >> 3;
  const byteEnd = Math.ceil((bitOffset + n * bits) / 8);
  // scratch: [codes from byte0][scales: f32 groups][offsets: f32 groups][out: f32 n, if not in place]
  const cBytes = (byteEnd - byte0 + 2 + 15) & ~15; // +2: the bit reader loads 16 bits at the last code
  const sBytes = (groups * 4 + 15) & ~15;
  const inPlace = heap.owns(out);
  const base = heap.scratch(cBytes + 2 * sBytes + (inPlace ? 0 : n * 4));
  const u8 = new Uint8Array(heap.buffer, base, cBytes);
  u8.set(codes.subarray(byte0, Math.min(codes.length, byteEnd + 2)));
  u8.fill(0, Math.min(codes.length, byteEnd + 2) - byte0);
  new Float32Array(heap.buffer, base + cBytes, groups).set(scales.subarray(0, groups));
  new Float32Array(heap.buffer, base + cBytes + sBytes, groups).set(offsets.subarray(0, groups));
  const outPtr = inPlace ? out.byteOffset : base + cBytes + 2 * sBytes;
  ex.dequant_u(base, bitOffset & 7, bits, groups, groupSize, base + cBytes, base + cBytes + sBytes, outPtr);
  if (!inPlace) out.set(new Float32Array(heap.buffer, outPtr, n));
}
