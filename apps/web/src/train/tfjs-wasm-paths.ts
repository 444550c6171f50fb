/**
 * Where tfjs-backend-wasm finds its .wasm binaries: emitted by vite as assets of this site (no CDN, so training on
 * wasm works offline too). Imported for its effect before any wasm backend is initialised.
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import plain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import simd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import threaded from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

const absolute = (u: string) => new URL(u, import.meta.url).href;
setWasmPaths({ "tfjs-backend-wasm.wasm": absolute(plain), "tfjs-backend-wasm-simd.wasm": absolute(simd), "tfjs-backend-wasm-threaded-simd.wasm": absolute(threaded) });
