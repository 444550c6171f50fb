/**
 * What this browser and this page's hosting allow, checked once at start: cross-origin isolation (without it there
 * is no SharedArrayBuffer, and the wasm backend, which keeps its weights in shared WebAssembly.Memory, cannot run at
 * all), WebGL2 (the webgl backends), WebGPU (navigator.gpu: the webgpu backend; the adapter itself is asked for when
 * the backend is created, which names the reason if there is none), cores and memory.
 */
export interface Capabilities {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  webgl2: boolean;
  webgpu: boolean;
  cores: number;
  deviceMemoryGiB?: number;
}

export function capabilities(): Capabilities {
  let webgl2 = false;
  try {
    webgl2 = document.createElement("canvas").getContext("webgl2") !== null;
  } catch {
    webgl2 = false;
  }
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== "undefined",
    webgl2,
    webgpu: "gpu" in navigator,
    cores: navigator.hardwareConcurrency || 1,
    deviceMemoryGiB: (navigator as { deviceMemory?: number }).deviceMemory,
  };
}

/** The message for a page served without COOP/COEP, or undefined when it is isolated. */
export function isolationProblem(c: Capabilities): string | undefined {
  if (c.crossOriginIsolated && c.sharedArrayBuffer) return undefined;
  return (
    "This page is not cross-origin isolated (the server sent no Cross-Origin-Opener-Policy: same-origin and " +
    "Cross-Origin-Embedder-Policy: require-corp headers), so SharedArrayBuffer is missing: the wasm backend cannot run " +
    `and tfjs trains without threads. ${c.webgl2 ? "webgl and js still work." : "js still works."} ` +
    "Host the site with those headers — see apps/web/README.md (pnpm --filter @onebit/web serve does)."
  );
}
