/**
 * The `js` backend: every kernel is the reference implementation of the kernel table (contract/kernel-table.ts),
 * in plain TypeScript. Slow and obviously correct — the oracle the conformance suite compares every other backend
 * against.
 */
import { defineBackend, type NativeKernel } from "../contract/define-backend";
import { type Backend, KERNEL_NAMES, KERNELS, type KernelName } from "../contract/kernel-table";

function referenceAsNative<K extends KernelName>(k: K): NativeKernel<K> {
  const reference = KERNELS[k].reference;
  return { description: "the reference (scalar TypeScript)", run: (args) => reference(args, "js") };
}

export function createJsBackend(): Backend {
  const native: { [K in KernelName]?: NativeKernel<K> } = {};
  for (const k of KERNEL_NAMES) (native as Record<KernelName, NativeKernel<KernelName>>)[k] = referenceAsNative(k);
  return defineBackend({ name: "js", threads: 1, residency: "host", native, borrowed: {} });
}
