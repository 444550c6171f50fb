/**
 * The tensor-parallel exchange between G worker threads over one SharedArrayBuffer: a generation barrier
 * (Atomics.wait/notify) and an all-reduce whose sum is taken in shard order 0, 1, …, G−1 by every worker, so all
 * shards get bit-identical results. Layout: Int32 control words [arrived, generation], then G slots of
 * `slotFloats` float32 each. Exposed to TrainableModel as Megatron's f (enterParallel) and g (allReduce).
 */
import { tf } from "./tf-backend";
import type { ShardContext } from "./trainable-model";

const CONTROL_BYTES = 64;

export function createExchangeBuffer(count: number, slotFloats: number): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + count * slotFloats * 4);
}

export class ShardExchange {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  readonly slotFloats: number;

  constructor(
    buffer: SharedArrayBuffer,
    readonly index: number,
    readonly count: number,
  ) {
    this.control = new Int32Array(buffer, 0, 2);
    this.slotFloats = (buffer.byteLength - CONTROL_BYTES) / 4 / count;
    this.slots = new Float32Array(buffer, CONTROL_BYTES, this.slotFloats * count);
  }

  barrier(): void {
    const gen = Atomics.load(this.control, 1);
    if (Atomics.add(this.control, 0, 1) === this.count - 1) {
      Atomics.store(this.control, 0, 0);
      Atomics.add(this.control, 1, 1);
      Atomics.notify(this.control, 1);
    } else while (Atomics.load(this.control, 1) === gen) Atomics.wait(this.control, 1, gen);
  }

  /** Element-wise sum of every shard's `values` (same length on every shard). */
  sum(values: Float32Array): Float32Array {
    const n = values.length;
    const out = new Float32Array(n);
    for (let off = 0; off < n; off += this.slotFloats) {
      const len = Math.min(this.slotFloats, n - off);
      this.slots.set(values.subarray(off, off + len), this.index * this.slotFloats);
      this.barrier();
      for (let g = 0; g < this.count; g++) {
        const base = g * this.slotFloats;
        for (let i = 0; i < len; i++) out[off + i] = out[off + i]! + this.slots[base + i]!;
      }
      this.barrier(); // nobody refills a slot before everyone has read it
    }
    return out;
  }

  sumScalar(x: number): number {
    return this.sum(Float32Array.of(x))[0]!;
  }

  /** The ShardContext a TrainableModel shard needs. */
  context(): ShardContext {
    const sumTensor = (t: tf.Tensor) => tf.tensor(this.sum(t.dataSync() as Float32Array), t.shape, "float32");
    const allReduce = tf.customGrad(((x: tf.Tensor) => ({ value: sumTensor(x), gradFunc: (dy: tf.Tensor) => dy })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (t: tf.Tensor) => tf.Tensor;
    const enterParallel = tf.customGrad(((x: tf.Tensor) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => sumTensor(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (t: tf.Tensor) => tf.Tensor;
    return { index: this.index, count: this.count, allReduce, enterParallel };
  }
}
