/**
 * tfjs set-up. Only @onebit/train imports tfjs (a browser that only runs a model never loads it).
 * "wasm" (SIMD) in Node by default; "cpu" only when asked; an unknown name throws with the available ones.
 * (@tensorflow/tfjs rather than tfjs-core: it registers the gradients and chained ops, in a bundle Node can load.)
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

export type TrainBackend = "wasm" | "cpu";
export const TRAIN_BACKENDS: readonly TrainBackend[] = ["wasm", "cpu"];

export async function useTrainBackend(name: TrainBackend = "wasm"): Promise<typeof tf> {
  if (!TRAIN_BACKENDS.includes(name)) throw new Error(`unknown training backend "${name}"; available: ${TRAIN_BACKENDS.join(", ")}`);
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise; available: ${TRAIN_BACKENDS.join(", ")}`);
  }
  await tf.ready();
  return tf;
}

export { tf };
