/**
 * Bytes that stay where they are kept (a model file on disk) until a backend copies them, a piece at a time, into
 * its own memory: a loader hands these out (PackedLinearWeight.encoded) so a weight's bytes are never held twice
 * while a model is placed, and never read into memory that is only copied again.
 */
export interface ByteRange {
  readonly length: number;
  /**
   * Copies bytes [offset, offset + into.length) into `into`, synchronously. Throws (naming the file and tensor) when
   * they cannot be read, or when they fail a check the loader left to this read (e.g. one scale per tensor).
   */
  copyTo(offset: number, into: Uint8Array): void;
}

/** Bytes [offset, offset + into.length) of `bytes`, in memory or a ByteRange, into `into`. */
export function copyBytes(bytes: Uint8Array | ByteRange, offset: number, into: Uint8Array): void {
  if (bytes instanceof Uint8Array) into.set(bytes.subarray(offset, offset + into.length));
  else bytes.copyTo(offset, into);
}

/** Whether `x` is a ByteRange (a `length` and a `copyTo`), not bytes in memory. */
export function isByteRange(x: unknown): x is ByteRange {
  return typeof x === "object" && x !== null && !ArrayBuffer.isView(x) && typeof (x as ByteRange).copyTo === "function" && typeof (x as ByteRange).length === "number";
}

/**
 * A range's bytes in order, a `buffer`'s length at a time, each piece a view of that buffer, refilled for the next
 * (a writer copies a tensor still in its file through one buffer): write a piece before asking for the next.
 */
export function* rangePieces(range: ByteRange, buffer: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < range.length; at += buffer.length) {
    const piece = buffer.subarray(0, Math.min(buffer.length, range.length - at));
    range.copyTo(at, piece);
    yield piece;
  }
}
