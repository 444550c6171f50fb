/**
 * What every conformance case file shares: a seeded generator for test data and the bit-for-bit comparison
 * against the js reference (Object.is: −0 and NaN payload-free equality count).
 */
import type { ByteRange } from "./contract/byte-range";

/** xorshift32: the same stream in Node and in the browser pages that run the cases. */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Throws unless `got` equals `want` value for value, naming the first difference. */
export function identical(where: string, got: ArrayLike<number>, want: ArrayLike<number>, what = "value"): void {
  if (got.length !== want.length) throw new Error(`${where}: ${got.length} ${what}s, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`${where}: ${what} ${i} is ${got[i]}, the js reference gives ${want[i]}`);
}

/** `bytes` as a ByteRange (a loader's file read on demand): every piece asked for must lie within them. */
export function rangeOver(bytes: Uint8Array, what: string): ByteRange {
  return {
    length: bytes.length,
    copyTo(offset, into) {
      if (!Number.isInteger(offset) || offset < 0 || offset + into.length > bytes.length) throw new Error(`${what}: copyTo(${offset}, ${into.length} bytes) outside its ${bytes.length} bytes`);
      into.set(bytes.subarray(offset, offset + into.length));
    },
  };
}
