/**
 * The compiled kernels (kernels.wat.ts, assembled into kernels-wasm.generated.ts by scripts/build-wasm.ts) and what
 * the engine offers: relaxed SIMD, core count.
 */
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "./kernels-wasm.generated";

/** The two kernel sets: baseline SIMD (every engine with wasm SIMD) and relaxed SIMD (16 int8 products per instruction). */
export type WasmSimd = "baseline" | "relaxed";

function decodeBase64(b64: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(b64, "base64"));
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const compiled: Partial<Record<WasmSimd, WebAssembly.Module>> = {};
/** The kernel module for a kernel set, compiled once per process (workers get the same Module by postMessage). */
export function kernelsModule(simd: WasmSimd = "baseline"): WebAssembly.Module {
  compiled[simd] ??= new WebAssembly.Module(decodeBase64(simd === "relaxed" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64) as BufferSource);
  return compiled[simd]!;
}

let relaxedChecked: boolean | undefined;
/** Whether this engine runs the relaxed-SIMD kernels (checked once; a flag set later in the process is not seen). */
export function relaxedSimdAvailable(): boolean {
  relaxedChecked ??= WebAssembly.validate(decodeBase64(KERNELS_RELAXED_WASM_BASE64) as BufferSource);
  return relaxedChecked;
}

/** Logical cores in a browser (navigator.hardwareConcurrency), else 1; Node asks node:os (see createWasmBackend). */
export function defaultThreads(): number {
  if (typeof navigator !== "undefined" && navigator.hardwareConcurrency) return navigator.hardwareConcurrency;
  return 1;
}
