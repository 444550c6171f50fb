import { BACKENDS as KERNEL_BACKENDS } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { backendReports, formatBackendReports } from "./backend-report";
import { BACKENDS } from "./load-model";

describe("onebit inspect --backends", () => {
  it("the CLI's --backend choices are the kernels' BACKENDS table", () => {
    expect([...BACKENDS].sort()).toEqual(KERNEL_BACKENDS.map((b) => b.name).sort());
  });
  it("lists every backend; those that run here show each kernel's source and the calls a small run made", async () => {
    const reports = await backendReports({ threads: 1 });
    expect(reports.map((r) => r.name)).toEqual(KERNEL_BACKENDS.map((b) => b.name));
    const wasm = reports.find((r) => r.name === "wasm")!;
    const kernel = (name: string) => wasm.kernels!.find((k) => k.kernel === name)!;
    expect(kernel("bitLinear")).toMatchObject({ source: "native", calls: { native: 1, reference: 0 } });
    expect(kernel("softmax")).toMatchObject({ source: "native", calls: { native: 1, reference: 0 } });
    // (the small run's copyInto reads host arrays: native where both lie in wasm memory, so this one ran on the reference)
    expect(kernel("copyInto")).toMatchObject({ source: "native, reference for some inputs", calls: { native: 0, reference: 1 } });
    expect(kernel("rmsNormQuantize")).toMatchObject({ source: "reference", calls: { native: 0, reference: 0 } });
    expect(kernel("quantize").source).toBe("native, reference for some inputs");
    const webgpu = reports.find((r) => r.name === "webgpu")!;
    expect(webgpu.available).toBe(false);
    expect(webgpu.reason).toMatch(/navigator.gpu is absent/);
    const text = formatBackendReports(reports);
    expect(text).toMatch(/wasm — .*\n(.*\n)* {2}copyInto +native\+ref +calls 0 \(\+1 on the reference\) /);
    expect(text).toMatch(/wasm — .*\n(.*\n)* {2}rmsNormQuantize +reference +calls 0 /);
    expect(text).toMatch(/webgpu — .*not available here/);
  });
});
