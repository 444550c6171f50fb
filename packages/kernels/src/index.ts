// @onebit/kernels — backend registry and integer 1-bit/ternary kernels.
export * from "./backend";
export { type BackendOptions, createBackend } from "./backends";
export { attentionScoresImpl, attentionValuesImpl } from "./js/attention";
export { bitLinearImpl, packedWeightAt } from "./js/bit-linear";
export { dequantizeUnsignedImpl } from "./js/dequantize-unsigned";
export { DENSE_FORMATS, denseBlockLen, denseInt8Impl, type Int8DenseWeight, quantizeDenseInt8, quantizeInt16Rows } from "./js/dense";
export { createJsBackend } from "./js/js-backend";
export { matmulF32Impl } from "./js/matmul-f32";
export { quantizeActivations, rmsNormImpl, rmsNormQuantizeImpl } from "./js/rms-norm-quantize";
export { quantizeRowsImpl, ROW_QUANT_KINDS, type RowQuantKind } from "./js/quantize-rows";
export { ropeImpl } from "./js/rope";
export { softmaxImpl } from "./js/softmax";
export { getKernel, KERNEL_NAMES, type KernelConfig, type KernelName, listKernels, registerKernel } from "./kernel-registry";
export { createWasmBackend, kernelsModule } from "./wasm/wasm-backend";
export { createWebglBackend, webglAvailability } from "./webgl/webgl-backend";
