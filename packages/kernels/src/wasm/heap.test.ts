import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Heap, KvArrays } from "./heap";

const memory = () => new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });

/** The first non-zero byte of [ptr, ptr + bytes), or -1. */
function firstNonZero(heap: Heap, ptr: number, bytes: number): number {
  const u8 = new Uint8Array(heap.buffer, ptr, bytes);
  return u8.findIndex((b) => b !== 0);
}

describe("wasm heap", () => {
  it("a zeroed block reused after its last owner wrote it is cleared; past the high-water mark nothing is touched", () => {
    const heap = new Heap(memory());
    const a = heap.alloc(100);
    new Uint8Array(heap.buffer, a, 112).fill(0xff);
    heap.release(a);
    // the same address again (the top came back down), now longer: its first 112 bytes were written
    const b = heap.alloc(5000, { zero: true });
    expect(b).toBe(a);
    expect(firstNonZero(heap, b, 5000)).toBe(-1);
    // not asked to be zero: the last owner's bytes stay (this is what makes the zeroed path cost something)
    new Uint8Array(heap.buffer, b, 16).fill(7);
    heap.release(b);
    const c = heap.alloc(16);
    expect(c).toBe(b);
    expect(new Uint8Array(heap.buffer, c, 16)[0]).toBe(7);
  });

  it("a large zeroed block on fresh memory costs no clearing: its pages are still the grown memory's zeros", () => {
    const mem = memory();
    const heap = new Heap(mem);
    const ptr = heap.alloc(64 << 20, { zero: true });
    expect(mem.buffer.byteLength).toBeGreaterThanOrEqual(ptr + (64 << 20));
    expect(firstNonZero(heap, ptr, 64 << 20)).toBe(-1);
  });

  it("every zeroed block reads as zeros, whatever came before (random alloc/write/release sequences)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("alloc" as const), bytes: fc.integer({ min: 1, max: 70_000 }), zero: fc.boolean(), prefault: fc.constantFrom(0, 100, 1 << 20) }),
      fc.record({ kind: fc.constant("release" as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const heap = new Heap(memory());
        const live: Array<{ ptr: number; bytes: number }> = [];
        for (const o of ops) {
          if (o.kind === "release") {
            if (live.length === 0) continue;
            const [blk] = live.splice(o.which % live.length, 1);
            heap.release(blk!.ptr);
            continue;
          }
          const ptr = heap.alloc(o.bytes, { zero: o.zero, prefault: o.prefault });
          if (o.zero && firstNonZero(heap, ptr, o.bytes) !== -1) return false;
          // live blocks never overlap
          for (const l of live) if (ptr < l.ptr + l.bytes && l.ptr < ptr + o.bytes) return false;
          live.push({ ptr, bytes: o.bytes });
          // its owner scribbles over all of it
          new Uint8Array(heap.buffer, ptr, o.bytes).fill(0xa5);
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it("prefault writes the first bytes of a fresh zeroed block (zeros) and never past the block", () => {
    const heap = new Heap(memory());
    const ptr = heap.alloc(3000, { zero: true, prefault: 1 << 20 });
    const next = heap.alloc(64);
    new Uint8Array(heap.buffer, next, 64).fill(9);
    heap.release(ptr);
    // re-zeroing the first block (dirty now) must leave its neighbour alone
    const again = heap.alloc(3000, { zero: true, prefault: 1 << 20 });
    expect(again).toBe(ptr);
    expect(firstNonZero(heap, again, 3000)).toBe(-1);
    expect(new Uint8Array(heap.buffer, next, 64).every((b) => b === 9)).toBe(true);
  });

  it("allocF32 hands out zeroed arrays, reused blocks included", () => {
    const heap = new Heap(memory());
    const kv = new KvArrays(heap, () => false);
    const a = kv.alloc(1000);
    a.fill(-3.5);
    kv.free(a);
    const b = kv.alloc(2000);
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(b.every((v) => Object.is(v, 0))).toBe(true);
  });
});
