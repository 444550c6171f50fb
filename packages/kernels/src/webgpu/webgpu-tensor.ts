/**
 * The webgpu backend's handles: activations (`WebgpuTensor`, float32 in a storage buffer) and quantized
 * activations (`WebgpuQuantized`: int8 codes packed four to a u32, each token's row padded to a multiple of 64
 * features so BitLinear reads whole onebit-t2 blocks; scales [tokens, groups] float32).
 *
 * Buffers are released when their handle is garbage collected (a FinalizationRegistry; the destroy waits for the
 * next submit in case the open encoder still uses the buffer) or at once with `backend.freeF32(handle)`.
 */
import type { DeviceQuantized } from "../backend";
import { KernelInputError } from "../backend";
import { type Activations, type DeviceTensor, isDeviceTensor, ResidencyError } from "../contract/tensors";
import type { GpuRuntime } from "./gpu-runtime";
import type { GpuBuffer } from "./webgpu-api";

export const OWNER = "webgpu";

export class WebgpuTensor implements DeviceTensor {
  readonly residency = "device" as const;
  readonly owner = OWNER;
  freed = false;
  constructor(
    readonly length: number,
    readonly buffer: GpuBuffer,
    readonly runtime: GpuRuntime,
  ) {}
}

export class WebgpuQuantized implements DeviceQuantized {
  readonly residency = "device" as const;
  readonly owner = OWNER;
  sparse?: boolean;
  zeros?: number;
  constructor(
    readonly tokens: number,
    readonly features: number,
    readonly groups: number,
    readonly bits: 8 | 4,
    /** [tokens, wordsPerRow] u32, four int8 codes each (little-endian: feature 4w + b in byte b). */
    readonly codeBuffer: GpuBuffer,
    /** [tokens, groups] float32. */
    readonly scaleBuffer: GpuBuffer,
    readonly runtime: GpuRuntime,
  ) {}
  get wordsPerRow(): number {
    return codeWordsPerRow(this.features);
  }
}

/** u32 words per token row of packed int8 codes: features rounded up to a whole 64-feature t2 block. */
export function codeWordsPerRow(features: number): number {
  return Math.ceil(features / 64) * 16;
}

/** Destroys the buffers of handles the program dropped. */
export class TensorRegistry {
  private readonly finalizer = new FinalizationRegistry<GpuBuffer[]>((buffers) => {
    if (!this.runtime.disposed) for (const b of buffers) this.runtime.release(b);
  });
  constructor(private readonly runtime: GpuRuntime) {}

  tensor(length: number, buffer: GpuBuffer): WebgpuTensor {
    const t = new WebgpuTensor(length, buffer, this.runtime);
    this.finalizer.register(t, [buffer], t);
    return t;
  }

  quantized(q: WebgpuQuantized): WebgpuQuantized {
    this.finalizer.register(q, [q.codeBuffer, q.scaleBuffer], q);
    return q;
  }

  free(t: WebgpuTensor): void {
    this.finalizer.unregister(t);
    t.freed = true;
    this.runtime.release(t.buffer);
  }
}

/** The webgpu tensor behind a device argument, or a named error. */
export function ownTensor(runtime: GpuRuntime, x: Activations, what: string): WebgpuTensor {
  if (x instanceof WebgpuTensor && x.runtime === runtime) {
    if (x.freed) throw new KernelInputError(`${what}: this tensor was freed with freeF32`);
    return x;
  }
  if (isDeviceTensor(x)) throw new ResidencyError(`${what}: got a tensor resident on ${x.owner === OWNER ? "another webgpu backend" : `the ${x.owner} device`}; only this webgpu backend's tensors can be read here`);
  throw new ResidencyError(`${what}: got host memory (a Float32Array) where a webgpu tensor is needed`);
}
