/**
 * The synchronous reads a backend uses to place tensors left in their file (ByteSource.readSync): a file on disk
 * (reopened per read, refused once changed) and a Blob in a worker (FileReaderSync, read ahead in windows), each
 * against the bytes themselves over random reads.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { blobByteSource, fileByteSource } from "./byte-source";

const dir = mkdtempSync(join(tmpdir(), "onebit-bytes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = 40 * 2 ** 20; // past two 16 MiB windows
const bytes = Uint8Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 27);

/** Reads as a backend places a tensor: whole pieces in order, then lookups of small rows anywhere. */
/** Where `into` differs from the file's bytes at `offset` (−1: nowhere); toEqual walks megabytes far too slowly. */
function firstDifference(into: Uint8Array, offset: number): number {
  for (let i = 0; i < into.length; i++) if (into[i] !== bytes[offset + i]) return i;
  return -1;
}

const reads = fc.array(
  fc.oneof(
    fc.record({ offset: fc.integer({ min: 0, max: SIZE - 1 }), length: fc.integer({ min: 0, max: 300 }) }),
    fc.record({ offset: fc.integer({ min: 0, max: SIZE - 5_000_000 }), length: fc.integer({ min: 60_000, max: 5_000_000 }) }),
  ),
  { minLength: 1, maxLength: 12 },
);

describe("ByteSource.readSync", () => {
  it("a file on disk: the bytes at any offset; a read past the end and a changed file refused, naming the file", async () => {
    const path = join(dir, "f.bin");
    writeFileSync(path, bytes);
    const source = await fileByteSource(path);
    await source.close(); // (placement reads after the loader closed its handle)
    fc.assert(
      fc.property(reads, (rs) => {
        for (const { offset, length } of rs) {
          const into = new Uint8Array(Math.min(length, SIZE - offset));
          source.readSync!(offset, into);
          expect(firstDifference(into, offset), `${into.length} bytes at ${offset}`).toBe(-1);
        }
      }),
      { numRuns: 20 },
    );
    expect(() => source.readSync!(SIZE - 10, new Uint8Array(11))).toThrow(/f\.bin: read of 11 bytes at offset 41943030 is outside the file/);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    expect(() => source.readSync!(0, new Uint8Array(4))).toThrow(/f\.bin: changed on disk since it was opened/);
  });

  describe("a Blob in a worker (FileReaderSync)", () => {
    const g = globalThis as { FileReaderSync?: unknown };
    afterEach(() => {
      delete g.FileReaderSync;
    });

    /** A Blob over `bytes` whose slices FileReaderSync (below) reads: the reader's calls and bytes counted. */
    function fakeBlob() {
      const calls: number[] = [];
      type Slice = { start: number; end: number };
      const blob = { size: SIZE, slice: (start: number, end: number): Slice => ({ start, end }) };
      g.FileReaderSync = class {
        readAsArrayBuffer(s: Slice): ArrayBuffer {
          calls.push(s.end - s.start);
          return bytes.slice(s.start, s.end).buffer;
        }
      };
      return { blob: blob as unknown as Blob, calls };
    }

    it("the bytes at any offset; pieces read ahead in 16 MiB windows, small reads alone", () => {
      fc.assert(
        fc.property(reads, (rs) => {
          const { blob } = fakeBlob();
          const source = blobByteSource(blob, "picked.gguf");
          for (const { offset, length } of rs) {
            const into = new Uint8Array(Math.min(length, SIZE - offset));
            source.readSync!(offset, into);
            expect(firstDifference(into, offset), `${into.length} bytes at ${offset}`).toBe(-1);
          }
        }),
        { numRuns: 30 },
      );
      // a tensor of 24 MiB placed in 4 MiB pieces: two reads of the file (a window, then the rest past it)
      const { blob, calls } = fakeBlob();
      const source = blobByteSource(blob, "picked.gguf");
      const piece = new Uint8Array(4 * 2 ** 20);
      for (let at = 0; at < 24 * 2 ** 20; at += piece.length) source.readSync!(at, piece);
      expect(calls).toEqual([16 * 2 ** 20, 16 * 2 ** 20]);
      // a row looked up past the window: just its bytes (one inside it: none)
      source.readSync!(20_000_000, new Uint8Array(5120));
      expect(calls).toHaveLength(2);
      source.readSync!(35_000_000, new Uint8Array(5120));
      expect(calls.at(-1)).toBe(5120);
    });

    it("a short read (the file changed since it was picked) is refused, naming it; no FileReaderSync, no readSync", () => {
      const { blob } = fakeBlob();
      g.FileReaderSync = class {
        readAsArrayBuffer(): ArrayBuffer {
          return new ArrayBuffer(3);
        }
      };
      expect(() => blobByteSource(blob, "picked.gguf").readSync!(0, new Uint8Array(8))).toThrow(/picked\.gguf: read 3 bytes at offset 0, expected 8 \(changed on disk\?\)/);
      delete g.FileReaderSync;
      expect(blobByteSource(blob, "picked.gguf").readSync).toBeUndefined();
    });
  });
});
