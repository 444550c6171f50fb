/**
 * The `wasm` backend: SIMD kernels (kernels.wat.ts) over one shared WebAssembly.Memory, output rows split
 * across threads. Weights are copied into wasm memory once (prepareWeight) and stay packed: ternary weights in
 * onebit-t2 as they come; binary weights re-expressed as t2 codes {0, 2} (= w + 1), which keeps them packed at
 * 2 bits so the same SIMD kernel serves both; weights with per-column-group scales ("in" axis) are split into
 * one packed sub-weight per group so each group's dot product is separate.
 * Integer results are exact; the float epilogue (− Σx, × scales) runs in JS.
 *
 * Two kernel sets: baseline SIMD (every engine with wasm SIMD) and relaxed SIMD (16 int8 products per
 * instruction; Chrome 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd). `simd: "auto"` picks relaxed
 * where the engine validates it; both give identical integers (conformance runs both).
 */
import { packTernaryT2, t2RowBytes, unpackBinaryB1 } from "@onebit/quant";
import type { Backend, BitLinearOptions, PackedLinearWeight, PreparedWeight, QuantizedActivations } from "../backend";
import { KernelInputError } from "../backend";
import { rmsNormQuantizeImpl } from "../js/rms-norm-quantize";
import { ropeImpl } from "../js/rope";
import { softmaxImpl } from "../js/softmax";
import { registerKernel } from "../kernel-registry";
import { checkActivations, checkMask, checkWeight, outputBuffer } from "../validate-inputs";
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "./kernels-wasm.generated";
import { ThreadPool } from "./thread-pool";

const PAGE = 65536;

interface SubWeight {
  ptr: number;
  rowStride: number;
  blocks: number;
  /** column range of the original weight */
  start: number;
  end: number;
  scale: (o: number) => number;
}

interface WasmPreparedWeight extends PreparedWeight {
  subs: SubWeight[];
  columnGroups: number;
  /** The weight's own per-row scale when it has one scale per row group ("out") or per tensor. */
}

function decodeBase64(b64: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(b64, "base64"));
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export type WasmSimd = "baseline" | "relaxed";

const compiled: Partial<Record<WasmSimd, WebAssembly.Module>> = {};
export function kernelsModule(simd: WasmSimd = "baseline"): WebAssembly.Module {
  compiled[simd] ??= new WebAssembly.Module(decodeBase64(simd === "relaxed" ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64) as BufferSource);
  return compiled[simd]!;
}

let relaxedChecked: boolean | undefined;
/** Whether this engine runs the relaxed-SIMD kernels (checked once; a flag set later in the process is not seen). */
export function relaxedSimdAvailable(): boolean {
  relaxedChecked ??= WebAssembly.validate(decodeBase64(KERNELS_RELAXED_WASM_BASE64) as BufferSource);
  return relaxedChecked;
}

export function defaultThreads(): number {
  if (typeof navigator !== "undefined" && navigator.hardwareConcurrency) return navigator.hardwareConcurrency;
  return 1;
}

/** A bump allocator over the shared memory; scratch space is reused between calls and grows at the top. */
class Heap {
  private top = 1024; // keep address 0 free: 0 means "no mask"
  private scratchPtr = 0;
  private scratchSize = 0;
  constructor(readonly memory: WebAssembly.Memory) {}

  alloc(bytes: number): number {
    const ptr = (this.top + 15) & ~15;
    this.ensure(ptr + bytes);
    this.top = ptr + bytes;
    return ptr;
  }

  /** A scratch region of at least `bytes`, valid until the next scratch() call. */
  scratch(bytes: number): number {
    if (bytes > this.scratchSize) {
      this.scratchSize = Math.max(bytes, this.scratchSize * 2);
      this.scratchPtr = this.alloc(this.scratchSize);
    }
    return this.scratchPtr;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new KernelInputError(`wasm backend: cannot grow memory to ${Math.ceil(end / 2 ** 20)} MiB (${(e as Error).message}); the 32-bit wasm address space holds at most 4 GiB`);
    }
  }

  get u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }
}

export interface WasmBackendOptions {
  /** Worker threads including the caller's (default: all cores). */
  threads?: number;
  /** Kernel set: "auto" (default) = relaxed where the engine has relaxed SIMD, else baseline. */
  simd?: "auto" | WasmSimd;
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
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new KernelInputError(`wasm backend threads: expected an integer in [1, 64], got ${options.threads}`);
  if (typeof SharedArrayBuffer === "undefined")
    throw new KernelInputError("wasm backend needs SharedArrayBuffer (in a browser: serve the page cross-origin isolated, COOP + COEP headers)");
  const wanted = options.simd ?? "auto";
  if (wanted !== "auto" && wanted !== "baseline" && wanted !== "relaxed") throw new KernelInputError(`wasm backend simd: expected "auto", "baseline" or "relaxed", got ${JSON.stringify(wanted)}`);
  if (wanted === "relaxed" && !relaxedSimdAvailable())
    throw new KernelInputError(
      'wasm backend simd "relaxed": this engine has no relaxed SIMD (it is on in Chrome 114+ and Node 22+; Node 20 needs --experimental-wasm-relaxed-simd); available here: baseline',
    );
  const simd: WasmSimd = wanted === "auto" ? (relaxedSimdAvailable() ? "relaxed" : "baseline") : wanted;
  const relaxed = simd === "relaxed";
  const module = kernelsModule(simd);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = instance.exports;
  const heap = new Heap(memory);
  const pool = await ThreadPool.create(threads, module, memory);
  const c = pool.control;
  let disposed = false;

  function prepareWeight(w: PackedLinearWeight): PreparedWeight {
    checkWeight(w);
    const out = w.outFeatures;
    // ternary codes straight from the packed bytes; binary re-expressed as ternary ±1 codes
    const groups = w.scaleAxis === "in" ? w.scales.length : 1;
    const per = w.inFeatures / groups;
    const rowScale = (o: number, g: number) =>
      w.scaleAxis === "tensor" ? w.scales[0]! : w.scaleAxis === "in" ? w.scales[g]! : w.scales[Math.floor(o / (out / w.scales.length))]!;
    let source: { data: Uint8Array; cols: number }[];
    if (w.kind === "ternary" && groups === 1) source = [{ data: w.data, cols: w.inFeatures }];
    else {
      const values = w.kind === "binary" ? unpackBinaryB1(w.data, out, w.inFeatures) : null;
      source = [];
      for (let g = 0; g < groups; g++) {
        const sub = new Int8Array(out * per);
        for (let o = 0; o < out; o++)
          for (let i = 0; i < per; i++) {
            const col = g * per + i;
            sub[o * per + i] = values ? values[o * w.inFeatures + col]! : ternaryAt(w, o, col);
          }
        source.push({ data: packTernaryT2(sub, out, per), cols: per });
      }
    }
    const subs: SubWeight[] = source.map((s, g) => {
      const ptr = heap.alloc(s.data.length);
      heap.u8.set(s.data, ptr);
      return { ptr, rowStride: t2RowBytes(s.cols), blocks: t2RowBytes(s.cols) / 16, start: g * per, end: (g + 1) * per, scale: (o: number) => rowScale(o, g) };
    });
    const bytes = source.reduce((n, s) => n + s.data.length, 0) + w.scales.length * 4;
    const prepared: WasmPreparedWeight = { backend: "wasm", kind: w.kind, outFeatures: out, inFeatures: w.inFeatures, bytes, subs, columnGroups: groups };
    return prepared;
  }

  function bitLinear(pw: PreparedWeight, x: QuantizedActivations, options: BitLinearOptions = {}): Float32Array {
    if (disposed) throw new KernelInputError("wasm backend: used after dispose()");
    if (pw.backend !== "wasm") throw new KernelInputError(`bitLinear: weight was prepared by the ${pw.backend} backend, not wasm`);
    const w = pw as WasmPreparedWeight;
    checkActivations(w, x);
    checkMask(options.rowMask, w.outFeatures);
    const { tokens, features } = x;
    const out = w.outFeatures;
    const y = outputBuffer(options.out, tokens * out);
    // several column groups: sum their scaled dots in float64 and round once, exactly as the reference does
    const acc: Float32Array | Float64Array = w.subs.length > 1 ? new Float64Array(tokens * out) : y;
    acc.fill(0);
    if (x.groups !== 1 && x.groups !== w.columnGroups)
      throw new KernelInputError(`wasm bitLinear: activations have ${x.groups} feature groups but the weight has ${w.columnGroups} column groups; they must be equal (or the activations ungrouped)`);
    for (const sub of w.subs) {
      const cols = sub.end - sub.start;
      // activations: baseline = i16, each 16-chunk split even/odd (128 bytes per block); relaxed = int8 (64)
      const xStride = sub.blocks * (relaxed ? 64 : 128);
      const xg = x.groups === 1 ? 0 : w.subs.indexOf(sub);
      // scratch layout: [mask out bytes][x split i16: tokens·xStride][raw i32 out: tokens·out][sparse idx/val]
      const maskBytes = options.rowMask ? (out + 15) & ~15 : 0;
      const xBytes = tokens * xStride;
      const base = heap.scratch(maskBytes + xBytes + tokens * out * 4 + 8 * cols + 64);
      const maskPtr = options.rowMask ? base : 0;
      const xPtr = base + maskBytes;
      const outPtr = xPtr + xBytes;
      const buf = memory.buffer;
      if (options.rowMask) new Uint8Array(buf, maskPtr, out).set(options.rowMask);
      const xsum = new Float64Array(tokens);
      const sparse = x.sparse === true && tokens === 1;
      let nnz = 0;
      if (sparse) {
        const idx = new Int32Array(buf, outPtr + tokens * out * 4, cols);
        const val = new Int32Array(buf, outPtr + tokens * out * 4 + 4 * cols, cols);
        for (let i = 0; i < cols; i++) {
          const v = x.codes[sub.start + i]!;
          if (v !== 0) {
            idx[nnz] = i;
            val[nnz++] = v;
          }
        }
      }
      if (sparse && nnz * 4 < cols) {
        // sparse enough that scalar work on the non-zeros beats the dense SIMD sweep
        c[1] = 2;
        c[8] = sub.ptr;
        c[9] = sub.rowStride;
        c[11] = out;
        c[12] = maskPtr;
        c[13] = outPtr + tokens * out * 4;
        c[14] = outPtr + tokens * out * 4 + 4 * cols;
        c[15] = nnz;
        c[16] = outPtr;
        pool.run(ex);
      } else {
        if (relaxed) {
          const xs = new Int8Array(buf, xPtr, xBytes);
          xs.fill(0);
          for (let t = 0; t < tokens; t++) {
            let s = 0;
            const src = t * features + sub.start;
            const dst = t * xStride;
            for (let i = 0; i < cols; i++) {
              const v = x.codes[src + i]!;
              s += v;
              xs[dst + i] = v;
            }
            xsum[t] = s;
          }
        }
        const xs = relaxed ? null : new Int16Array(buf, xPtr, xBytes / 2);
        xs?.fill(0);
        for (let t = 0; xs && t < tokens; t++) {
          let s = 0;
          const src = t * features + sub.start;
          const dst = (t * xStride) / 2;
          for (let i = 0; i < cols; i++) {
            const v = x.codes[src + i]!;
            s += v;
            // chunk of 16: even elements to lanes 0..7, odd to lanes 8..15
            xs[dst + (i >> 4) * 16 + ((i & 1) << 3) + ((i & 15) >> 1)] = v;
          }
          xsum[t] = s;
        }
        c[1] = 1;
        c[8] = sub.ptr;
        c[9] = sub.rowStride;
        c[10] = sub.blocks;
        c[11] = out;
        c[12] = maskPtr;
        c[13] = xPtr;
        c[14] = xStride;
        c[15] = tokens;
        c[16] = outPtr;
        c[17] = out;
        c[18] = relaxed ? 1 : 0;
        pool.run(ex);
      }
      const raw = new Int32Array(memory.buffer, outPtr, tokens * out);
      const correction = sparse && nnz * 4 < cols ? null : xsum;
      for (let t = 0; t < tokens; t++) {
        const xScale = x.scales[t * x.groups + xg]!;
        const xs0 = correction ? correction[t]! : 0;
        for (let o = 0; o < out; o++) {
          if (options.rowMask && !options.rowMask[o]) continue;
          acc[t * out + o] += (raw[t * out + o]! - xs0) * sub.scale(o) * xScale;
        }
      }
    }
    if (acc !== y) y.set(acc);
    return y;
  }

  function matmulF32(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, outBuf?: Float32Array): Float32Array {
    if (x.length !== tokens * inFeatures) throw new KernelInputError(`matmulF32 x: has ${x.length} elements, expected tokens·in = ${tokens * inFeatures}`);
    if (w.length !== outFeatures * inFeatures) throw new KernelInputError(`matmulF32 w: has ${w.length} elements, expected out·in = ${outFeatures * inFeatures}`);
    const y = outputBuffer(outBuf, tokens * outFeatures);
    const wPtr = f32Cache.get(w) ?? cacheF32(w);
    const base = heap.scratch((x.length + y.length) * 4 + 32);
    new Float32Array(memory.buffer, base, x.length).set(x);
    const outPtr = base + ((x.length * 4 + 15) & ~15);
    c[1] = 3;
    c[8] = wPtr;
    c[10] = inFeatures;
    c[11] = outFeatures;
    c[13] = base;
    c[15] = tokens;
    c[16] = outPtr;
    pool.run(ex);
    y.set(new Float32Array(memory.buffer, outPtr, y.length));
    return y;
  }

  // f32 weights (embeddings, LM head) are copied into wasm memory on first use and kept.
  const f32Cache = new WeakMap<Float32Array, number>();
  function cacheF32(w: Float32Array): number {
    const ptr = heap.alloc(w.length * 4);
    new Float32Array(memory.buffer, ptr, w.length).set(w);
    f32Cache.set(w, ptr);
    return ptr;
  }

  return {
    name: "wasm",
    threads,
    simd,
    prepareWeight,
    bitLinear,
    // Element-wise ops are < 1 % of a decode step; the wasm backend runs them with the reference code.
    rmsNormQuantize: rmsNormQuantizeImpl,
    matmulF32,
    rope: ropeImpl,
    softmax: softmaxImpl,
    dispose() {
      if (!disposed) pool.dispose();
      disposed = true;
    },
  };
}

function ternaryAt(w: PackedLinearWeight, o: number, i: number): number {
  const byte = w.data[o * t2RowBytes(w.inFeatures) + (i >> 6) * 16 + (i & 15)]!;
  return ((byte >> (((i >> 4) & 3) * 2)) & 3) - 1;
}

registerKernel({ kernelName: "BitLinear", backendName: "wasm", description: "SIMD i32x4.dot_i16x8_s over onebit-t2, rows split across threads", impl: createWasmBackend });
registerKernel({ kernelName: "MatmulF32", backendName: "wasm", description: "SIMD f32x4, rows split across threads", impl: createWasmBackend });
