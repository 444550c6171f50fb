/**
 * Kernels keyed `kernel/backend` (tfjs kernel_registry.ts): registering the same key twice throws, and asking
 * for a missing kernel or backend throws and lists what exists — never a silent substitute.
 */
import type { BackendName } from "./backend";

export const KERNEL_NAMES = ["BitLinear", "RmsNormQuantize", "MatmulF32", "Rope", "Softmax", "Attention", "Dense", "QuantizeRows", "DequantizeUnsigned"] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

export interface KernelConfig<F = unknown> {
  kernelName: KernelName;
  backendName: BackendName;
  /** What the kernel does on this backend, in words (shown by `onebit bench` and in errors). */
  description: string;
  impl: F;
}

const registry = new Map<string, KernelConfig>();

const key = (kernel: string, backend: string) => `${kernel}/${backend}`;

export function registerKernel<F>(config: KernelConfig<F>): void {
  const k = key(config.kernelName, config.backendName);
  if (registry.has(k)) throw new Error(`kernel ${k} is already registered`);
  registry.set(k, config as KernelConfig);
}

export function getKernel<F>(kernelName: KernelName, backendName: BackendName): KernelConfig<F> {
  const found = registry.get(key(kernelName, backendName));
  if (!found) {
    const available = [...registry.keys()].sort();
    throw new Error(`no kernel ${key(kernelName, backendName)}; registered kernels: ${available.length ? available.join(", ") : "(none)"}`);
  }
  return found as KernelConfig<F>;
}

export function listKernels(): Array<Pick<KernelConfig, "kernelName" | "backendName" | "description">> {
  return [...registry.values()].map(({ kernelName, backendName, description }) => ({ kernelName, backendName, description }));
}
