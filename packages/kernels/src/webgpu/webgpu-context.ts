/**
 * What every webgpu kernel needs: the runtime (encoder, pipelines, uploads), the tensor registry, and the
 * conversions between the contract's arguments and device buffers — a host Float32Array given where the kernel
 * only reads is uploaded into a temporary buffer (released after the kernel); one given where the kernel writes
 * in place is refused, since the caller's array would not change.
 */
import { type Activations, ResidencyError } from "../contract/tensors";
import type { GpuRuntime } from "./gpu-runtime";
import type { GpuBuffer } from "./webgpu-api";
import { ownTensor, type TensorRegistry, type WebgpuTensor } from "./webgpu-tensor";

export interface DeviceInput {
  tensor: WebgpuTensor;
  /** Release the temporary upload, if one was made (call after the kernel is encoded). */
  done(): void;
}

export class WebgpuContext {
  /** A 4-byte buffer bound where a shader declares a binding a call does not use (auto layouts need every one). */
  readonly dummy: GpuBuffer;

  constructor(
    readonly runtime: GpuRuntime,
    readonly tensors: TensorRegistry,
    /** WGSL has dot4I8Packed (the packed_4x8_integer_dot_product language feature). */
    readonly dot4: boolean,
    /** The adapter is a CPU implementation (SwiftShader): kernels avoid workgroup barriers where they can. */
    readonly cpuAdapter: boolean,
    /** Tests: force log2 of the threads per BitLinear row (bit-linear.ts picks it otherwise). */
    readonly bitLinearLanesLog2?: number,
  ) {
    this.dummy = runtime.buffer(4, "onebit dummy");
  }

  private readonly resident = new WeakMap<Float32Array, GpuBuffer>();

  /**
   * A host parameter array (an f32 matmul weight, a norm gain) on the device, uploaded on first use and reused
   * while the array lives: a caller that rewrites such an array in place must pass a new one.
   */
  hostParameter(w: Float32Array, label: string): GpuBuffer {
    let b = this.resident.get(w);
    if (!b) {
      b = this.runtime.upload(w, label);
      this.resident.set(w, b);
    }
    return b;
  }

  /** A new zeroed float32 tensor. */
  output(length: number, label: string): WebgpuTensor {
    return this.tensors.tensor(length, this.runtime.buffer(length * 4, label));
  }

  /** Host values → a fresh device tensor. */
  upload(x: Float32Array, label = "onebit upload"): WebgpuTensor {
    return this.tensors.tensor(x.length, this.runtime.upload(x, label));
  }

  /** A read-only argument: a tensor of this backend as it is, or host values uploaded for this call. */
  input(x: Activations, what: string): DeviceInput {
    if (x instanceof Float32Array) {
      const tensor = this.tensors.tensor(x.length, this.runtime.upload(x, what));
      return { tensor, done: () => this.tensors.free(tensor) };
    }
    return { tensor: ownTensor(this.runtime, x, what), done: () => {} };
  }

  /** An argument the kernel updates in place: it must already live on this device. */
  inPlace(x: Activations, what: string): WebgpuTensor {
    if (x instanceof Float32Array)
      throw new ResidencyError(`${what}: got a host Float32Array, but this kernel updates x in place on the webgpu device (the array would not change); upload it with backend.upload first`);
    return ownTensor(this.runtime, x, what);
  }
}

/** A Float32Array-shaped stand-in carrying only a length, for the reference's shape checks (they read .length only). */
export function lengthOnly(length: number): Float32Array {
  return { length } as unknown as Float32Array;
}
