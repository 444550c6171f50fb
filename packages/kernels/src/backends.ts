/**
 * The backends, as a table: a name, how to learn whether it can run here, and how to create it. Adding a backend
 * is one file (its kernels, built with defineBackend) plus one row here (docs/kernels.md walks through it).
 * `createBackend` never substitutes one backend for another: an unknown or unavailable name throws and names the
 * backends that exist and the ones available here.
 */
import { type Backend, KernelInputError } from "./backend";
import { createJsBackend } from "./js/js-backend";
import { createWasmBackend } from "./wasm/wasm-backend";
import { createWebglBackend, webglAvailability } from "./webgl/webgl-backend";
import { createWebgpuBackend, webgpuAvailability } from "./webgpu/webgpu-backend";

export interface BackendOptions {
  /** Threads for the wasm backend (default: all cores). */
  threads?: number;
  /** wasm kernel set: "auto" (default: relaxed SIMD where the engine has it), "baseline" or "relaxed". */
  simd?: "auto" | "baseline" | "relaxed";
  /** wasm ternary weight layout: "t2" (default, 2 bits/weight) or "t1" (onebit-t1, 1.6 bits/weight, wasm/t1-dot.wat.ts). */
  ternaryLayout?: "t1" | "t2";
}

export interface BackendEntry {
  name: string;
  description: string;
  /** Whether it can run in this engine, and why not. */
  availability(): Promise<{ available: boolean; reason?: string }>;
  create(options: BackendOptions): Promise<Backend>;
}

const always = async () => ({ available: true });

export const BACKENDS: readonly BackendEntry[] = [
  { name: "js", description: "the reference: every kernel in plain TypeScript", availability: always, create: async () => createJsBackend() },
  {
    name: "wasm",
    description: "SIMD kernels (baseline or relaxed) on a shared WebAssembly.Memory, rows split across worker threads",
    availability: async () => (typeof SharedArrayBuffer === "undefined" ? { available: false, reason: "no SharedArrayBuffer (serve the page cross-origin isolated)" } : { available: true }),
    create: (options) => createWasmBackend(options),
  },
  { name: "webgl", description: "gpu.js on WebGL2 for the BitLinear and f32 matmuls (read back per call)", availability: webglAvailability, create: () => createWebglBackend() },
  {
    name: "webgpu",
    description: "WGSL compute shaders; activations stay on the GPU between kernels, read back once (the logits)",
    availability: webgpuAvailability,
    async create() {
      const { available, reason } = await webgpuAvailability();
      if (!available) throw new KernelInputError(`backend "webgpu" is not available here: ${reason}; available backends: ${(await availableBackends()).join(", ")}`);
      return createWebgpuBackend();
    },
  },
];

/** The backends available in this engine. */
export async function availableBackends(): Promise<string[]> {
  const here: string[] = [];
  for (const b of BACKENDS) if ((await b.availability()).available) here.push(b.name);
  return here;
}

export async function createBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  const entry = BACKENDS.find((b) => b.name === name);
  if (!entry) throw new KernelInputError(`unknown backend "${name}"; backends: ${BACKENDS.map((b) => b.name).join(", ")} (available here: ${(await availableBackends()).join(", ")})`);
  return entry.create(options);
}
