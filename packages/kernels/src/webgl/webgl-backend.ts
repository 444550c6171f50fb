/**
 * The `webgl` backend: gpu.js kernels on WebGL2 (in browsers; in Node only where gpu.js finds a headless GL —
 * the `gl` module built from source). Where neither exists, creating it throws — it never runs on the CPU.
 *
 * Weights stay packed on the GPU: the onebit-t2 bytes are paired into one float per two bytes (b0 + 256·b1, an
 * exact integer in a float32 texel), i.e. 4 bits per weight in a texture uploaded once by prepareWeight.
 * Binary weights are re-expressed as t2 codes {0, 2} (= w + 1), as the wasm backend does. A BitLinear call runs
 * one kernel pass per column segment (the stretch of columns that shares one weight scale and one activation
 * scale); each GPU thread (output row o, token t) decodes its row and sums code·x over the segment. Every value
 * involved is an integer below 2^24 and every division is by a power of two, so the float32 GPU arithmetic is
 * exact and the integer dot products equal the js reference's; the float epilogue (× scales) runs in JS with the
 * reference's expression, so BitLinear outputs are identical to `js` bit for bit.
 *
 * f32 matmul (embeddings, LM head) runs on the GPU with the reference's four-partial-sum order, but a GPU may
 * fuse multiply-adds, so its results are within float32 rounding of the reference (not bit-identical).
 * Element-wise ops (RMSNorm → quantization, RoPE, softmax) run the reference code, as on the wasm backend.
 */
import { packTernaryT2, t2RowBytes, unpackBinaryB1 } from "@onebit/quant";
import type { BitLinearOptions, PackedLinearWeight, PreparedWeight, QuantizedActivations } from "../backend";
import { KernelInputError } from "../backend";
import { columnSegments } from "../column-segments";
import { defineBackend } from "../contract/define-backend";
import { type Backend, prepareApart } from "../contract/kernel-table";
import { hostArray } from "../contract/tensors";
import { type JsPreparedDense, prepareDenseJs } from "../js/dense-prepared";
import { checkActivations, checkMask, checkMatmulF32, checkWeight, hostQuantized, outputBuffer } from "../validate-inputs";

// The subset of gpu.js this backend uses (gpu.js ships no types for its 2.24 API surface we rely on).
interface GpuKernel {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): GpuKernel;
  setConstants(constants: Record<string, number>): GpuKernel;
  setLoopMaxIterations(n: number): GpuKernel;
  setPipeline(flag: boolean): GpuKernel;
  setImmutable(flag: boolean): GpuKernel;
  setDynamicOutput(flag: boolean): GpuKernel;
  setDynamicArguments(flag: boolean): GpuKernel;
  setPrecision(precision: "single"): GpuKernel;
  setTactic(tactic: "precision"): GpuKernel;
  destroy?(removeCanvasReferences?: boolean): void;
}
interface GpuTexture {
  delete(): void;
}
interface GpuInstance {
  mode: string;
  createKernel(source: string, settings?: Record<string, unknown>): GpuKernel;
  destroy(): Promise<void> | void;
}
interface GpuStatic {
  new (settings: { mode: string; canvas?: unknown }): GpuInstance;
  isWebGL2Supported: boolean;
  isHeadlessGLSupported: boolean;
  isOffscreenCanvasSupported: boolean;
}

/** Integer dot products of one column segment: thread (o, t) → Σ_{i ∈ [start, end)} (code[o, i] − 1)·x[t, i]. */
const BITLINEAR_SEGMENT = `function (w, x, mask, start, end, blkStart, blkEnd) {
  const o = this.thread.x;
  const t = this.thread.y;
  let acc = 0;
  if (mask[o] > 0) {
    const rowHalf = o * this.constants.rowHalves;
    const xBase = t * this.constants.features;
    for (let blk = blkStart; blk < blkEnd; blk++) {
      for (let p = 0; p < 8; p++) {
        const v = w[rowHalf + blk * 8 + p];
        let a = v % 256;
        let b = Math.floor(v / 256);
        for (let k = 0; k < 4; k++) {
          const i0 = blk * 64 + k * 16 + 2 * p;
          const ca = a % 4;
          const cb = b % 4;
          a = Math.floor(a / 4);
          b = Math.floor(b / 4);
          if (i0 >= start && i0 < end) acc += (ca - 1) * x[xBase + i0];
          if (i0 + 1 >= start && i0 + 1 < end) acc += (cb - 1) * x[xBase + i0 + 1];
        }
      }
    }
  }
  return acc;
}`;

/** f32 matmul thread (o, t), with the reference's summation order: four partial sums, then the remainder. */
const MATMUL_F32 = `function (x, w) {
  const o = this.thread.x;
  const t = this.thread.y;
  const inF = this.constants.inF;
  const xb = t * inF;
  const wb = o * inF;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < this.constants.in4; i += 4) {
    s0 = s0 + w[wb + i] * x[xb + i];
    s1 = s1 + w[wb + i + 1] * x[xb + i + 1];
    s2 = s2 + w[wb + i + 2] * x[xb + i + 2];
    s3 = s3 + w[wb + i + 3] * x[xb + i + 3];
  }
  let s = (s0 + s1) + (s2 + s3);
  for (let i = this.constants.in4; i < inF; i++) s = s + w[wb + i] * x[xb + i];
  return s;
}`;

/** Copies a 1-D array into a GPU texture that later kernels read without another upload. */
const UPLOAD = `function (a) { return a[this.thread.x]; }`;

interface WebglPreparedWeight extends PreparedWeight {
  texture: GpuTexture;
  rowHalves: number;
  packed: PackedLinearWeight;
}

/** Why the webgl backend cannot run here, or null when it can. */
function unavailableReason(GPU: GpuStatic): string | null {
  const isNode = typeof process !== "undefined" && !!process.versions?.node && typeof window === "undefined";
  if (isNode)
    return GPU.isHeadlessGLSupported
      ? null
      : "gpu.js found no headless GL in Node (the optional `gl` module is not built; it needs a from-source build with libxi-dev and a display, e.g. xvfb-run)";
  if (typeof document === "undefined" && !GPU.isOffscreenCanvasSupported) return "no OffscreenCanvas in this worker";
  return GPU.isWebGL2Supported ? null : "this browser has no WebGL2";
}

async function loadGpu(): Promise<GpuStatic> {
  const mod = (await import("gpu.js")) as unknown as { GPU?: GpuStatic; default?: { GPU?: GpuStatic } };
  const GPU = mod.GPU ?? mod.default?.GPU;
  if (!GPU) throw new Error('backend "webgl": gpu.js did not export GPU; available backends: js, wasm');
  return GPU;
}

export async function webglAvailability(): Promise<{ available: boolean; reason?: string }> {
  try {
    const reason = unavailableReason(await loadGpu());
    return reason ? { available: false, reason } : { available: true };
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
}

export async function createWebglBackend(): Promise<Backend> {
  const GPU = await loadGpu();
  const reason = unavailableReason(GPU);
  if (reason) throw new KernelInputError(`backend "webgl" is not available here: ${reason}; available backends: js, wasm`);
  const isNode = typeof window === "undefined" && typeof document === "undefined" && typeof process !== "undefined";
  const gpu = new GPU({ mode: isNode ? "headlessgl" : "webgl2" });
  const kernels = new Map<string, GpuKernel>();
  const f32Textures = new WeakMap<Float32Array, GpuTexture>();
  const textures = new Set<GpuTexture>();
  let disposed = false;

  const kernel = (key: string, make: () => GpuKernel): GpuKernel => {
    let k = kernels.get(key);
    if (!k) {
      k = make();
      kernels.set(key, k);
    }
    return k;
  };

  function upload(values: Float32Array): GpuTexture {
    const k = kernel(`upload:${values.length}`, () =>
      gpu.createKernel(UPLOAD).setOutput([values.length]).setPipeline(true).setImmutable(true).setPrecision("single").setTactic("precision"),
    );
    const texture = k(values) as GpuTexture;
    textures.add(texture);
    return texture;
  }

  function alive(op: string): void {
    if (disposed) throw new KernelInputError(`webgl backend: ${op} after dispose()`);
  }

  function prepareWeight(w: PackedLinearWeight): PreparedWeight {
    alive("prepareWeight");
    checkWeight(w);
    const bytes = w.kind === "ternary" ? w.data : packTernaryT2(unpackBinaryB1(w.data, w.outFeatures, w.inFeatures), w.outFeatures, w.inFeatures);
    const rowBytes = t2RowBytes(w.inFeatures); // a multiple of 16, so rows start on whole float pairs
    const halves = new Float32Array(bytes.length / 2);
    for (let j = 0; j < halves.length; j++) halves[j] = bytes[2 * j]! + 256 * bytes[2 * j + 1]!;
    const prepared: WebglPreparedWeight = {
      backend: "webgl",
      kind: w.kind,
      outFeatures: w.outFeatures,
      inFeatures: w.inFeatures,
      bytes: halves.length * 4 + w.scales.length * 4,
      texture: upload(halves),
      rowHalves: rowBytes / 2,
      packed: w,
    };
    return prepared;
  }

  function bitLinear(pw: PreparedWeight, x: QuantizedActivations, options: BitLinearOptions = {}): Float32Array {
    alive("bitLinear");
    if (pw.backend !== "webgl") throw new KernelInputError(`bitLinear: weight was prepared by the ${pw.backend} backend, not webgl`);
    const w = pw as WebglPreparedWeight;
    checkActivations(w, x);
    checkMask(options.rowMask, w.outFeatures);
    const { tokens, features } = x;
    const out = w.outFeatures;
    const y = outputBuffer(options.out, tokens * out);
    const mask = options.rowMask ? Float32Array.from(options.rowMask, (m) => (m ? 1 : 0)) : new Float32Array(out).fill(1);
    const xs = Float32Array.from(x.codes);
    const blocks = w.rowHalves / 8;
    const k = kernel(`bitlinear:${w.rowHalves}:${features}`, () =>
      gpu
        .createKernel(BITLINEAR_SEGMENT)
        .setConstants({ rowHalves: w.rowHalves, features })
        .setLoopMaxIterations(Math.max(blocks, 8))
        .setDynamicOutput(true)
        .setDynamicArguments(true)
        .setPrecision("single")
        .setTactic("precision"),
    );
    k.setOutput([out, tokens]);
    const segments = columnSegments(features, w.packed.scaleAxis === "in" ? w.packed.scales.length : 1, x.groups);
    const acc = new Float64Array(tokens * out);
    for (const s of segments) {
      const rows = k(w.texture, xs, mask, s.start, s.end, Math.floor(s.start / 64), Math.ceil(s.end / 64)) as Float32Array[];
      for (let t = 0; t < tokens; t++) {
        const dots = rows[t]!;
        const xScale = x.scales[t * x.groups + s.xGroup]!;
        for (let o = 0; o < out; o++) acc[t * out + o] = acc[t * out + o]! + dots[o]! * weightScale(w.packed, o, s.wGroup) * xScale;
      }
    }
    for (let i = 0; i < acc.length; i++) y[i] = options.rowMask && !options.rowMask[i % out] ? 0 : acc[i]!;
    return y;
  }

  function matmulF32(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, outBuf?: Float32Array): Float32Array {
    alive("matmulF32");
    checkMatmulF32(x, tokens, w, outFeatures, inFeatures);
    const y = outputBuffer(outBuf, tokens * outFeatures);
    let wt = f32Textures.get(w);
    if (!wt) {
      wt = upload(w);
      f32Textures.set(w, wt);
    }
    const k = kernel(`matmul:${inFeatures}`, () =>
      gpu
        .createKernel(MATMUL_F32)
        .setConstants({ inF: inFeatures, in4: inFeatures & ~3 })
        .setLoopMaxIterations(Math.max(inFeatures, 4))
        .setDynamicOutput(true)
        .setDynamicArguments(true)
        .setPrecision("single")
        .setTactic("precision"),
    );
    k.setOutput([outFeatures, tokens]);
    const rows = k(x, wt) as Float32Array[];
    for (let t = 0; t < tokens; t++) y.set(rows[t]!.subarray(0, outFeatures), t * outFeatures);
    return y;
  }

  return defineBackend({
    name: "webgl",
    threads: 1,
    residency: "host",
    native: {
      prepareWeight: { description: "gpu.js WebGL2: packed t2 uploaded as a texture (2 bytes per texel)", run: ({ weight }) => prepareWeight(weight) },
      prepareWeights: {
        description: "each weight in its own texture (no joined weight)",
        run: ({ weights }) => prepareApart(weights, (w) => prepareWeight(w)),
      },
      bitLinear: {
        description: "gpu.js WebGL2: exact float32 integer dots per column segment, read back per call",
        run: ({ weight, input, rowMask, out }) => bitLinear(weight, hostQuantized(input), { rowMask, out }),
      },
      matmulF32: {
        description: "gpu.js WebGL2: one thread per output, four partial sums",
        run: ({ x, tokens, weight, outFeatures, inFeatures, out }) => matmulF32(hostArray(x, "matmulF32 x"), tokens, weight, outFeatures, inFeatures, out),
      },
      prepareDense: {
        description: "f32 uploaded as a texture on first use; int8 / int4 kept for the reference",
        run({ weight, outFeatures, inFeatures, format }) {
          alive("prepareDense");
          return prepareDenseJs("webgl", weight, outFeatures, inFeatures, format);
        },
      },
      dense: {
        description: "f32 on the GPU (matmulF32); int8 (W8A16) and int4 (W4A8) with the reference on the CPU",
        partial: true,
        run(args, borrow) {
          alive("dense");
          const { weight: pw, x, tokens, out } = args;
          if (pw.backend !== "webgl") throw new KernelInputError(`dense: weight was prepared by the ${pw.backend} backend, not webgl`);
          const w = pw as JsPreparedDense;
          return w.f32 ? matmulF32(hostArray(x, "dense x"), tokens, w.f32, w.outFeatures, w.inFeatures, out) : borrow(args);
        },
      },
    },
    borrowed: {
      quantize: "activation quantization is O(features) per token; WebGL has no integer output to keep it on the GPU",
      rmsNormQuantize: "element-wise, on the CPU beside quantize",
      norm: "element-wise; every gpu.js call reads back, so a GPU norm would cost a round trip",
      rope: "element-wise; a GPU pass would cost a readback per call",
      softmax: "per-position scores are small; a GPU pass would cost a readback",
      attentionScores: "reads the KV cache on the CPU: its O(context) work per token is small beside the projections",
      attentionValues: "reads the KV cache on the CPU (see attentionScores)",
      causalAttention: "reads the KV cache on the CPU (see attentionScores)",
      dequantizeUnsigned: "low-bit KV decode on the CPU beside the attention kernels",
      add: "element-wise on host activations",
      multiply: "element-wise on host activations",
      gateActivation: "element-wise on host activations",
      copyInto: "KV writes into host memory",
      firstNonFinite: "a scan of host activations",
      denseRows: "rows of the host-held dense weight (prepareDense keeps f32 / int8 / int4 in JS memory)",
      quantizeUnsignedInto: "low-bit KV writes into host memory, beside the attention kernels",
      encodeHalf: "f16 KV writes into host memory",
      decodeHalf: "f16 KV decode on the CPU beside the attention kernels",
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const t of textures) t.delete();
      for (const k of kernels.values()) k.destroy?.();
      void gpu.destroy();
    },
  });
}

function weightScale(w: PackedLinearWeight, o: number, wGroup: number): number {
  if (w.scaleAxis === "tensor") return w.scales[0]!;
  if (w.scaleAxis === "in") return w.scales[wGroup]!;
  return w.scales[Math.floor(o / (w.outFeatures / w.scales.length))]!;
}

