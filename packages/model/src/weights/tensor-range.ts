/**
 * A tensor's bytes left in its file, as a ByteRange a backend or writer reads a piece at a time (WeightSource.range):
 * the GGUF and safetensors sources hand these out where the file can be read synchronously (ByteSource.readSync: a
 * file on disk, a Blob in a Web Worker). Reads are bounded to the tensor; a file gone, unreadable or changed since
 * it was opened fails the read, naming the file and tensor.
 */
import type { ByteRange } from "@onebit/kernels";
import { ByteRangeError, type ByteSource } from "./byte-source";
import { ModelFileError } from "./weight-source";

export function tensorRange(source: ByteSource, path: string, field: string, fileOffset: number, byteLength: number): ByteRange | undefined {
  const readSync = source.readSync;
  if (!readSync) return undefined;
  return {
    length: byteLength,
    copyTo(offset, into) {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + into.length > byteLength)
        throw new ModelFileError(path, field, `read of ${into.length} bytes at ${offset} is outside its ${byteLength} bytes`);
      try {
        readSync(fileOffset + offset, into);
      } catch (err) {
        if (err instanceof ByteRangeError || (err as { code?: unknown }).code !== undefined) throw new ModelFileError(path, field, (err as Error).message);
        throw err;
      }
    },
  };
}
