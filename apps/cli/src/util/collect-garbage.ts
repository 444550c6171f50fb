/**
 * A full garbage collection, now. After a model is placed on its backend with releaseWeights, the loader's buffers
 * (≈ 0.5–0.8 GB of transcoded projections and file reads for a 2B4T GGUF) are garbage, but nothing allocates enough
 * afterwards for V8 to collect them: decoding ran at the loader's peak RSS until some later full GC (measured: 1.8 GB
 * instead of 0.9). Node exposes the collector only behind --expose-gc; the flag can be set at run time and the
 * function taken from a fresh context (v8.setFlagsFromString's documented use).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
  }
  gc();
}
