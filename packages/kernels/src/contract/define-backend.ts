/**
 * Build a Backend from the kernel table: a backend declares each kernel either native (its own implementation,
 * which may hand inputs it does not cover to the reference through `borrow`) or borrowed (the reference, with the
 * reason). A kernel neither implemented nor declared is an error here, at definition — never a silent substitute.
 * Every call is counted by where it ran, so `listKernels(backend)` reports what actually happened.
 *
 * A device backend cannot borrow: the reference computes on host memory and its activations are on the device.
 */
import { OnebitError } from "@onebit/quant";
import type { DeviceQuantized, QuantizedActivations } from "../backend";
import { KERNEL_NAMES, KERNELS, type Backend, type KernelArgs, type KernelInfo, type KernelName, type KernelResults, type KernelSource } from "./kernel-table";
import { type Activations, hostArray, type Residency } from "./tensors";

export class BackendDefinitionError extends OnebitError {
  constructor(message: string) {
    super("BACKEND_DEFINITION", message);
    this.name = "BackendDefinitionError";
  }
}

export interface NativeKernel<K extends KernelName> {
  /** How this backend computes it. */
  description: string;
  /** True when `run` hands some inputs to the reference (say which in the description). */
  partial?: boolean;
  run(args: KernelArgs[K], borrow: (args: KernelArgs[K]) => KernelResults[K]): KernelResults[K];
}

export interface BackendDefinition {
  name: string;
  threads: number;
  simd?: "baseline" | "relaxed";
  residency: Residency;
  native: { [K in KernelName]?: NativeKernel<K> };
  /** The kernels this backend runs with the reference, each with the reason. */
  borrowed: { [K in KernelName]?: string };
  /** Kernels this backend does not offer at all (calling one throws), each with the reason. */
  unsupported?: { [K in KernelName]?: string };
  /** Device backends: host → device. Host backends use the array itself. */
  upload?(x: Float32Array): Activations;
  /** Device backends: device → host, awaited. */
  read?(x: Activations): Promise<Float32Array>;
  readQuantized?(q: DeviceQuantized): Promise<QuantizedActivations>;
  allocF32?(length: number): Activations;
  freeF32?(a: Activations): void;
  dispose?(): void;
}

/** Kernels whose prepared data only their partner reads: both native or both borrowed. */
const PAIRS: readonly [KernelName, KernelName][] = [
  ["prepareWeight", "bitLinear"],
  ["prepareWeights", "bitLinear"],
  ["prepareDense", "dense"],
];

export function defineBackend(def: BackendDefinition): Backend {
  const sources = new Map<KernelName, KernelSource>();
  for (const k of KERNEL_NAMES) {
    const native = def.native[k];
    const borrowed = def.borrowed[k];
    const unsupported = def.unsupported?.[k];
    const declared = [native && "native", borrowed !== undefined && "borrowed", unsupported !== undefined && "unsupported"].filter(Boolean);
    if (declared.length > 1) throw new BackendDefinitionError(`backend ${def.name}: kernel ${k} is declared ${declared.join(" and ")}`);
    if (declared.length === 0) throw new BackendDefinitionError(`backend ${def.name}: kernel ${k} is neither implemented nor declared borrowed from the reference or unsupported`);
    if (borrowed !== undefined && def.residency === "device") throw new BackendDefinitionError(`backend ${def.name}: a device backend cannot borrow ${k} (the reference computes on host memory)`);
    sources.set(k, native ? (native.partial ? "native, reference for some inputs" : "native") : borrowed !== undefined ? "reference" : "unsupported");
  }
  for (const [a, b] of PAIRS)
    if ((sources.get(a) === "reference") !== (sources.get(b) === "reference"))
      throw new BackendDefinitionError(`backend ${def.name}: ${a} and ${b} must both be native or both borrowed (one reads what the other prepared)`);
  if (def.residency === "device" && (!def.upload || !def.read || !def.allocF32 || !def.freeF32))
    throw new BackendDefinitionError(`backend ${def.name}: a device backend must implement upload, read, allocF32 and freeF32`);

  const calls = new Map<KernelName, { native: number; reference: number }>(KERNEL_NAMES.map((k) => [k, { native: 0, reference: 0 }]));
  const methods: Partial<Record<KernelName, (args: never) => unknown>> = {};
  for (const k of KERNEL_NAMES) methods[k] = bind(k);

  function bind<K extends KernelName>(k: K): (args: KernelArgs[K]) => KernelResults[K] {
    const count = calls.get(k)!;
    const reference = KERNELS[k].reference as (args: KernelArgs[K], backend: string) => KernelResults[K];
    const borrow = (args: KernelArgs[K]): KernelResults[K] => {
      if (def.residency === "device") throw new BackendDefinitionError(`backend ${def.name}: ${k} tried to borrow the reference, which needs host memory`);
      count.reference++;
      return reference(args, def.name);
    };
    const native = def.native[k] as NativeKernel<K> | undefined;
    const unsupported = def.unsupported?.[k];
    if (unsupported !== undefined)
      return () => {
        throw new BackendDefinitionError(`backend ${def.name} does not offer ${k}: ${unsupported}`);
      };
    if (!native) return borrow;
    // made once per kernel, not per call (a decode step makes hundreds of kernel calls)
    const handOver = (a: KernelArgs[K]): KernelResults[K] => {
      count.native--; // the call ran on the reference after all
      return borrow(a);
    };
    return (args) => {
      count.native++;
      return native.run(args, handOver);
    };
  }

  const backend = {
    ...(methods as Backend),
    name: def.name,
    threads: def.threads,
    simd: def.simd,
    residency: def.residency,
    kernels(): KernelInfo[] {
      return KERNEL_NAMES.map((k) => ({
        kernel: k,
        backend: def.name,
        source: sources.get(k)!,
        description: def.native[k]?.description ?? (def.borrowed[k] !== undefined ? `reference: ${def.borrowed[k]}` : `unsupported: ${def.unsupported?.[k]}`),
        calls: { ...calls.get(k)! },
      }));
    },
    upload: def.upload ?? ((x: Float32Array) => x),
    read: def.read ?? (async (x: Activations) => hostArray(x, `${def.name} read`)),
    readQuantized: def.readQuantized,
    allocF32: def.allocF32 ?? ((length: number) => new Float32Array(length)),
    freeF32: def.freeF32 ?? (() => {}),
    dispose: def.dispose ?? (() => {}),
  } satisfies Backend;
  return backend;
}

/** Every kernel of `backend`: native or borrowed, its description, its call counts. */
export function listKernels(backend: Pick<Backend, "kernels">): KernelInfo[] {
  return backend.kernels();
}
