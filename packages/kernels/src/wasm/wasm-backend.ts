/**
 * The `wasm` backend: SIMD kernels (kernels.wat.ts) over one shared WebAssembly.Memory, output rows split
 * across threads. This file composes it: the memory, the thread pool, the heap, and the ops, declared against the
 * kernel contract. The parts:
 *   abi.ts            the job ABI (op codes, control-block slots, export names) shared with the workers
 *   job-driver.ts     the job loop each thread runs; thread-pool.ts the workers and the hand-off
 *   wasm-module.ts    the compiled kernel sets, relaxed-SIMD detection
 *   heap.ts           the allocator over the shared memory and the KV arrays (allocF32)
 *   layout.ts         how weights and activations are laid out for the ternary kernels
 *   bit-linear-ops.ts, dense-ops.ts, attention-ops.ts, quantize-ops.ts   the ops, each over a WasmContext
 * Weights are copied into wasm memory once (prepareWeight / prepareDense) and stay packed. Integer results are
 * exact; the float epilogue (− Σx, × scales) runs in JS.
 *
 * Two kernel sets: baseline SIMD (every engine with wasm SIMD) and relaxed SIMD (16 int8 products per
 * instruction; Chrome 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd). `simd: "auto"` picks relaxed
 * where the engine validates it; both give identical integers (conformance runs both).
 */
import { KernelInputError } from "../backend";
import { defineBackend } from "../contract/define-backend";
import type { Backend } from "../contract/kernel-table";
import { hostCodes } from "../contract/kv-codes";
import { hostArray } from "../contract/tensors";
import { checkCopyInto } from "../js/elementwise";
import { checkNorm } from "../js/norm";
import { hostQuantized } from "../validate-inputs";
import { kernelExports, MAX_THREADS } from "./abi";
import { attentionScores, attentionValues, causalAttention, softmaxRows } from "./attention-ops";
import { bitLinear, prepareWeight, prepareWeights, type TernaryLayout } from "./bit-linear-ops";
import type { WasmContext } from "./context";
import { dense, denseRows, matmulF32, prepareDense } from "./dense-ops";
import { binary, gateActivation, rmsNorm, rope } from "./elementwise-ops";
import { decodeHalf } from "./half-ops";
import { Heap, KvArrays } from "./heap";
import { LutTuner } from "./lut-tuner";
import { dequantizeUnsigned, quantizeRows } from "./quantize-ops";
import { ThreadPool } from "./thread-pool";
import { defaultThreads, kernelsModule, relaxedSimdAvailable, type WasmSimd } from "./wasm-module";

export { defaultThreads, kernelsModule, relaxedSimdAvailable, type WasmSimd } from "./wasm-module";

export interface WasmBackendOptions {
  /** Worker threads including the caller's (default: all cores). */
  threads?: number;
  /** Kernel set: "auto" (default) = relaxed where the engine has relaxed SIMD, else baseline. */
  simd?: "auto" | WasmSimd;
  /**
   * How prepareWeight places ternary (and binary) weights: "t2" (default) keeps onebit-t2, 2 bits per weight;
   * "t1" transcodes to onebit-t1, 1.6 bits per weight, read by the t1 kernels (t1-dot.wat.ts): 0.8× the bytes, more
   * ALU work per weight (docs/kernels.md has the measurements).
   */
  ternaryLayout?: TernaryLayout;
}

export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  let threads = options.threads;
  if (threads === undefined) {
    threads = defaultThreads();
    if (typeof process !== "undefined" && process.versions?.node) {
      const os = await import("node:os");
      threads = os.availableParallelism?.() ?? os.cpus().length;
    }
  }
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
    throw new KernelInputError(`wasm backend threads: expected an integer in [1, ${MAX_THREADS}], got ${options.threads}`);
  if (typeof SharedArrayBuffer === "undefined")
    throw new KernelInputError("wasm backend needs SharedArrayBuffer (in a browser: serve the page cross-origin isolated, COOP + COEP headers)");
  const wanted = options.simd ?? "auto";
  if (wanted !== "auto" && wanted !== "baseline" && wanted !== "relaxed") throw new KernelInputError(`wasm backend simd: expected "auto", "baseline" or "relaxed", got ${JSON.stringify(wanted)}`);
  if (wanted === "relaxed" && !relaxedSimdAvailable())
    throw new KernelInputError(
      'wasm backend simd "relaxed": this engine has no relaxed SIMD (it is on in Chrome 114+ and Node 22+; Node 20 needs --experimental-wasm-relaxed-simd); available here: baseline',
    );
  const layout = options.ternaryLayout ?? "t2";
  if (layout !== "t1" && layout !== "t2") throw new KernelInputError(`wasm backend ternaryLayout: expected "t1" or "t2", got ${JSON.stringify(layout)}`);
  const simd: WasmSimd = wanted === "auto" ? (relaxedSimdAvailable() ? "relaxed" : "baseline") : wanted;
  const relaxed = simd === "relaxed";
  const module = kernelsModule(simd);
  // 64 pages (4 MiB) to start; the heap grows it as weights arrive, up to the 4 GiB of 32-bit addresses
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = kernelExports(instance, relaxed); // before the workers start: a stale module fails here
  const heap = new Heap(memory);
  const pool = await ThreadPool.create(threads, module, memory);
  let disposed = false;
  const ctx: WasmContext = {
    heap,
    pool,
    exports,
    relaxed,
    alive: () => {
      if (disposed) throw new KernelInputError("wasm backend: used after dispose()");
    },
    f32Weights: new WeakMap(),
    lutTuner: new LutTuner(),
  };
  const kv = new KvArrays(heap, () => disposed);
  const allocF32 = (length: number): Float32Array => {
    ctx.alive();
    return kv.alloc(length);
  };

  const H = hostArray;
  return defineBackend({
    name: "wasm",
    threads,
    simd,
    residency: "host",
    native: {
      prepareWeight: {
        description:
          layout === "t1"
            ? "packed t2 transcoded once into onebit-t1 (1.6 bits/weight) in wasm memory"
            : "packed t2 copied into wasm memory once, rows interleaved in pairs (with sparseInputs and relaxed SIMD: column panels)",
        run: ({ weight, sparseInputs }) => prepareWeight(ctx, weight, layout, undefined, sparseInputs === true),
      },
      prepareWeights: {
        description: "t2 weights of one input in one block of wasm memory, with a weight over all their rows (one GEMM for q, k and v)",
        run: ({ weights }) => prepareWeights(ctx, weights, layout),
      },
      bitLinear: {
        description:
          layout === "t1"
            ? `${simd} SIMD over onebit-t1 (base-3 trits by i8x16 adds and compares, ${relaxed ? "i16x8.relaxed_dot_i8x16_i7x16_s" : "i32x4.dot_i16x8_s"}), rows split across ${threads} thread(s); sparse inputs by the dense t1 kernel`
            : `${simd} SIMD over onebit-t2 (${relaxed ? "i16x8.relaxed_dot_i8x16_i7x16_s; prompts of ≥ 12 tokens by table lookup, t2-gemm-lut.wat.ts" : "i32x4.dot_i16x8_s"}), rows split across ${threads} thread(s); sparse inputs by gathered non-zeros`,
        run: ({ weight, input, rowMask, out }) => bitLinear(ctx, weight, hostQuantized(input), { rowMask, out }),
      },
      quantize: {
        description: "int8 / int4 per token in SIMD (absmax, f32x4.nearest, saturating narrows, zeros by bitmask); absmax8, fp4, Top-K and grouped inputs on the reference",
        partial: true,
        run: (args, borrow) =>
          (args.kind === "int8" || args.kind === "int4") && (args.groups ?? 1) === 1 ? quantizeRows(ctx, H(args.x, "quantize x"), args.tokens, args.features, args.kind, args.epsMode, args.out) : borrow(args),
      },
      matmulF32: {
        description: "SIMD f32x4, rows split across threads",
        run: ({ x, tokens, weight, outFeatures, inFeatures, out }) => matmulF32(ctx, H(x, "matmulF32 x"), tokens, weight, outFeatures, inFeatures, out),
      },
      prepareDense: {
        description: "f32, int8 (W8A16) or int4 (W4A8) rows in wasm memory, quantized chunk by chunk straight into it",
        run: ({ weight, outFeatures, inFeatures, format }) => prepareDense(ctx, weight, outFeatures, inFeatures, format),
      },
      dense: {
        description: `f32x4 matmul; W8A16: int8 rows × int16 activations by i32x4.dot_i16x8_s per 256-column block; W4A8: Q4_0 rows × per-block int8 activations by ${relaxed ? "i16x8.relaxed_dot_i8x16_i7x16_s" : "i16x8.extmul_*_i8x16_s"}, four blocks per f32x4 step; rows split across threads`,
        run: ({ weight, x, tokens, out }) => dense(ctx, weight, H(x, "dense x"), tokens, out),
      },
      denseRows: { description: "rows dequantized from the weight's wasm memory (f32 copied)", run: ({ weight, start, count, out }) => denseRows(ctx, weight, start, count, out) },
      attentionScores: {
        description: "SIMD f32x4 scores over an f32 KV store read in place, heads split across threads",
        run: ({ q, heads, keys, kvHeads, headDim, positions, scale, out }) => attentionScores(ctx, H(q, "attentionScores q"), heads, H(keys, "attentionScores keys"), kvHeads, headDim, positions, scale, out),
      },
      attentionValues: {
        description: "SIMD f32x4 weighted values over an f32 KV store read in place, heads split across threads",
        run: ({ p, heads, values, kvHeads, headDim, positions, out }) =>
          attentionValues(ctx, H(p, "attentionValues p"), heads, H(values, "attentionValues values"), kvHeads, headDim, positions, out === undefined ? undefined : H(out, "attentionValues out")),
      },
      causalAttention: {
        description: "one job of tokens·heads items over an f32 KV store read in place, each scores → softmax (float64, fdlibm's exp) → values in wasm, items claimed across threads",
        run: ({ q, tokens, heads, keys, values, kvHeads, headDim, start, scale, out }) =>
          causalAttention(ctx, H(q, "causalAttention q"), tokens, heads, H(keys, "causalAttention keys"), H(values, "causalAttention values"), kvHeads, headDim, start, scale, out),
      },
      softmax: { description: "float64 softmax in wasm with fdlibm's exp (Math.exp's bits), softmax.wat.ts", run: ({ x, rows, cols }) => softmaxRows(ctx, H(x, "softmax x"), rows, cols) },
      dequantizeUnsigned: {
        description: "4-bit KV codes to f32 in SIMD (nibble shuffle), 3- and 8-bit through a 16-bit window",
        run: ({ codes, bitOffset, bits, groups, groupSize, scales, offsets, out, firstGroup }) =>
          dequantizeUnsigned(ctx, hostCodes(codes, "dequantizeUnsigned codes", "Uint8Array"), bitOffset, bits, groups, groupSize, H(scales, "dequantizeUnsigned scales"), H(offsets, "dequantizeUnsigned offsets"), H(out, "dequantizeUnsigned out"), firstGroup),
      },
      norm: {
        description: "RMSNorm in f32x4 (Σx² in float64 in the reference's order, elementwise.wat.ts); grouped and LayerNorm on the reference",
        partial: true,
        run: (args, borrow) => {
          if (args.kind !== "rms" || (args.groups ?? 1) !== 1) return borrow(args);
          const x = H(args.x, "norm x");
          checkNorm(x, args.tokens, args.features, args.gain, args.kind, 1);
          return rmsNorm(ctx, x, args.tokens, args.features, args.gain, args.eps, args.out);
        },
      },
      gateActivation: {
        description: "SiLU (the reference's float32 expf, lane by lane) and ReLU² with its active rows in f32x4 (elementwise.wat.ts); active rows of a width not a multiple of 4 on the reference",
        partial: true,
        run: (args, borrow) =>
          args.activation === "relu2" && args.activeRows !== undefined && args.features % 4 !== 0
            ? borrow(args)
            : gateActivation(ctx, H(args.x, "gateActivation x"), args.tokens, args.features, args.activation, args.activeRows),
      },
      rope: {
        description: "float64 rotations in wasm from the reference's cos/sin table (elementwise.wat.ts ew_rope)",
        run: ({ x, tokens, heads, headDim, positions, theta, style }) => rope(ctx, H(x, "rope x"), tokens, heads, headDim, positions, theta, style),
      },
      decodeHalf: {
        description: "f16_decode, sixteen halves a step, a store in wasm memory read in place",
        run: ({ src, srcOffset, length, out }) => decodeHalf(ctx, hostCodes(src, "decodeHalf src", "Uint16Array"), srcOffset ?? 0, length, H(out, "decodeHalf out")),
      },
      add: { description: "f32x4 add in place", run: ({ x, y }) => binary(ctx, "add", H(x, "add x"), H(y, "add y")) },
      multiply: { description: "f32x4 product in place", run: ({ x, y }) => binary(ctx, "multiply", H(x, "multiply x"), H(y, "multiply y")) },
      copyInto: {
        description: "memory.copy when both arrays lie in wasm memory (a KV write into the wasm-placed store); other arrays on the reference",
        partial: true,
        run: (args, borrow) => {
          const src = H(args.src, "copyInto src");
          const dst = H(args.dst, "copyInto dst");
          ctx.alive();
          const { heap } = ctx;
          if (!heap.owns(src) || !heap.owns(dst)) return borrow(args);
          // (a typed-array set within shared memory is ≈ 3× slower than memory.copy: 60 KV rows a 2B4T decode step)
          const srcOffset = args.srcOffset ?? 0;
          const length = args.length ?? src.length - srcOffset;
          checkCopyInto(src.length, dst.length, args.dstOffset, srcOffset, length);
          ctx.exports.mem_copy(dst.byteOffset + 4 * args.dstOffset, src.byteOffset + 4 * srcOffset, 4 * length);
        },
      },
      firstNonFinite: {
        description: "f32x4 sums of x − x over an array in wasm memory, read in place (elementwise.wat.ts); other arrays on the reference",
        partial: true,
        run: (args, borrow) => {
          const x = H(args.x, "firstNonFinite x");
          ctx.alive();
          return ctx.heap.owns(x) ? ctx.exports.ew_first_nonfinite(x.byteOffset, x.length) : borrow(args);
        },
      },
    },
    // What remains borrowed is O(features) per token too: it runs the reference on the same arrays.
    borrowed: {
      rmsNormQuantize: "element-wise, O(features) per token",
      quantizeUnsignedInto: "a KV write: O(kvHeads·headDim) per token, beside the codes in host memory",
      encodeHalf: "a KV write: O(kvHeads·headDim) per token",
    },
    allocF32,
    freeF32: (a) => kv.free(H(a, "freeF32")),
    dispose() {
      if (!disposed) pool.dispose();
      disposed = true;
    },
  });
}
