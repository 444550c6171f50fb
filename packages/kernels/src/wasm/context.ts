/**
 * What every wasm op needs from its backend instance (wasm-backend.ts builds one per backend). The ops are plain
 * functions of this context, so each *-ops.ts file holds one concern and no op sees another's state.
 */
import type { KernelExports } from "./abi";
import type { Heap } from "./heap";
import type { LutTuner } from "./lut-tuner";
import type { ThreadPool } from "./thread-pool";

export interface WasmContext {
  /** Allocator over the shared memory: weights, KV arrays, the per-call scratch. */
  readonly heap: Heap;
  /** Runs the job written in pool.control (abi.ts JOB_SLOT) on every thread. */
  readonly pool: ThreadPool;
  /** This thread's instance; pass it to pool.run, or call a kernel directly (no job split) for the small ops. */
  readonly exports: KernelExports;
  /** The relaxed-SIMD kernel set (int8 activations) rather than baseline (split int16 activations). */
  readonly relaxed: boolean;
  /** Throws once the backend is disposed (the workers are gone then). */
  readonly alive: () => void;
  /** f32 weights (embeddings, LM head) copied into wasm memory on first use and kept, by host array. */
  readonly f32Weights: WeakMap<Float32Array, number>;
  /** Which variant of a prompt's LUT GEMM runs each shape on this machine (lut-tuner.ts), chosen by timing the first calls. */
  readonly lutTuner: LutTuner;
}
