// @onebit/kernels — backend registry and integer 1-bit/ternary kernels.
export * from "./backend";
export { createBackend, type BackendOptions } from "./backends";
export { registerKernel, getKernel, listKernels, KERNEL_NAMES, type KernelName, type KernelConfig } from "./kernel-registry";
export { bitLinearImpl, packedWeightAt } from "./js/bit-linear";
export { rmsNormImpl, rmsNormQuantizeImpl, quantizeActivations } from "./js/rms-norm-quantize";
export { matmulF32Impl } from "./js/matmul-f32";
export { ropeImpl } from "./js/rope";
export { softmaxImpl } from "./js/softmax";
export { createJsBackend } from "./js/js-backend";
export { createWasmBackend, kernelsModule } from "./wasm/wasm-backend";
