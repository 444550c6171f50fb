import { describe, expect, it } from "vitest";
import { matMul } from "./matmul";
import { tf, useTrainBackend } from "./tf-backend";

function close(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}

describe("matMul (explicit-transpose product)", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    it(`${backend}: values and gradients equal tf.matMul's, 2-D and batched, with and without transposeB`, async () => {
      await useTrainBackend(backend);
      const a2 = tf.randomNormal([5, 7], 0, 1, "float32", 1);
      const b2 = tf.randomNormal([3, 7], 0, 1, "float32", 2);
      const a4 = tf.randomNormal([2, 3, 5, 4], 0, 1, "float32", 3);
      const b4 = tf.randomNormal([2, 3, 6, 4], 0, 1, "float32", 4);
      for (const [a, b] of [[a2, b2], [a4, b4]] as const) {
        for (const transposeB of [true, false]) {
          const bb = transposeB ? b : tf.tidy(() => b.transpose([...Array.from({ length: b.rank - 2 }, (_, i) => i), b.rank - 1, b.rank - 2]));
          const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => matMul(x, y, transposeB).square().sum());
          const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, false, transposeB).square().sum());
          expect(close(matMul(a, bb, transposeB), tf.matMul(a, bb, false, transposeB))).toBeLessThan(1e-5);
          const [ga, gb] = ours([a, bb]);
          const [ta, tb] = theirs([a, bb]);
          expect(close(ga!, ta!)).toBeLessThan(1e-4);
          expect(close(gb!, tb!)).toBeLessThan(1e-4);
        }
      }
    });
  }
});
