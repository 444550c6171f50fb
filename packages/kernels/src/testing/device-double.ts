/**
 * A device backend for tests: every kernel is the reference, but activations live behind opaque handles that only
 * this backend can open — as a GPU backend's buffers would. Code that indexes an activation, or reads one without
 * `await backend.read`, fails here (ResidencyError from hostArray, or a type error). It counts uploads and reads,
 * so a test can prove a decode step reads back exactly one tensor (the logits). Quantized activations stay behind
 * handles too, without a zero count (a device does not report one).
 */
import type { DeviceQuantized, QuantizedActivations } from "../backend";
import { defineBackend, type NativeKernel } from "../contract/define-backend";
import { type Backend, KERNEL_NAMES, KERNELS, type KernelArgs, type KernelName } from "../contract/kernel-table";
import { type Activations, type DeviceTensor, ResidencyError } from "../contract/tensors";

const OWNER = "device-double";

export interface DeviceDouble extends Backend {
  /** Host → device copies and device → host reads so far. */
  readonly transfers: { uploads: number; reads: number };
}

export function createDeviceDouble(): DeviceDouble {
  const tensors = new WeakMap<object, Float32Array>();
  const quantized = new WeakMap<object, QuantizedActivations>();
  const transfers = { uploads: 0, reads: 0 };

  const wrap = (data: Float32Array): DeviceTensor => {
    const t: DeviceTensor = Object.freeze({ residency: "device" as const, owner: OWNER, length: data.length });
    tensors.set(t, data);
    return t;
  };
  const open = (x: unknown): unknown => {
    if (typeof x !== "object" || x === null) return x;
    const t = tensors.get(x);
    if (t) return t;
    const q = quantized.get(x);
    if (q) return q;
    if (x instanceof Float32Array) throw new ResidencyError(`${OWNER}: a kernel was handed host activations; upload them first`);
    return x;
  };
  // KV code stores are tensors from allocF32 whose words hold the codes (contract/kv-codes.ts): view their bytes
  const codeView = (k: KernelName, key: string, x: unknown): unknown => {
    if (!(x instanceof Float32Array)) return x;
    if (key === "codes") return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    if ((k === "encodeHalf" && key === "dst") || (k === "decodeHalf" && key === "src")) return new Uint16Array(x.buffer, x.byteOffset, x.length * 2);
    return x;
  };
  const openArgs = <K extends KernelName>(k: K, args: KernelArgs[K]): KernelArgs[K] => {
    const opened: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(args))
      opened[key] = key === "weight" || key === "gain" || key === "positions" || key === "activeRows" || key === "rowMask" ? value : codeView(k, key, open(value));
    return opened as KernelArgs[K];
  };
  const close = (result: unknown): unknown => {
    if (result instanceof Float32Array) return wrap(result);
    if (typeof result === "object" && result !== null && "codes" in result) {
      const q = result as QuantizedActivations;
      const handle: DeviceQuantized = { residency: "device", owner: OWNER, tokens: q.tokens, features: q.features, groups: q.groups, bits: q.bits, sparse: q.sparse };
      quantized.set(handle, q);
      return handle;
    }
    return result;
  };
  const kernel = <K extends KernelName>(k: K): NativeKernel<K> => ({
    description: "the reference behind opaque device handles (a test double)",
    run: (args) => {
      const opened = openArgs<K>(k, args);
      // activeRows is computed from host values: a device computes none (as webgpu)
      if (k === "gateActivation") (opened as KernelArgs["gateActivation"]).activeRows = undefined;
      const result = KERNELS[k].reference(opened, OWNER);
      return (k === "gateActivation" ? -1 : close(result)) as ReturnType<typeof KERNELS[K]["reference"]>;
    },
  });
  const native: { [K in KernelName]?: NativeKernel<K> } = {};
  for (const k of KERNEL_NAMES) if (k !== "rmsNormQuantize") (native as Record<KernelName, NativeKernel<KernelName>>)[k] = kernel(k);

  const backend = defineBackend({
    name: OWNER,
    threads: 1,
    residency: "device",
    native,
    borrowed: {},
    unsupported: { rmsNormQuantize: "takes and returns host arrays" },
    upload(x) {
      transfers.uploads++;
      return wrap(x.slice());
    },
    async read(x: Activations) {
      transfers.reads++;
      const data = tensors.get(x as object);
      if (!data) throw new ResidencyError(`${OWNER}.read: not a tensor of this backend`);
      return data.slice();
    },
    async readQuantized(q: DeviceQuantized) {
      const host = quantized.get(q);
      if (!host) throw new ResidencyError(`${OWNER}.readQuantized: not quantized activations of this backend`);
      return host;
    },
    allocF32: (length) => wrap(new Float32Array(length)),
    freeF32() {},
  });
  return Object.assign(backend, { transfers });
}
