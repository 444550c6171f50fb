/**
 * Training batches, shared by every executor of the training loop (single thread, tensor-parallel shards, the
 * browser): the deterministic batch of each step and validation loss. Browser-safe (no file system).
 */
import { tf } from "./tf-backend";
import type { TrainableModel } from "./trainable-model";

/** A deterministic function of (seed, step): the rows of that step's batch (resume reproduces them exactly). */
export function batchRows(seed: number, step: number, batchSize: number, rows: number): number[] {
  let s = (seed * 0x9e3779b1 + step * 0x85ebca77 + 0x165667b1) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < batchSize; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.push((s >>> 0) % rows);
  }
  return out;
}

/** rows[idx[i]] stacked: [idx.length, seqLen + 1] int32. */
export function makeBatch(rows: Int32Array[], idx: number[]): tf.Tensor2D {
  const len = rows[0]!.length;
  const flat = new Int32Array(idx.length * len);
  idx.forEach((r, i) => {
    flat.set(rows[r]!, i * len);
  });
  return tf.tensor2d(flat, [idx.length, len], "int32");
}

/** Mean next-token loss over the first maxBatches·batchSize rows (in order, so every call sees the same ones). */
export function evaluate(model: TrainableModel, rows: Int32Array[], batchSize: number, maxBatches: number): number {
  let total = 0;
  let n = 0;
  for (let b = 0; b < maxBatches && b * batchSize < rows.length; b++) {
    const idx = Array.from({ length: Math.min(batchSize, rows.length - b * batchSize) }, (_, i) => b * batchSize + i);
    const batch = makeBatch(rows, idx);
    total += tf.tidy(() => model.loss(batch).dataSync()[0]!) * idx.length;
    n += idx.length;
    batch.dispose();
  }
  return total / Math.max(1, n);
}
