import { describe, expect, it } from "vitest";
import "./js/js-backend";
import { getKernel, listKernels, registerKernel } from "./kernel-registry";

describe("kernel registry", () => {
  it("refuses a duplicate kernel/backend key", () => {
    expect(() => registerKernel({ kernelName: "BitLinear", backendName: "js", description: "again", impl: () => 0 })).toThrow("kernel BitLinear/js is already registered");
  });
  it("lists the registered kernels when one is missing", () => {
    expect(() => getKernel("BitLinear", "webgl")).toThrow(/no kernel BitLinear\/webgl; registered kernels: .*BitLinear\/js/);
    expect(listKernels().some((k) => k.kernelName === "Softmax" && k.backendName === "js")).toBe(true);
  });
});
