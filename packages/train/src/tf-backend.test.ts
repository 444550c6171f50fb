/**
 * Backends are chosen, never silently swapped: in Node (no WebGL) asking for webgl throws and names the backends
 * that exist here, and the current backend stays as it was. (webgl itself is tested in Chromium:
 * browser/browser-training.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { availableTrainBackends, defaultTrainBackend, tf, useTrainBackend } from "./tf-backend";

describe("training backends in Node", () => {
  it("has wasm and cpu, not webgl; wasm is the default", () => {
    expect(availableTrainBackends()).toEqual(["wasm", "cpu"]);
    expect(defaultTrainBackend()).toBe("wasm");
  });

  it("refuses webgl with the available backends named, and does not switch backends", async () => {
    await useTrainBackend("cpu");
    await expect(useTrainBackend("webgl")).rejects.toThrow(/training backend "webgl" is not available in this environment \(.*needs a browser with WebGL.*\); available here: wasm, cpu$/);
    expect(tf.getBackend()).toBe("cpu");
    await expect(useTrainBackend("webgpu" as never)).rejects.toThrow('unknown training backend "webgpu"; available here: wasm, cpu');
    expect(tf.getBackend()).toBe("cpu");
    await useTrainBackend("wasm");
    expect(tf.getBackend()).toBe("wasm");
  });
});
