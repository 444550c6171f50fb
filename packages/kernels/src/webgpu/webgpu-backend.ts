/**
 * The `webgpu` backend: a device backend (contract/define-backend.ts, residency "device") whose kernels are WGSL
 * compute shaders and whose activations stay in GPU storage buffers between kernels; a decode step reads back
 * only what the caller reads (the logits), with one submit per read (gpu-runtime.ts).
 *
 * Bit for bit the js reference: bitLinear (integer dots, the float64 epilogue in software doubles), quantize
 * (int8 / int4 / absmax8 / fp4 / Top-K), dense int8 (W8A16) and int4 (W4A8), denseRows, matmulF32, attention scores and values, add,
 * multiply, ReLU², copyInto, and the KV-cache codes (quantizeUnsignedInto / dequantizeUnsigned for 3/4/8-bit
 * stores, encodeHalf / decodeHalf for f16 ones, in device tensors). Within float32 rounding: norm, rope, softmax,
 * SiLU (README.md states the bounds). Not offered: rmsNormQuantize (host arrays in and out; run norm then quantize) and
 * firstNonFinite (a synchronous answer would read the tensor back).
 */
import { KernelInputError, type DeviceQuantized } from "../backend";
import { defineBackend } from "../contract/define-backend";
import { type Backend, prepareApart } from "../contract/kernel-table";
import type { Activations } from "../contract/tensors";
import { attentionScoresWebgpu, attentionValuesWebgpu, causalAttentionWebgpu } from "./attention";
import { bitLinearWebgpu, prepareWeightWebgpu } from "./bit-linear";
import { denseRowsWebgpu, denseWebgpu, prepareDenseWebgpu } from "./dense";
import { binaryWebgpu, copyIntoWebgpu, gateActivationWebgpu } from "./elementwise";
import { GpuRuntime } from "./gpu-runtime";
import { decodeHalfWebgpu, encodeHalfWebgpu } from "./half-codes";
import { matmulF32Webgpu } from "./matmul-f32";
import { normWebgpu } from "./norm";
import { quantizeWebgpu, readQuantizedWebgpu } from "./quantize";
import { ropeWebgpu } from "./rope";
import { softmaxWebgpu } from "./softmax";
import { dequantizeUnsignedWebgpu, quantizeUnsignedIntoWebgpu } from "./unsigned-codes";
import { type GpuAdapter, navigatorGpu } from "./webgpu-api";
import { WebgpuContext } from "./webgpu-context";
import { ownTensor, TensorRegistry, WebgpuQuantized } from "./webgpu-tensor";

const NO_NAVIGATOR_GPU = "navigator.gpu is absent (Node, or a browser without WebGPU; headless Chromium needs --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader where there is no GPU)";
const NO_ADAPTER = "navigator.gpu.requestAdapter() found no adapter (WebGPU is disabled or this GPU is blocklisted)";

async function adapter(): Promise<{ adapter?: GpuAdapter; reason?: string }> {
  const gpu = navigatorGpu();
  if (!gpu) return { reason: NO_NAVIGATOR_GPU };
  try {
    const a = await gpu.requestAdapter({ powerPreference: "high-performance" });
    return a ? { adapter: a } : { reason: NO_ADAPTER };
  } catch (e) {
    return { reason: `navigator.gpu.requestAdapter() failed: ${(e as Error).message}` };
  }
}

/** Whether WebGPU can run here, and why not. */
export async function webgpuAvailability(): Promise<{ available: boolean; reason?: string }> {
  const { reason } = await adapter();
  return reason ? { available: false, reason } : { available: true };
}

export interface WebgpuBackendOptions {
  /** Tests: log2 of the threads per BitLinear output row (default: by width on a GPU, 0 on a CPU adapter). */
  bitLinearLanesLog2?: number;
}

/** A CPU implementation of WebGPU (SwiftShader, a fallback adapter). */
function isCpuAdapter(a: GpuAdapter): boolean {
  return a.info?.architecture === "swiftshader" || a.info?.isFallbackAdapter === true || a.isFallbackAdapter === true;
}

export async function createWebgpuBackend(options: WebgpuBackendOptions = {}): Promise<Backend> {
  const found = await adapter();
  if (!found.adapter) throw new KernelInputError(`backend "webgpu" is not available here: ${found.reason}`);
  const limits = found.adapter.limits;
  // the LM head's int8 codes alone can pass the 128 MiB default binding size: ask for what the adapter has
  const device = await found.adapter.requestDevice({
    label: "onebit webgpu",
    requiredLimits: { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize!, maxBufferSize: limits.maxBufferSize! },
  });
  const runtime = new GpuRuntime(device);
  const dot4 = navigatorGpu()?.wgslLanguageFeatures?.has("packed_4x8_integer_dot_product") ?? false;
  const ctx = new WebgpuContext(runtime, new TensorRegistry(runtime), dot4, isCpuAdapter(found.adapter), options.bitLinearLanesLog2);

  return defineBackend({
    name: "webgpu",
    threads: 1,
    residency: "device",
    native: {
      prepareWeight: { description: "onebit-t2 words in a storage buffer (binary weights as t2 codes {0, 2})", run: ({ weight }) => prepareWeightWebgpu(ctx, weight) },
      prepareWeights: {
        description: "each weight in its own storage buffer (no joined weight: each projection is its own dispatch)",
        run: ({ weights }) => prepareApart(weights, (w) => prepareWeightWebgpu(ctx, w)),
      },
      bitLinear: {
        description: `WGSL: ${ctx.dot4 ? "dot4I8Packed" : "byte-wise"} i32 dot products, ${ctx.cpuAdapter ? "a thread per row" : "threads side by side along a row"}, 4 tokens at a time, float64 epilogue in software doubles (bit-exact)`,
        run: ({ weight, input, rowMask }) => bitLinearWebgpu(ctx, weight, input, rowMask),
      },
      quantize: { description: "WGSL: per token and group, correctly rounded scales, exact int4 absmean sum (bit-exact)", run: (a) => quantizeWebgpu(ctx, a) },
      norm: { description: "WGSL: a workgroup per token and group, float32 sums", run: (a) => normWebgpu(ctx, a) },
      prepareDense: {
        description: "f32 uploaded, or int8 (W8A16) / int4 (W4A8) quantized on the host by the reference, a chunk of rows at a time, and uploaded",
        run: (a) => prepareDenseWebgpu(ctx, a.weight, a.outFeatures, a.inFeatures, a.format),
      },
      dense: {
        description: "WGSL: f32 in the reference order, int16 activations × int8 blocks, or per-block int8 activations × Q4_0 blocks, with the reference's epilogue (bit-exact)",
        run: (a) => denseWebgpu(ctx, a.weight, a.x, a.tokens),
      },
      denseRows: { description: "WGSL: rows dequantized on the device into a new tensor (f32: a buffer copy)", run: (a) => denseRowsWebgpu(ctx, a.weight, a.start, a.count, a.out) },
      matmulF32: { description: "WGSL: a thread per output, the reference's four partial sums, no FMA", run: (a) => matmulF32Webgpu(ctx, a) },
      rope: { description: "WGSL rotation; cos/sin of the float64 angles from the host", run: (a) => ropeWebgpu(ctx, a) },
      softmax: { description: "WGSL: a workgroup per row, float32 exp and sums", run: (a) => softmaxWebgpu(ctx, a) },
      attentionScores: { description: "WGSL: a thread per (head, position), the reference's sixteen partial sums (bit-exact)", run: (a) => attentionScoresWebgpu(ctx, a) },
      attentionValues: { description: "WGSL: a thread per (head, dim), positions summed in order (bit-exact)", run: (a) => attentionValuesWebgpu(ctx, a) },
      add: { description: "WGSL element-wise", run: (a) => binaryWebgpu(ctx, "add", a) },
      multiply: { description: "WGSL element-wise", run: (a) => binaryWebgpu(ctx, "multiply", a) },
      gateActivation: { description: "WGSL element-wise ReLU² / SiLU (activeRows is host-only: filled with 1, count −1)", run: (a) => gateActivationWebgpu(ctx, a) },
      copyInto: { description: "a buffer-to-buffer copy in the command stream", run: (a) => copyIntoWebgpu(ctx, a) },
      causalAttention: { description: "per query token: its row copied out, WGSL scores, softmax and values, its output row copied in (one command stream)", run: (a) => causalAttentionWebgpu(ctx, a) },
      quantizeUnsignedInto: {
        description: "WGSL: a thread per (token, head), correctly rounded scale, round-half-even codes packed by atomics into the device store (bit-exact)",
        run: (a) => quantizeUnsignedIntoWebgpu(ctx, a),
      },
      dequantizeUnsigned: { description: "WGSL: a thread per value, codes from the device store's words (bit-exact)", run: (a) => dequantizeUnsignedWebgpu(ctx, a) },
      encodeHalf: { description: "WGSL: floatToHalf in integer arithmetic, a thread per word of two halves (bit-exact)", run: (a) => encodeHalfWebgpu(ctx, a) },
      decodeHalf: { description: "WGSL: halves to float32 bits, a thread per value (exact)", run: (a) => decodeHalfWebgpu(ctx, a) },
    },
    borrowed: {},
    unsupported: {
      rmsNormQuantize: "it takes and returns host arrays (codes on the host); on webgpu run norm, then quantize — both stay on the device",
      firstNonFinite: "a synchronous answer would read the tensor back; a model on webgpu checks its logits once read",
    },
    upload: (x) => ctx.upload(x),
    async read(x: Activations): Promise<Float32Array> {
      if (x instanceof Float32Array) return x;
      const t = ownTensor(runtime, x, "read");
      return new Float32Array(await runtime.read(t.buffer, 0, t.length * 4));
    },
    readQuantized(q: DeviceQuantized) {
      if (!(q instanceof WebgpuQuantized)) throw new KernelInputError(`readQuantized: expected quantized activations of this webgpu backend, got ones resident on ${q.owner}`);
      return readQuantizedWebgpu(ctx, q);
    },
    allocF32: (length: number) => {
      runtime.alive("allocF32");
      if (!Number.isInteger(length) || length < 0) throw new KernelInputError(`allocF32 length: expected a non-negative integer, got ${length}`);
      return ctx.output(length, "allocF32");
    },
    freeF32(a: Activations) {
      if (a instanceof Float32Array) return;
      ctx.tensors.free(ownTensor(runtime, a, "freeF32"));
    },
    dispose: () => runtime.dispose(),
  });
}
