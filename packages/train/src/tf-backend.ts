/**
 * tfjs set-up. Only @onebit/train imports tfjs (a browser that only runs a model never loads it).
 * - "wasm" (SIMD): the default in Node;
 * - "cpu": plain JavaScript, only when asked;
 * - "webgl": WebGL 2 (or 1) in a browser, the default there. tfjs registers it only where a browser is detected,
 *   so in Node it is missing and asking for it throws. It needs float32 render targets (WebGL2 + EXT_color_buffer_float,
 *   which SwiftShader has): where tfjs would fall back to float16 textures, asking for it throws too.
 * Backends are chosen, never silently swapped (docs/design.md invariant 4): a name that is unknown, not registered
 * here, or that fails to initialise throws and lists the backends this environment has.
 * (@tensorflow/tfjs rather than tfjs-core: it registers the gradients, chained ops and the webgl backend, in a
 * bundle Node can load.)
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { TrainBackendError } from "./train-errors";

export type TrainBackend = "wasm" | "cpu" | "webgl";
export const TRAIN_BACKENDS: readonly TrainBackend[] = ["wasm", "cpu", "webgl"];

/** The training backends registered in this environment (Node: wasm, cpu; a browser: also webgl). */
export function availableTrainBackends(): TrainBackend[] {
  return TRAIN_BACKENDS.filter((b) => tf.findBackendFactory(b) !== null);
}

/** "webgl" in a browser (a page or a worker), "wasm" elsewhere (Node). */
export function defaultTrainBackend(): TrainBackend {
  return tf.device_util.isBrowser() ? "webgl" : "wasm";
}

export async function useTrainBackend(name: TrainBackend = defaultTrainBackend()): Promise<typeof tf> {
  const available = () => availableTrainBackends().join(", ");
  if (!TRAIN_BACKENDS.includes(name)) throw new TrainBackendError(`unknown training backend "${name}"; available here: ${available()}`);
  if (tf.findBackendFactory(name) === null) {
    const why = name === "webgl" ? " (tfjs-backend-webgl needs a browser with WebGL; this is not one)" : "";
    throw new TrainBackendError(`training backend "${name}" is not available in this environment${why}; available here: ${available()}`);
  }
  const previous = tf.getBackend();
  if (previous !== name) {
    let ok: boolean;
    try {
      ok = await tf.setBackend(name);
    } catch (e) {
      throw new TrainBackendError(`tfjs backend "${name}" failed to initialise (${(e as Error).message}); available here: ${available()}`);
    }
    if (!ok) throw new TrainBackendError(`tfjs backend "${name}" failed to initialise${name === "webgl" ? " (no WebGL context could be created)" : ""}; available here: ${available()}`);
  }
  await tf.ready();
  // a WebGL that cannot render to float32 textures makes tfjs compute in float16: refuse rather than train in it
  if (name === "webgl" && (!tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED") || tf.env().getBool("WEBGL_FORCE_F16_TEXTURES"))) {
    if (previous && previous !== name && tf.findBackendFactory(previous) !== null) await tf.setBackend(previous);
    throw new TrainBackendError(`training backend "webgl": this WebGL cannot render to float32 textures, so tfjs would train in float16; available here: ${available()}`);
  }
  return tf;
}

export { tf };
