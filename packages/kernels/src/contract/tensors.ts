/**
 * Where activations live. A host backend (js, wasm, webgl) hands activations around as Float32Arrays the caller
 * may read at once. A device backend (a GPU) keeps them in its own memory between kernels: its kernels take and
 * return `DeviceTensor` handles, and the caller reads a result once, awaited, with `backend.read` — for a decode
 * step, only the logits. Layers never index activations; they pass them from kernel to kernel
 * (docs/kernels.md, "Residency").
 */
import { OnebitError } from "@onebit/quant";

export type Residency = "host" | "device";

/** An activation buffer in a device backend's memory. Opaque: only its backend reads it. */
export interface DeviceTensor {
  readonly residency: "device";
  /** The backend that owns it. */
  readonly owner: string;
  /** float32 elements. */
  readonly length: number;
}

/** Activations [rows, features] as a backend holds them. */
export type Activations = Float32Array | DeviceTensor;

export function isDeviceTensor(x: unknown): x is DeviceTensor {
  return typeof x === "object" && x !== null && (x as DeviceTensor).residency === "device";
}

export class ResidencyError extends OnebitError {
  constructor(message: string) {
    super("KERNEL_RESIDENCY", message);
    this.name = "ResidencyError";
  }
}

/** The Float32Array behind host activations; a device tensor here is a caller's mistake, named. */
export function hostArray(x: Activations, what: string): Float32Array {
  if (x instanceof Float32Array) return x;
  throw new ResidencyError(`${what}: got a tensor resident on the ${isDeviceTensor(x) ? x.owner : "?"} device where host memory (a Float32Array) is needed; read it with backend.read first`);
}
