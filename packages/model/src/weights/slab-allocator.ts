/**
 * Byte buffers for loading a model, carved from 64 MiB slabs. A 2B4T file moves ~420 tensors of 1.6–4.4 MB
 * through the loader (each read, then its transcoded copy). Allocated one by one, buffers of that size come from
 * the C heap once glibc's dynamic mmap threshold has risen past them, and when they are freed the heap keeps the
 * pages: measured, the process stayed ~500 MB above the model after loading. A slab is one mapping of its own
 * (above glibc's largest threshold, 32 MiB), returned to the system whole once every view into it is garbage.
 * Views are 16-byte aligned and zeroed; requests under 1 MiB or of half a slab or more get their own buffer.
 */
const SLAB_BYTES = 64 * 2 ** 20;
const SMALL_BYTES = 2 ** 20;

export class SlabAllocator {
  private slab: ArrayBuffer | undefined;
  private used = 0;

  constructor(private readonly slabBytes = SLAB_BYTES) {}

  alloc(length: number): Uint8Array {
    // small buffers (a header parser's windows, kept while it lives) would pin a whole slab: the heap serves them
    if (length < SMALL_BYTES || length >= this.slabBytes / 2) return new Uint8Array(length);
    if (!this.slab || this.used + length > this.slabBytes) {
      this.slab = new ArrayBuffer(this.slabBytes);
      this.used = 0;
    }
    const view = new Uint8Array(this.slab, this.used, length);
    this.used = (this.used + length + 15) & ~15;
    return view;
  }

  /** Forget the current slab (views handed out stay valid): it goes once they do. */
  release(): void {
    this.slab = undefined;
    this.used = 0;
  }
}
