/**
 * Random access to the bytes of a model file without holding it in memory: a Node file handle or a browser
 * Blob/File. Parsers read headers first and each tensor's bytes on demand through this, so a model is never
 * held twice while it loads.
 */
import { OnebitError } from "@onebit/quant";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { SlabAllocator } from "./slab-allocator";

export interface ByteSource {
  /** Where the bytes come from, for error messages (a path, a URL or a file name). */
  readonly name: string;
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes from `offset` (a fresh, owned, 8-byte-aligned view; it may share its ArrayBuffer with
   * other reads, so use its byteOffset). Throws if out of range.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Bytes [offset, offset + into.length) into `into`, synchronously — where the source can (a file on disk), for a
   * backend that copies a tensor a piece at a time into its own memory after the load (kernels' ByteRange). Usable
   * after close(); throws if the file changed since it was opened.
   */
  readonly readSync?: (offset: number, into: Uint8Array) => void;
  close(): Promise<void>;
}

export class ByteRangeError extends OnebitError {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super("BYTE_RANGE", `${source}: ${message}`);
    this.name = "ByteRangeError";
  }
}

function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size)
    throw new ByteRangeError(name, `read of ${length} bytes at offset ${offset} is outside the file (${size} bytes)`);
}

/**
 * Slab size of a file's reads: every new ArrayBuffer adds to V8's external memory, and each 64 MiB of it set off a
 * scavenge and an incremental mark-compact over a heap that already holds the vocabulary's strings — ≈ 0.2 s of a
 * 2B4T load (816 MB of tensors). Untouched slab pages are never resident.
 */
const READ_SLAB_BYTES = 256 * 2 ** 20;

/**
 * A file on disk, read with positioned reads (no mapping, no whole-file buffer). Reads are carved from slabs
 * (slab-allocator.ts): a loader's many megabyte-sized reads then leave no heap pages behind.
 */
export async function fileByteSource(path: string): Promise<ByteSource> {
  const handle = await open(path, "r");
  const opened = await handle.stat();
  const { size } = opened;
  const buffers = new SlabAllocator(READ_SLAB_BYTES);
  return {
    name: path,
    size,
    // the file opened again for each read (a tensor's few pieces): the loader's handle is closed by then, and a
    // file replaced or rewritten since the load is refused rather than read as the model it no longer is
    readSync(offset, into) {
      const length = into.length;
      checkRange(path, size, offset, length);
      const fd = openSync(path, "r");
      try {
        const now = fstatSync(fd);
        if (now.ino !== opened.ino || now.dev !== opened.dev || now.size !== size || now.mtimeMs !== opened.mtimeMs)
          throw new ByteRangeError(path, `changed on disk since it was opened (${size} bytes, modified ${new Date(opened.mtimeMs).toISOString()}; now ${now.size} bytes, modified ${new Date(now.mtimeMs).toISOString()})`);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, into, done, length - done, offset + done);
          if (n === 0) throw new ByteRangeError(path, `file ended at byte ${offset + done} while reading ${length} bytes at ${offset} (changed on disk?)`);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
    },
    async read(offset, length) {
      checkRange(path, size, offset, length);
      const out = buffers.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new ByteRangeError(path, `file ended at byte ${offset + done} while reading ${length} bytes at ${offset} (changed on disk?)`);
        done += bytesRead;
      }
      return out;
    },
    close: () => {
      buffers.release();
      return handle.close();
    },
  };
}

/** Bytes already in memory (tests, fuzzing, a fetched file). */
export function memoryByteSource(bytes: Uint8Array, name = "memory"): ByteSource {
  return {
    name,
    size: bytes.length,
    async read(offset, length) {
      checkRange(name, bytes.length, offset, length);
      return bytes.slice(offset, offset + length);
    },
    close: async () => {},
  };
}

/** FileReaderSync, where the scope has it (a Web Worker's: the web app's model worker). */
type FileReaderSyncClass = new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer };

/**
 * Bytes a synchronous Blob read fetches at once: a backend asks for a tensor in pieces of a few hundred KB to a few
 * MB, in order, and each FileReaderSync call costs a round trip to the browser's file reader (a 2B4T file's ≈ 1400
 * pieces one by one opened it 4–5 s slower than reading it ahead; 16 MiB windows, one held at a time, do not).
 * Reads smaller than SYNC_WINDOW_FROM read just their bytes: an untied table's row, looked up per token, and the
 * loader's look at each TQ2_0 tensor's first blocks for its scale (a window there read 16 MiB a tensor).
 */
const SYNC_WINDOW_BYTES = 16 * 2 ** 20;
const SYNC_WINDOW_FROM = 128 * 2 ** 10;

/**
 * A browser Blob or File (the web app's file picker): slices are read one at a time. In a worker a slice can also be
 * read synchronously (FileReaderSync), so a backend places the model's large tensors a piece at a time from the file.
 */
export function blobByteSource(blob: Blob, name = (blob as { name?: string }).name ?? "blob"): ByteSource {
  const ReaderSync = (globalThis as { FileReaderSync?: FileReaderSyncClass }).FileReaderSync;
  // the last window read synchronously: [start, start + bytes.length) of the blob
  let window: { start: number; bytes: Uint8Array } | undefined;
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(name, blob.size, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
    // (a File changed on disk since it was picked fails to read: the browser's NotReadableError)
    readSync: ReaderSync
      ? (offset, into) => {
          checkRange(name, blob.size, offset, into.length);
          if (!window || offset < window.start || offset + into.length > window.start + window.bytes.length) {
            window = undefined; // (the old window goes before the new one is read)
            const end = Math.min(blob.size, offset + (into.length < SYNC_WINDOW_FROM ? into.length : Math.max(into.length, SYNC_WINDOW_BYTES)));
            const bytes = new ReaderSync().readAsArrayBuffer(blob.slice(offset, end));
            if (bytes.byteLength !== end - offset) throw new ByteRangeError(name, `read ${bytes.byteLength} bytes at offset ${offset}, expected ${end - offset} (changed on disk?)`);
            window = { start: offset, bytes: new Uint8Array(bytes) };
          }
          into.set(window.bytes.subarray(offset - window.start, offset - window.start + into.length));
        }
      : undefined,
    close: async () => {},
  };
}
