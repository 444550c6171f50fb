/**
 * Reusable host buffers for a forward pass's temporaries: the gate and up outputs of a feed-forward block, the
 * norms' outputs — tensors that live from one kernel call to the next and are dead before their layer runs again.
 * A fresh Float32Array for each costs an allocation and, for the megabytes of a prompt, page faults on first touch
 * (on a VM ≈ 1 ms per 1 MB: a 2B4T prompt of 128 tokens made three 3.5 MB temporaries per layer); a slot's buffer
 * is kept and handed out again.
 *
 * `f32(slot, length)` returns `length` floats of the slot's buffer (its contents are whatever the last user left),
 * valid until the same slot is asked for again. A slot grows to the largest length asked, up to `maxBytes`; a larger
 * request gets a fresh array that is not kept, so one long prompt does not pin its activations' memory for the rest
 * of a session. `alloc` / `free` place the buffers: a backend's `allocF32` / `freeF32` puts them in its own memory
 * (the wasm backend's kernels then read and write them in place, no copies across the JS/wasm boundary).
 */
import { LayerSpecError } from "./layer-spec-error";

export interface WorkspaceOptions {
  /** The most bytes one slot keeps (default 16 MiB). */
  maxBytes?: number;
  /** Where a slot's buffer comes from (default: a new Float32Array). */
  alloc?: (length: number) => Float32Array;
  /** Gives a slot's buffer back when the slot grows or is cleared. */
  free?: (buffer: Float32Array) => void;
}

export class Workspace {
  private readonly slots = new Map<string, Float32Array>();
  /** The int8 views of the slots i8 hands out (kept: a view of wasm memory costs a microsecond to make). */
  private readonly bytes8 = new Map<string, Int8Array>();
  /** The last shorter view of each slot handed out (a decode step after a prompt asks its slots for one row, hundreds of times). */
  private readonly heads = new Map<string, Float32Array>();
  private readonly heads8 = new Map<string, Int8Array>();
  readonly maxBytes: number;
  private readonly alloc: (length: number) => Float32Array;
  private readonly free: (buffer: Float32Array) => void;

  constructor(options: WorkspaceOptions = {}) {
    this.maxBytes = options.maxBytes ?? 16 * 2 ** 20;
    if (!(this.maxBytes >= 0)) throw new LayerSpecError(`workspace maxBytes: expected a number ≥ 0, got ${options.maxBytes}`);
    this.alloc = options.alloc ?? ((length) => new Float32Array(length));
    this.free = options.free ?? (() => {});
  }

  /** `length` floats of `slot`'s buffer (not zeroed), until `slot` is asked for again. */
  f32(slot: string, length: number): Float32Array {
    if (!Number.isInteger(length) || length < 0) throw new LayerSpecError(`workspace ${slot}: expected a length ≥ 0, got ${length}`);
    if (length * 4 > this.maxBytes) return new Float32Array(length);
    let buf = this.slots.get(slot);
    if (!buf || buf.length < length) {
      if (buf) this.free(buf);
      buf = this.alloc(length);
      this.slots.set(slot, buf);
    }
    return headOf(this.heads, slot, buf, length);
  }

  /**
   * `length` int8 values in `slot` (a float slot of ⌈length/4⌉, viewed as bytes: placed by `alloc` like every slot),
   * until `slot` is asked for again.
   */
  i8(slot: string, length: number): Int8Array {
    if (!Number.isInteger(length) || length < 0) throw new LayerSpecError(`workspace ${slot}: expected a length ≥ 0, got ${length}`);
    const f = this.f32(slot, Math.ceil(length / 4));
    let view = this.bytes8.get(slot);
    if (!view || view.buffer !== f.buffer || view.byteOffset !== f.byteOffset || view.length < length) {
      view = new Int8Array(f.buffer, f.byteOffset, f.length * 4);
      this.bytes8.set(slot, view);
    }
    return headOf(this.heads8, slot, view, length);
  }

  /** Bytes held by every slot. */
  get bytes(): number {
    let n = 0;
    for (const b of this.slots.values()) n += b.byteLength;
    return n;
  }

  /** Give every buffer back (`free`; plain arrays are collected once no one holds them). */
  clear(): void {
    for (const b of this.slots.values()) this.free(b);
    this.slots.clear();
    this.bytes8.clear();
    this.heads.clear();
    this.heads8.clear();
  }
}

/** The first `length` values of `slot`'s buffer: the buffer itself, else the view handed out last when it still fits. */
function headOf<T extends Float32Array | Int8Array>(heads: Map<string, T>, slot: string, buf: T, length: number): T {
  if (buf.length === length) return buf;
  let head = heads.get(slot);
  if (!head || head.length !== length || head.buffer !== buf.buffer || head.byteOffset !== buf.byteOffset) {
    head = buf.subarray(0, length) as T;
    heads.set(slot, head);
  }
  return head;
}
