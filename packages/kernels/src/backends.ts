/**
 * Backend factories. `createBackend` never substitutes one backend for another: an unknown or unavailable name
 * throws and names the backends that exist.
 */
import { BACKEND_NAMES, type Backend, type BackendName } from "./backend";
import { createJsBackend } from "./js/js-backend";
import { createWasmBackend } from "./wasm/wasm-backend";
import { createWebglBackend, webglAvailability } from "./webgl/webgl-backend";

export interface BackendOptions {
  /** Threads for the wasm backend (default: all cores). */
  threads?: number;
  /** wasm kernel set: "auto" (default: relaxed SIMD where the engine has it), "baseline" or "relaxed". */
  simd?: "auto" | "baseline" | "relaxed";
}

export async function createBackend(name: BackendName | string, options: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case "js":
      return createJsBackend();
    case "wasm":
      return createWasmBackend(options);
    case "webgl":
      return createWebglBackend();
    default: {
      const here = ["js", "wasm", ...((await webglAvailability()).available ? ["webgl"] : [])];
      throw new Error(`unknown backend "${name}"; backends: ${BACKEND_NAMES.join(", ")} (available here: ${here.join(", ")})`);
    }
  }
}
