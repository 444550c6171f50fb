/**
 * bfloat16: the top 16 bits of an IEEE float32 (Hugging Face checkpoints, GGUF type BF16). Decoding is exact;
 * encoding rounds to nearest even as PyTorch's `tensor.to(torch.bfloat16)` and ggml's `ggml_compute_fp32_to_bf16`
 * do (NaN stays NaN, quiet).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 bit patterns (little-endian u16s) → float32. */
export function bf16ToF32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const o32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) o32[i] = bits[i]! << 16;
  return out;
}

/** float32 → bf16 bits, round to nearest even. */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff; // NaN: keep sign, force quiet
  return ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff;
}

export function f32ToBf16(x: ArrayLike<number>, out = new Uint16Array(x.length)): Uint16Array {
  for (let i = 0; i < x.length; i++) out[i] = floatToBf16(x[i]!);
  return out;
}
