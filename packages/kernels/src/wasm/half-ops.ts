/**
 * An f16 KV store decoded on the wasm backend: decodeHalf by `f16_decode` (ggml-decode.wat.ts, sixteen halves a step,
 * exact: js/half-codes.ts's table gives the same bits). A store that lives in wasm memory (a KV cache placed by this
 * backend, @onebit/kv) is read in place and the output written in place when it lives there too (the cache's decode
 * scratch); anything else goes through scratch. Decode at a long context reads every position of a layer at every
 * step (512 positions: ≈ 20 M halves a step for the 2B4T shape), which the reference's table lookup made the larger
 * part of a step.
 */
import { checkDecodeHalf } from "../js/half-codes";
import type { WasmContext } from "./context";

export function decodeHalf(ctx: WasmContext, src: Uint16Array, srcOffset: number, length: number, out: Float32Array): void {
  ctx.alive();
  checkDecodeHalf(src.length, srcOffset, length, out.length);
  if (length === 0) return;
  const { heap, exports } = ctx;
  const srcInPlace = heap.owns(src);
  const outInPlace = heap.owns(out);
  // scratch: [halves, unless in place: 2·length bytes, 16-aligned][f32 out, unless in place]
  const srcBytes = srcInPlace ? 0 : (2 * length + 15) & ~15;
  const base = srcInPlace && outInPlace ? 0 : heap.scratch(srcBytes + (outInPlace ? 0 : 4 * length));
  const srcPtr = srcInPlace ? src.byteOffset + 2 * srcOffset : base;
  if (!srcInPlace) new Uint16Array(heap.buffer, base, length).set(src.subarray(srcOffset, srcOffset + length));
  const outPtr = outInPlace ? out.byteOffset : base + srcBytes;
  exports.f16_decode(srcPtr, length, outPtr);
  if (!outInPlace) out.set(new Float32Array(heap.buffer, outPtr, length));
}
