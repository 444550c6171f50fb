/**
 * Matrix products whose forward AND backward passes never use matMul's transpose flags.
 * tfjs-backend-wasm runs a transposed operand ~10× slower than a plain one (measured on the tiny preset: a
 * [512,128]×[344,128]ᵀ product took 49 ms, the same product on a materialized transpose 5 ms), and tfjs's own
 * matMul gradient asks for transposed operands. So transposes are explicit (cheap, memory-bound) and the
 * gradient is written out: for Y = A·B, dA = dY·Bᵀ and dB = Aᵀ·dY.
 * Shapes: a [..., M, K], b [..., K, N] (or [..., N, K] with transposeB) → [..., M, N].
 */
import { tf } from "./tf-backend";

type Tensor = tf.Tensor;

function swapLast(t: Tensor): Tensor {
  const perm = Array.from({ length: t.rank }, (_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return t.transpose(perm);
}

const plainMatMul = tf.customGrad(((a: Tensor, b: Tensor, save: (ts: Tensor[]) => void) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: Tensor, b: Tensor) => Tensor;

/** a·b (or a·bᵀ), differentiable, with only untransposed matMul kernels in both passes. */
export function matMul(a: Tensor, b: Tensor, transposeB = false): Tensor {
  return plainMatMul(a, transposeB ? swapLast(b) : b);
}
