/**
 * Unsigned b-bit min–max codes back to float32 — BitNet a4.8's KV quantizer (arXiv 2411.04965 §2.3) (@onebit/quant quantizeUnsigned), stored as
 * @onebit/kv packs them: a little-endian bit stream (code k of the run at bits bitOffset + k·b … + b − 1), in
 * `groups` groups of `groupSize` codes, each with its own scale and offset:
 *   out[g·groupSize + i] = float32(float32(code · scales[g]) + offsets[g])
 */
import { KernelInputError } from "../backend";

export function checkDequantizeUnsigned(codes: Uint8Array, bitOffset: number, bits: number, groups: number, groupSize: number, scales: Float32Array, offsets: Float32Array, out: Float32Array): void {
  if (bits !== 3 && bits !== 4) throw new KernelInputError(`dequantizeUnsigned bits: expected 3 or 4, got ${bits}`);
  for (const [k, v] of [["bitOffset", bitOffset], ["groups", groups], ["groupSize", groupSize]] as const)
    if (!Number.isInteger(v) || v < 0) throw new KernelInputError(`dequantizeUnsigned ${k}: expected a non-negative integer, got ${v}`);
  const n = groups * groupSize;
  if (codes.length * 8 < bitOffset + n * bits) throw new KernelInputError(`dequantizeUnsigned codes: ${codes.length} bytes end before bit ${bitOffset + n * bits}`);
  if (scales.length < groups || offsets.length < groups) throw new KernelInputError(`dequantizeUnsigned scales/offsets: ${scales.length}/${offsets.length} values for ${groups} groups`);
  if (out.length < n) throw new KernelInputError(`dequantizeUnsigned out: has ${out.length} values, expected at least ${n}`);
}

export function dequantizeUnsignedImpl(codes: Uint8Array, bitOffset: number, bits: number, groups: number, groupSize: number, scales: Float32Array, offsets: Float32Array, out: Float32Array): void {
  checkDequantizeUnsigned(codes, bitOffset, bits, groups, groupSize, scales, offsets, out);
  const mask = (1 << bits) - 1;
  let bit = bitOffset;
  for (let g = 0; g < groups; g++) {
    const scale = scales[g]!;
    const offset = offsets[g]!;
    for (let i = 0; i < groupSize; i++, bit += bits) {
      // b ≤ 4 bits may straddle a byte boundary
      const word = codes[bit >> 3]! | ((codes[(bit >> 3) + 1] ?? 0) << 8);
      out[g * groupSize + i] = Math.fround(((word >> (bit & 7)) & mask) * scale) + offset;
    }
  }
}
