/**
 * Unsigned b-bit min–max codes back to float32 — BitNet a4.8's KV quantizer (arXiv 2411.04965 §2.3) (@onebit/quant quantizeUnsigned), stored as
 * @onebit/kv packs them: a little-endian bit stream (code k of the run at bits bitOffset + k·b … + b − 1), in
 * `groups` groups of `groupSize` codes, each with its own scale and offset:
 *   out[g·groupSize + i] = float32(float32(code · scales[g]) + offsets[g])
 * b is 3 or 4 (a4.8's low-bit KV) or 8 (one byte per code: the 8-bit cache those are compared against). With
 * `firstGroup` f the groups are f.. of scales, offsets and out (the codes still start at bitOffset).
 */
import { KernelInputError } from "../backend";

export const UNSIGNED_CODE_BITS = [3, 4, 8] as const;

/**
 * Shape checks shared by every backend (lengths only, so a device backend checks its tensors with them): groups
 * [firstGroup, firstGroup + groups) of scales, offsets and out, codes a stream of `codeBytes` bytes.
 */
export function checkUnsignedCodes(
  kernel: string,
  codeBytes: number,
  bitOffset: number,
  bits: number,
  groups: number,
  groupSize: number,
  scales: number,
  offsets: number,
  firstGroup: number,
  /** The decoded values (dequantizeUnsigned's out), checked to hold groups [0, firstGroup + groups). */
  values?: { name: string; length: number },
): void {
  if (!(UNSIGNED_CODE_BITS as readonly number[]).includes(bits)) throw new KernelInputError(`${kernel} bits: expected 3, 4 or 8, got ${bits}`);
  for (const [k, v] of [["bitOffset", bitOffset], ["groups", groups], ["groupSize", groupSize], ["firstGroup", firstGroup]] as const)
    if (!Number.isInteger(v) || v < 0) throw new KernelInputError(`${kernel} ${k}: expected a non-negative integer, got ${v}`);
  const n = groups * groupSize;
  if (codeBytes * 8 < bitOffset + n * bits) throw new KernelInputError(`${kernel} codes: ${codeBytes} bytes end before bit ${bitOffset + n * bits}`);
  const end = firstGroup + groups;
  if (scales < end || offsets < end)
    throw new KernelInputError(`${kernel} scales/offsets: ${scales}/${offsets} values, expected at least ${end} (groups ${firstGroup}..${end - 1})`);
  if (values && values.length < end * groupSize) throw new KernelInputError(`${kernel} ${values.name}: has ${values.length} values, expected at least ${end * groupSize}`);
}

export function checkDequantizeUnsigned(codes: Uint8Array, bitOffset: number, bits: number, groups: number, groupSize: number, scales: Float32Array, offsets: Float32Array, out: Float32Array, firstGroup = 0): void {
  checkUnsignedCodes("dequantizeUnsigned", codes.length, bitOffset, bits, groups, groupSize, scales.length, offsets.length, firstGroup, { name: "out", length: out.length });
}

/** Groups [firstGroup, firstGroup + groups) of scales, offsets and out; codes from bitOffset. */
export function dequantizeUnsignedImpl(
  codes: Uint8Array,
  bitOffset: number,
  bits: number,
  groups: number,
  groupSize: number,
  scales: Float32Array,
  offsets: Float32Array,
  out: Float32Array,
  firstGroup = 0,
): void {
  checkDequantizeUnsigned(codes, bitOffset, bits, groups, groupSize, scales, offsets, out, firstGroup);
  const mask = (1 << bits) - 1;
  let bit = bitOffset;
  for (let g = firstGroup; g < firstGroup + groups; g++) {
    const scale = scales[g]!;
    const offset = offsets[g]!;
    for (let i = 0; i < groupSize; i++, bit += bits) {
      // a code of b ≤ 8 bits starting at bit (bit & 7) of a byte ends within the next one
      const word = codes[bit >> 3]! | ((codes[(bit >> 3) + 1] ?? 0) << 8);
      out[g * groupSize + i] = Math.fround(((word >> (bit & 7)) & mask) * scale) + offset;
    }
  }
}
