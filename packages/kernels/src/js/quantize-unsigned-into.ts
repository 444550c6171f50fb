/**
 * A low-bit KV cache write — BitNet a4.8's KV quantizer (arXiv 2411.04965 §2.3), no calibration: x [groups,
 * groupSize] (a token's heads after RoPE, one group per (token, head)) → unsigned b-bit codes per group over
 * [min, max] by @onebit/quant `quantizeUnsigned` (so bit for bit its scale (max − min)/(2^b − 1), offset min and
 * round-half-even codes), packed into the little-endian bit stream `codes` from `bitOffset` (the layout
 * dequantizeUnsigned reads), with group g's scale and offset at scales/offsets[firstGroup + g]. Bits of the
 * stream outside the written run are left as they are.
 */
import { quantizeUnsigned } from "@onebit/quant";
import { KernelInputError } from "../backend";
import { checkUnsignedCodes } from "./dequantize-unsigned";

export function quantizeUnsignedIntoImpl(
  x: Float32Array,
  groups: number,
  groupSize: number,
  bits: number,
  codes: Uint8Array,
  bitOffset: number,
  scales: Float32Array,
  offsets: Float32Array,
  firstGroup = 0,
): void {
  checkUnsignedCodes("quantizeUnsignedInto", codes.length, bitOffset, bits, groups, groupSize, scales.length, offsets.length, firstGroup);
  if (x.length !== groups * groupSize) throw new KernelInputError(`quantizeUnsignedInto x: has ${x.length} values, expected groups·groupSize = ${groups * groupSize}`);
  if (groups === 0 || groupSize === 0) return;
  const q = quantizeUnsigned(x, [groups, groupSize], { bits: bits as 3 | 4 | 8, granularity: "row" });
  scales.set(q.scales, firstGroup);
  offsets.set(q.offsets!, firstGroup);
  let bit = bitOffset;
  for (let i = 0; i < q.codes.length; i++, bit += bits) {
    // clear then set b bits from `bit` (they may straddle two bytes)
    const v = q.codes[i]!;
    for (let k = 0; k < bits; k++) {
      const at = bit + k;
      if ((v >> k) & 1) codes[at >> 3]! |= 1 << (at & 7);
      else codes[at >> 3]! &= ~(1 << (at & 7));
    }
  }
}
