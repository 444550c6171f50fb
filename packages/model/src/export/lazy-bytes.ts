/**
 * A tensor's output bytes made only when a writer reads them, and let go once it has read the last one: an export
 * plan (gguf-export.ts) lists every tensor up front, but a conversion then holds one transcoded tensor at a time
 * instead of the whole output model (a 2B4T file: ≈ 1.1 GB) beside its source.
 */
import type { ByteRange } from "@onebit/kernels";

export class LazyBytesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LazyBytesError";
  }
}

/**
 * `length` bytes that `make` computes on the first read. Reads in order from 0 to `length` (as writeGguf's) make them
 * once; the bytes are dropped after the read that reaches the end, so a later read makes them again. `what` names the
 * tensor in the error when `make` returns the wrong number of bytes.
 */
export function lazyBytes(length: number, make: () => Uint8Array, what: string): ByteRange {
  let bytes: Uint8Array | undefined;
  return {
    length,
    copyTo(offset, into) {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > length)
        throw new LazyBytesError(`${what}: bytes [${offset}, ${offset + into.length}) are outside its ${length} bytes`);
      if (!bytes) {
        const made = make();
        if (made.length !== length) throw new LazyBytesError(`${what}: made ${made.length} bytes, expected ${length}`);
        bytes = made;
      }
      into.set(bytes.subarray(offset, offset + into.length));
      if (offset + into.length === length) bytes = undefined;
    },
  };
}
