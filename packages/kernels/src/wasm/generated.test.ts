import { describe, expect, it } from "vitest";
import { assembleKernels } from "../../scripts/assemble";
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "./kernels-wasm.generated";

describe("kernels-wasm.generated.ts", () => {
  it("is the current assembly of kernels.wat.ts (run `pnpm --filter @onebit/kernels build:wasm` if not)", async () => {
    expect(await assembleKernels(false)).toBe(KERNELS_WASM_BASE64);
    expect(await assembleKernels(true)).toBe(KERNELS_RELAXED_WASM_BASE64);
  });
});
