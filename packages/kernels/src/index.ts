// @onebit/kernels — the kernel contract (a table of typed kernels with reference implementations), the backends
// built from it (js reference, wasm SIMD threaded, webgl) and the integer 1-bit/ternary kernels.
export * from "./backend";
export { type ByteRange, copyBytes, isByteRange, rangePieces } from "./contract/byte-range";
export { availableBackends, BACKENDS, type BackendEntry, type BackendOptions, createBackend } from "./backends";
export { BackendDefinitionError, type BackendDefinition, defineBackend, listKernels, type NativeKernel } from "./contract/define-backend";
export { KERNEL_NAMES, KERNELS, type KernelArgs, type KernelDefinition, type KernelFn, type KernelInfo, type KernelMethods, type KernelResults, type KernelSource } from "./contract/kernel-table";
export { type Activations, type DeviceTensor, hostArray, isDeviceTensor, type Residency, ResidencyError } from "./contract/tensors";
export { attentionScoresImpl, attentionValuesImpl, causalAttentionImpl } from "./js/attention";
export { bitLinearImpl, packedWeightAt } from "./js/bit-linear";
export { dequantizeUnsignedImpl } from "./js/dequantize-unsigned";
export { DENSE_FORMATS, denseBlockLen, denseChunkRows, denseInt8Impl, INT4_BLOCK, type Int8DenseWeight, quantizeDenseInt8, quantizeInt16Rows } from "./js/dense";
export { denseInt4Impl, type Int4DenseWeight, type Int8BlockActivations, quantizeDenseInt4, quantizeInt8Blocks } from "./js/dense-int4";
export { addImpl, copyIntoImpl, firstNonFiniteImpl, type GateActivation, gateActivationImpl, multiplyImpl } from "./js/elementwise";
export { expf, siluf } from "./js/expf";
export { createJsBackend } from "./js/js-backend";
export { matmulF32Impl } from "./js/matmul-f32";
export { type NormKind, normImpl } from "./js/norm";
export { ACTIVATION_QUANTIZERS, type ActivationQuantizer, quantizeActivationsImpl, type QuantizeOptions } from "./js/quantize-activations";
export { quantizeActivations, rmsNormImpl, rmsNormQuantizeImpl } from "./js/rms-norm-quantize";
export { quantizeRowsImpl, ROW_QUANT_KINDS, type RowQuantKind } from "./js/quantize-rows";
export { ropeImpl } from "./js/rope";
export { softmaxImpl } from "./js/softmax";
export { createWasmBackend, kernelsModule } from "./wasm/wasm-backend";
export { createWebglBackend, webglAvailability } from "./webgl/webgl-backend";
export { createDeviceDouble, type DeviceDouble } from "./testing/device-double";
export { createWebgpuBackend, webgpuAvailability, type WebgpuBackendOptions } from "./webgpu/webgpu-backend";
