/**
 * Memory management over the backend's one shared WebAssembly.Memory: the allocator (Heap) and the f32 arrays the
 * backend hands out for KV caches (KvArrays).
 */
import { KernelInputError } from "../backend";

const PAGE = 65536;

/**
 * An allocator over the shared memory: first fit from a free list (neighbours coalesced), else bump the top.
 * Weights live as long as the backend; KV caches (allocF32) come and go with generation requests, so their
 * blocks are returned and reused. Scratch space is reused between calls and replaced when a call needs more.
 * Every block is 16-byte aligned (one v128).
 */
export class Heap {
  private top = 1024; // keep address 0 free: 0 means "no mask"
  /**
   * Every byte at or past this address has never been handed out, so it is still zero (memory.grow adds zeroed
   * pages, and nothing else writes the heap). A zeroed allocation clears only what lies below it: a 4096-token
   * 2B4T KV cache (629 MB) was cleared page by page, ≈ 2 s of page faults, before its first token.
   */
  private clean = 1024;
  private readonly live = new Map<number, number>();
  /** free blocks, sorted by address, never adjacent (coalesced) */
  private readonly blocks: Array<{ ptr: number; size: number }> = [];
  private scratchPtr = 0;
  private scratchSize = 0;
  /** Every SharedArrayBuffer this memory has handed out (one per size after growth): views on them live in the heap. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** The newest of them, what nearly every view asked about lies on (the WeakSet lookups took ≈ 0.1 ms of a 2B4T decode step's profile). */
  private latest: ArrayBufferLike | undefined;
  constructor(readonly memory: WebAssembly.Memory) {}

  /**
   * A block of at least `bytes` (16-byte aligned); `zero`: its bytes are 0, else whatever its last owner left.
   * `prefault`: with `zero`, also write the first that many bytes of it now (zeros over zeros), so their pages are
   * mapped before the caller's timed work touches them (a page's first touch costs ≈ 11 µs on a 2-vCPU VM).
   */
  alloc(bytes: number, options: { zero?: boolean; prefault?: number } = {}): number {
    const size = Math.max(16, (bytes + 15) & ~15);
    const ptr = this.place(size);
    this.live.set(ptr, size);
    if (options.zero) {
      const end = Math.min(ptr + size, Math.max(this.clean, ptr + (options.prefault ?? 0)));
      if (end > ptr) new Uint8Array(this.memory.buffer, ptr, end - ptr).fill(0);
    }
    this.clean = Math.max(this.clean, ptr + size);
    return ptr;
  }

  /** First fit from the free list, else the top (the memory grown to hold it). */
  private place(size: number): number {
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) this.blocks.splice(i, 1);
      else {
        b.ptr += size;
        b.size -= size;
      }
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new KernelInputError(`wasm backend: no allocation at ${ptr} to release`);
    this.live.delete(ptr);
    let i = 0;
    while (i < this.blocks.length && this.blocks[i]!.ptr < ptr) i++;
    this.blocks.splice(i, 0, { ptr, size });
    const next = this.blocks[i + 1];
    if (next && ptr + size === next.ptr) {
      this.blocks[i]!.size += next.size;
      this.blocks.splice(i + 1, 1);
    }
    const prev = this.blocks[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.blocks[i]!.size;
      this.blocks.splice(i, 1);
      i--;
    }
    const last = this.blocks[this.blocks.length - 1]!;
    if (last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.blocks.pop();
    }
  }

  /** A scratch region of at least `bytes`, valid until the next scratch() call. */
  scratch(bytes: number): number {
    if (bytes > this.scratchSize) {
      if (this.scratchPtr) this.release(this.scratchPtr);
      this.scratchSize = Math.max(bytes, this.scratchSize * 2);
      this.scratchPtr = this.alloc(this.scratchSize);
    }
    return this.scratchPtr;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new KernelInputError(`wasm backend: cannot grow memory to ${Math.ceil(end / 2 ** 20)} MiB (${(e as Error).message}); the 32-bit wasm address space holds at most 4 GiB`);
    }
  }

  /** The memory's current buffer (shared memory never detaches: older views stay valid). */
  get buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    if (b !== this.latest) {
      this.buffers.add(b);
      this.latest = b;
    }
    return b;
  }

  /** Whether a view lies in this heap (then its byteOffset is its wasm address). */
  owns(view: ArrayBufferView): boolean {
    const b = view.buffer;
    return b === this.latest || this.buffers.has(b);
  }

  /**
   * Views of the whole memory as float64 and float32 (made again only after the memory grows): a handful of values
   * read or written at an address without a view made for them (≈ 0.1 µs each, and garbage, a dozen a decode layer).
   */
  get words(): { f64: Float64Array; f32: Float32Array } {
    const b = this.buffer;
    if (this.wordViews?.f64.buffer !== b) this.wordViews = { f64: new Float64Array(b), f32: new Float32Array(b) };
    return this.wordViews;
  }
  private wordViews: { f64: Float64Array; f32: Float32Array } | undefined;

  get u8(): Uint8Array {
    return new Uint8Array(this.buffer);
  }
}

/**
 * Bytes at the start of each allocF32 array whose pages are mapped at once; the rest map on first write. A KV
 * cache's arrays (one per layer for K and one for V) then serve their first positions without page faults — 409
 * positions of the 2B4T shape (5 KV heads × 128 × f32 = 2560 bytes each) — while a 4096-token cache (629 MB) is
 * ready in ≈ 0.2 s instead of 1.7–2.7 s of clearing. (Measured: leaving every page to its first write cost a
 * 2-thread 2B4T decode step ≈ 1 ms of page faults in its KV writes.)
 */
export const KV_PREFAULT_BYTES = 1 << 20;

/**
 * The backend's allocF32 / freeF32: zeroed f32 arrays placed in the heap, so the attention kernels read a KV store
 * in place instead of copying it per call. A block is returned by free() or when its view is garbage-collected
 * (not after dispose: the memory goes as a whole then).
 */
export class KvArrays {
  private readonly allocated = new WeakMap<Float32Array, number>();
  private readonly collected: FinalizationRegistry<number>;

  constructor(
    private readonly heap: Heap,
    private readonly disposed: () => boolean,
  ) {
    this.collected = new FinalizationRegistry<number>((ptr) => {
      if (!disposed()) heap.release(ptr);
    });
  }

  alloc(length: number): Float32Array {
    if (!Number.isInteger(length) || length < 0) throw new KernelInputError(`allocF32 length: expected a non-negative integer, got ${length}`);
    const ptr = this.heap.alloc(length * 4, { zero: true, prefault: KV_PREFAULT_BYTES });
    const view = new Float32Array(this.heap.buffer, ptr, length);
    this.allocated.set(view, ptr);
    this.collected.register(view, ptr, view);
    return view;
  }

  free(view: Float32Array): void {
    const ptr = this.allocated.get(view);
    if (ptr === undefined) throw new KernelInputError("freeF32: the array was not allocated by this wasm backend's allocF32 (or was freed already)");
    this.allocated.delete(view);
    this.collected.unregister(view);
    if (!this.disposed()) this.heap.release(ptr);
  }
}
