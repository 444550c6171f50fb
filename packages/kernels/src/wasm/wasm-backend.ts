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
import { type EpsMode, guard, packTernaryT2, SQRT7, t2RowBytes, unpackBinaryB1 } from "@onebit/quant";
import type { Backend, BitLinearOptions, DenseFormat, PackedLinearWeight, PreparedDense, PreparedWeight, QuantizedActivations } from "../backend";
import { KernelInputError } from "../backend";
import { checkAttention } from "../js/attention";
import { checkDense, quantizeDenseInt8, quantizeInt16Rows } from "../js/dense";
import { checkDequantizeUnsigned } from "../js/dequantize-unsigned";
import { checkQuantizeRows, type RowQuantKind } from "../js/quantize-rows";
import { rmsNormQuantizeImpl } from "../js/rms-norm-quantize";
import { ropeImpl } from "../js/rope";
import { softmaxImpl } from "../js/softmax";
import { registerKernel } from "../kernel-registry";
import { checkActivations, checkMask, checkMatmulF32, checkWeight, outputBuffer } from "../validate-inputs";
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from "./kernels-wasm.generated";
import { ThreadPool } from "./thread-pool";

const PAGE = 65536;

interface SubWeight {
  ptr: number;
  rowStride: number;
  blocks: number;
  out: number;
  /** column range of the original weight */
  start: number;
  end: number;
  /** the weight scale of each output row for this column group */
  rowScales: Float32Array;
}

interface WasmPreparedDense extends PreparedDense {
  /** f32 weights or int8 codes [out, in] */
  ptr: number;
  /** int8: f32 scales [out, blocks] */
  scalesPtr: number;
  blocks: number;
  blockLen: number;
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

/**
 * An allocator over the shared memory: first fit from a free list (neighbours coalesced), else bump the top.
 * Weights live as long as the backend; KV caches (allocF32) come and go with generation requests, so their
 * blocks are returned and reused. Scratch space is reused between calls and replaced when a call needs more.
 */
class Heap {
  private top = 1024; // keep address 0 free: 0 means "no mask"
  private readonly live = new Map<number, number>();
  /** free blocks, sorted by address, never adjacent (coalesced) */
  private readonly blocks: Array<{ ptr: number; size: number }> = [];
  private scratchPtr = 0;
  private scratchSize = 0;
  /** Every SharedArrayBuffer this memory has handed out (one per size after growth): views on them live in the heap. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  constructor(readonly memory: WebAssembly.Memory) {}

  alloc(bytes: number): number {
    const size = Math.max(16, (bytes + 15) & ~15);
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) this.blocks.splice(i, 1);
      else {
        b.ptr += size;
        b.size -= size;
      }
      this.live.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    this.live.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new KernelInputError(`wasm backend: no allocation at ${ptr} to release`);
    this.live.delete(ptr);
    let i = 0;
    while (i < this.blocks.length && this.blocks[i]!.ptr < ptr) i++;
    this.blocks.splice(i, 0, { ptr, size });
    const next = this.blocks[i + 1];
    if (next && ptr + size === next.ptr) {
      this.blocks[i]!.size += next.size;
      this.blocks.splice(i + 1, 1);
    }
    const prev = this.blocks[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.blocks[i]!.size;
      this.blocks.splice(i, 1);
      i--;
    }
    const last = this.blocks[this.blocks.length - 1]!;
    if (last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.blocks.pop();
    }
  }

  /** A scratch region of at least `bytes`, valid until the next scratch() call. */
  scratch(bytes: number): number {
    if (bytes > this.scratchSize) {
      if (this.scratchPtr) this.release(this.scratchPtr);
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

  /** The memory's current buffer (shared memory never detaches: older views stay valid). */
  get buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  /** Whether a view lies in this heap (then its byteOffset is its wasm address). */
  owns(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer);
  }

  get u8(): Uint8Array {
    return new Uint8Array(this.buffer);
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
  // the kernels that run on this thread alone (no job split)
  const direct = ex as Record<string, (...args: number[]) => number>;
  let disposed = false;
  const alive = () => {
    if (disposed) throw new KernelInputError("wasm backend: used after dispose()");
  };

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
      const pairs = interleaveRowPairs(s.data, out, t2RowBytes(s.cols));
      const ptr = heap.alloc(pairs.length);
      heap.u8.set(pairs, ptr);
      return {
        ptr,
        rowStride: t2RowBytes(s.cols),
        blocks: t2RowBytes(s.cols) / 16,
        out,
        start: g * per,
        end: (g + 1) * per,
        rowScales: Float32Array.from({ length: out }, (_, o) => rowScale(o, g)),
      };
    });
    const bytes = source.reduce((n, s) => n + (s.data.length + (out & 1) * t2RowBytes(s.cols)), 0) + w.scales.length * 4;
    const prepared: WasmPreparedWeight = { backend: "wasm", kind: w.kind, outFeatures: out, inFeatures: w.inFeatures, bytes, subs, columnGroups: groups };
    return prepared;
  }

  function bitLinear(pw: PreparedWeight, x: QuantizedActivations, options: BitLinearOptions = {}): Float32Array {
    alive();
    if (pw.backend !== "wasm") throw new KernelInputError(`bitLinear: weight was prepared by the ${pw.backend} backend, not wasm`);
    const w = pw as WasmPreparedWeight;
    checkActivations(w, x);
    checkMask(options.rowMask, w.outFeatures);
    if (x.groups !== 1 && x.groups !== w.columnGroups)
      throw new KernelInputError(`wasm bitLinear: activations have ${x.groups} feature groups but the weight has ${w.columnGroups} column groups; they must be equal (or the activations ungrouped)`);
    const { tokens } = x;
    const out = w.outFeatures;
    const y = outputBuffer(options.out, tokens * out);
    // several column groups: sum their scaled dots in float64 and round once, exactly as the reference does
    const acc = w.subs.length > 1 ? new Float64Array(tokens * out) : null;
    w.subs.forEach((sub, g) => {
      const raw = runSub(sub, x, options.rowMask);
      const xg = x.groups === 1 ? 0 : g;
      if (acc) accumulateSub(acc, raw.dots, raw.xsum, sub.rowScales, x.scales, x.groups, xg, tokens, out);
      else storeSub(y, raw.dots, raw.xsum, sub.rowScales, x.scales, x.groups, tokens, out, options.rowMask);
    });
    if (acc) {
      if (options.rowMask) for (let i = 0; i < acc.length; i++) if (!options.rowMask[i % out]) acc[i] = 0;
      y.set(acc);
    }
    return y;
  }

  /**
   * One column group's integer dots: out[t, o] = Σ code·x (dense kernels, code = w + 1: the caller subtracts xsum)
   * or Σ w·x (sparse kernel: xsum = null). Views into scratch, valid until the next kernel call.
   */
  function runSub(sub: SubWeight, x: QuantizedActivations, rowMask: Uint8Array | undefined): { dots: Int32Array; xsum: Float64Array | null } {
    const { tokens, features } = x;
    const out = sub.out;
    const cols = sub.end - sub.start;
    // activations: baseline = i16, each 16-chunk split even/odd (128 bytes per block); relaxed = int8 (64)
    const xStride = sub.blocks * (relaxed ? 64 : 128);
    // scratch layout: [mask: out bytes][x: tokens·xStride][dots: i32 tokens·out][sparse idx/val: 2·cols i32]
    const maskBytes = rowMask ? (out + 15) & ~15 : 0;
    const xBytes = tokens * xStride;
    const base = heap.scratch(maskBytes + xBytes + tokens * out * 4 + 8 * cols + 64);
    const maskPtr = rowMask ? base : 0;
    const xPtr = base + maskBytes;
    const outPtr = xPtr + xBytes;
    const buf = heap.buffer;
    if (rowMask) new Uint8Array(buf, maskPtr, out).set(rowMask);
    // the sparse kernel wins only below 25 % non-zeros; a known zero count spares the gather when it cannot
    const tooDense = x.zeros !== undefined && cols === features && (features - x.zeros) * 4 >= cols;
    if (x.sparse === true && tokens === 1 && !tooDense) {
      const idxPtr = outPtr + tokens * out * 4;
      const nnz = gatherNonZeros(x.codes, sub.start, cols, new Int32Array(buf, idxPtr, cols), new Int32Array(buf, idxPtr + 4 * cols, cols));
      if (nnz * 4 < cols) {
        // sparse enough that scalar work on the non-zeros beats the dense SIMD sweep
        c[1] = 2;
        c[8] = sub.ptr;
        c[9] = sub.rowStride;
        c[11] = out;
        c[12] = maskPtr;
        c[13] = idxPtr;
        c[14] = idxPtr + 4 * cols;
        c[15] = nnz;
        c[16] = outPtr;
        pool.run(ex);
        return { dots: new Int32Array(buf, outPtr, tokens * out), xsum: null };
      }
    }
    const xsum = new Float64Array(tokens);
    for (let t = 0; t < tokens; t++)
      xsum[t] = relaxed
        ? placeInt8(x.codes, t * features + sub.start, cols, new Int8Array(buf, xPtr + t * xStride, xStride))
        : placeSplitI16(x.codes, t * features + sub.start, cols, new Int16Array(buf, xPtr + t * xStride, xStride / 2));
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
    return { dots: new Int32Array(buf, outPtr, tokens * out), xsum };
  }

  function matmulF32(x: Float32Array, tokens: number, w: Float32Array, outFeatures: number, inFeatures: number, outBuf?: Float32Array): Float32Array {
    checkMatmulF32(x, tokens, w, outFeatures, inFeatures);
    return runMatmulF32(f32Cache.get(w) ?? cacheF32(w), x, tokens, outFeatures, inFeatures, outputBuffer(outBuf, tokens * outFeatures));
  }

  function runMatmulF32(wPtr: number, x: Float32Array, tokens: number, outFeatures: number, inFeatures: number, y: Float32Array): Float32Array {
    alive();
    const base = heap.scratch((x.length + y.length) * 4 + 32);
    new Float32Array(heap.buffer, base, x.length).set(x);
    const outPtr = base + ((x.length * 4 + 15) & ~15);
    c[1] = 3;
    c[8] = wPtr;
    c[10] = inFeatures;
    c[11] = outFeatures;
    c[13] = base;
    c[15] = tokens;
    c[16] = outPtr;
    pool.run(ex);
    y.set(new Float32Array(heap.buffer, outPtr, y.length));
    return y;
  }

  function prepareDense(w: Float32Array, outFeatures: number, inFeatures: number, format: DenseFormat): PreparedDense {
    alive();
    checkDense(w, outFeatures, inFeatures, format);
    if (format === "f32") {
      const prepared: WasmPreparedDense = { backend: "wasm", format, outFeatures, inFeatures, bytes: w.byteLength, ptr: f32Cache.get(w) ?? cacheF32(w), scalesPtr: 0, blocks: 1, blockLen: inFeatures };
      return prepared;
    }
    const q = quantizeDenseInt8(w, outFeatures, inFeatures);
    const ptr = heap.alloc(q.codes.byteLength);
    new Int8Array(heap.buffer, ptr, q.codes.length).set(q.codes);
    const scalesPtr = heap.alloc(q.scales.byteLength);
    new Float32Array(heap.buffer, scalesPtr, q.scales.length).set(q.scales);
    const prepared: WasmPreparedDense = { backend: "wasm", format, outFeatures, inFeatures, bytes: q.codes.byteLength + q.scales.byteLength, ptr, scalesPtr, blocks: q.blocks, blockLen: q.blockLen };
    return prepared;
  }

  function dense(pw: PreparedDense, x: Float32Array, tokens: number, outBuf?: Float32Array): Float32Array {
    alive();
    if (pw.backend !== "wasm") throw new KernelInputError(`dense: weight was prepared by the ${pw.backend} backend, not wasm`);
    const w = pw as WasmPreparedDense;
    const { outFeatures: outF, inFeatures: inF } = w;
    if (x.length !== tokens * inF) throw new KernelInputError(`dense x: has ${x.length} elements, expected tokens·in = ${tokens * inF}`);
    const y = outputBuffer(outBuf, tokens * outF);
    if (w.format === "f32") return runMatmulF32(w.ptr, x, tokens, outF, inF, y);
    const xq = quantizeInt16Rows(x, tokens, inF);
    const xBytes = (inF * 2 + 15) & ~15;
    const base = heap.scratch(xBytes + outF * 4);
    for (let t = 0; t < tokens; t++) {
      new Int16Array(heap.buffer, base, inF).set(xq.codes.subarray(t * inF, (t + 1) * inF));
      c[1] = 6;
      c[8] = w.ptr;
      c[9] = inF;
      c[10] = w.scalesPtr;
      c[11] = outF;
      c[12] = w.blocks;
      c[13] = w.blockLen;
      c[14] = base;
      c[16] = base + xBytes;
      pool.run(ex);
      const raw = new Float32Array(heap.buffer, base + xBytes, outF);
      const xs = xq.scales[t]!;
      for (let o = 0; o < outF; o++) y[t * outF + o] = raw[o]! * xs;
    }
    return y;
  }

  // f32 weights (embeddings, LM head) are copied into wasm memory on first use and kept.
  const f32Cache = new WeakMap<Float32Array, number>();
  function cacheF32(w: Float32Array): number {
    const ptr = heap.alloc(w.length * 4);
    new Float32Array(heap.buffer, ptr, w.length).set(w);
    f32Cache.set(w, ptr);
    return ptr;
  }

  /** quantizeInt8 / quantizeInt4 per token in SIMD (statistics and codes in wasm, the scale arithmetic in JS). */
  function quantizeRows(x: Float32Array, tokens: number, features: number, kind: RowQuantKind, epsMode?: EpsMode): QuantizedActivations {
    alive();
    checkQuantizeRows(x, tokens, features, kind);
    const n = tokens * features;
    const xBytes = (n * 4 + 15) & ~15;
    const statsBytes = (tokens * 8 + 15) & ~15;
    const sBytes = (tokens * 4 + 15) & ~15;
    const base = heap.scratch(xBytes + statsBytes + sBytes + n + 16);
    const statsPtr = base + xBytes;
    const sPtr = statsPtr + statsBytes;
    const codesPtr = sPtr + sBytes;
    new Float32Array(heap.buffer, base, n).set(x);
    direct.row_stats!(base, features, tokens, kind === "int4" ? 1 : 0, statsPtr);
    const stats = new Float64Array(heap.buffer, statsPtr, tokens);
    const mult = new Float32Array(heap.buffer, sPtr, tokens);
    const scales = new Float32Array(tokens);
    const q = kind === "int8" ? 127 : SQRT7;
    const f = Math.fround;
    for (let t = 0; t < tokens; t++) {
      const raw = kind === "int8" ? stats[t]! : stats[t]! / features;
      if (!(raw < Number.POSITIVE_INFINITY)) {
        for (let i = t * features; i < (t + 1) * features; i++)
          if (!Number.isFinite(x[i]!)) throw new KernelInputError(`quantizeRows x: element ${i} is ${x[i]}; expected a finite number`);
      }
      const stat = f(raw);
      const sv = f(q / guard(stat, { epsMode }));
      mult[t] = sv;
      scales[t] = epsMode === "add" ? f(stat / q) : f(1 / sv);
    }
    const zeros = direct.row_codes!(base, features, tokens, sPtr, kind === "int8" ? -128 : -8, kind === "int8" ? 127 : 7, codesPtr);
    const codes = new Int8Array(heap.buffer, codesPtr, n).slice();
    return { tokens, features, codes, scales, groups: 1, bits: kind === "int4" ? 4 : 8, zeros };
  }

  /** Unsigned KV codes to f32 (js/dequantize-unsigned.ts) in SIMD for byte-aligned 4-bit groups; `out` is written in place when it lives in this heap. */
  function dequantizeUnsigned(codes: Uint8Array, bitOffset: number, bits: number, groups: number, groupSize: number, scales: Float32Array, offsets: Float32Array, out: Float32Array): void {
    alive();
    checkDequantizeUnsigned(codes, bitOffset, bits, groups, groupSize, scales, offsets, out);
    const n = groups * groupSize;
    const byte0 = bitOffset >> 3;
    const byteEnd = Math.ceil((bitOffset + n * bits) / 8);
    const cBytes = (byteEnd - byte0 + 2 + 15) & ~15; // +2: the bit reader loads 16 bits at the last code
    const sBytes = (groups * 4 + 15) & ~15;
    const inPlace = heap.owns(out);
    const base = heap.scratch(cBytes + 2 * sBytes + (inPlace ? 0 : n * 4));
    const u8 = new Uint8Array(heap.buffer, base, cBytes);
    u8.set(codes.subarray(byte0, Math.min(codes.length, byteEnd + 2)));
    u8.fill(0, Math.min(codes.length, byteEnd + 2) - byte0);
    new Float32Array(heap.buffer, base + cBytes, groups).set(scales.subarray(0, groups));
    new Float32Array(heap.buffer, base + cBytes + sBytes, groups).set(offsets.subarray(0, groups));
    const outPtr = inPlace ? out.byteOffset : base + cBytes + 2 * sBytes;
    direct.dequant_u!(base, bitOffset & 7, bits, groups, groupSize, base + cBytes, base + cBytes + sBytes, outPtr);
    if (!inPlace) out.set(new Float32Array(heap.buffer, outPtr, n));
  }

  // KV storage the attention kernels read in place; a block is returned by freeF32 or when its view is collected.
  const allocated = new WeakMap<Float32Array, number>();
  const collected = new FinalizationRegistry<number>((ptr) => {
    if (!disposed) heap.release(ptr);
  });
  function allocF32(length: number): Float32Array {
    alive();
    if (!Number.isInteger(length) || length < 0) throw new KernelInputError(`allocF32 length: expected a non-negative integer, got ${length}`);
    const ptr = heap.alloc(length * 4);
    const view = new Float32Array(heap.buffer, ptr, length);
    view.fill(0);
    allocated.set(view, ptr);
    collected.register(view, ptr, view);
    return view;
  }
  function freeF32(view: Float32Array): void {
    const ptr = allocated.get(view);
    if (ptr === undefined) throw new KernelInputError("freeF32: the array was not allocated by this wasm backend's allocF32 (or was freed already)");
    allocated.delete(view);
    collected.unregister(view);
    if (!disposed) heap.release(ptr);
  }

  /**
   * One attention op (job 4: scores, 5: values) for all heads: `input` (q [heads, d] or p [heads, positions]) goes to
   * scratch, the KV store is read in place when it lives in this heap (allocF32) and copied after it otherwise;
   * returns the raw output [heads, outLen] (a scratch view).
   */
  function runAttention(op: 4 | 5, input: Float32Array, heads: number, store: Float32Array, kvHeads: number, headDim: number, positions: number, outLen: number): Float32Array {
    alive();
    const inBytes = (input.length * 4 + 15) & ~15;
    const outBytes = (heads * outLen * 4 + 15) & ~15;
    const storeLen = positions * kvHeads * headDim;
    const inPlace = heap.owns(store);
    const base = heap.scratch(inBytes + outBytes + (inPlace ? 0 : storeLen * 4));
    new Float32Array(heap.buffer, base, input.length).set(input);
    const copyTo = base + inBytes + outBytes;
    if (!inPlace) new Float32Array(heap.buffer, copyTo, storeLen).set(store.subarray(0, storeLen));
    c[1] = op;
    c[8] = base;
    c[9] = inPlace ? store.byteOffset : copyTo;
    c[10] = base + inBytes;
    c[11] = heads;
    c[12] = kvHeads;
    c[13] = heads / kvHeads;
    c[14] = headDim;
    c[15] = positions;
    pool.run(ex);
    return new Float32Array(heap.buffer, base + inBytes, heads * outLen);
  }

  function attentionScores(q: Float32Array, heads: number, keys: Float32Array, kvHeads: number, headDim: number, positions: number, scale: number, outBuf?: Float32Array): Float32Array {
    checkAttention("attentionScores", q, heads, keys, kvHeads, headDim, positions);
    const y = outputBuffer(outBuf, heads * positions);
    const raw = runAttention(4, q, heads, keys, kvHeads, headDim, positions, positions);
    const sc = Math.fround(scale);
    for (let i = 0; i < raw.length; i++) y[i] = raw[i]! * sc;
    return y;
  }

  function attentionValues(p: Float32Array, heads: number, values: Float32Array, kvHeads: number, headDim: number, positions: number, outBuf?: Float32Array): Float32Array {
    checkAttention("attentionValues", p, heads, values, kvHeads, headDim, positions);
    const y = outputBuffer(outBuf, heads * headDim);
    y.set(runAttention(5, p, heads, values, kvHeads, headDim, positions, headDim));
    return y;
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
    prepareDense,
    dense,
    quantizeRows,
    dequantizeUnsigned,
    rope: ropeImpl,
    softmax: softmaxImpl,
    attentionScores,
    attentionValues,
    allocF32,
    freeF32,
    dispose() {
      if (!disposed) pool.dispose();
      disposed = true;
    },
  };
}

/**
 * The kernels' weight layout: rows in interleaved pairs, block k (16 bytes) of row 2p at pair p's offset 32k and of
 * row 2p+1 at 32k + 16, so the pair kernel reads one sequential stream (two separate row streams defeated the
 * hardware prefetcher: 2.2× slower out of cache). An odd last row is paired with a zero row.
 */
function interleaveRowPairs(data: Uint8Array, rows: number, rowBytes: number): Uint8Array {
  const pairs = Math.ceil(rows / 2);
  const dst = new Uint8Array(pairs * 2 * rowBytes);
  // 16-byte blocks as four 32-bit words (rowBytes is a multiple of 16)
  const src32 = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length / 4) : new Uint32Array(data.slice().buffer);
  const dst32 = new Uint32Array(dst.buffer);
  const rowWords = rowBytes / 4;
  for (let r = 0; r < rows; r++) {
    const base = (r >> 1) * 2 * rowWords + (r & 1) * 4;
    const src = r * rowWords;
    for (let k = 0; k < rowWords; k += 4) {
      const d = base + 2 * k;
      dst32[d] = src32[src + k]!;
      dst32[d + 1] = src32[src + k + 1]!;
      dst32[d + 2] = src32[src + k + 2]!;
      dst32[d + 3] = src32[src + k + 3]!;
    }
  }
  return dst;
}

/** Relaxed-SIMD activation layout: int8 in order, zero-padded to the block; returns Σ codes. */
function placeInt8(codes: Int8Array, src: number, cols: number, dst: Int8Array): number {
  dst.set(codes.subarray(src, src + cols));
  dst.fill(0, cols);
  let s = 0;
  for (let i = 0; i < cols; i++) s += dst[i]!;
  return s;
}

/** Baseline-SIMD activation layout: i16, each chunk of 16 with even elements in lanes 0..7, odd in 8..15; returns Σ codes. */
function placeSplitI16(codes: Int8Array, src: number, cols: number, dst: Int16Array): number {
  dst.fill(0, cols & ~15);
  let s = 0;
  for (let i = 0; i < cols; i++) {
    const v = codes[src + i]!;
    s += v;
    dst[(i & ~15) + ((i & 1) << 3) + ((i & 15) >> 1)] = v;
  }
  return s;
}

/** Indices and values of the non-zero codes in [start, start + cols); returns their count. */
function gatherNonZeros(codes: Int8Array, start: number, cols: number, idx: Int32Array, val: Int32Array): number {
  let nnz = 0;
  for (let i = 0; i < cols; i++) {
    const v = codes[start + i]!;
    if (v !== 0) {
      idx[nnz] = i;
      val[nnz++] = v;
    }
  }
  return nnz;
}

/** y[t, o] = (dot − Σx)·wScale[o]·xScale[t] (float64, rounded once into y); masked rows 0. The reference's expression. */
function storeSub(y: Float32Array, dots: Int32Array, xsum: Float64Array | null, rowScales: Float32Array, xScales: Float32Array, xGroups: number, tokens: number, out: number, rowMask: Uint8Array | undefined): void {
  for (let t = 0; t < tokens; t++) {
    const xs = xScales[t * xGroups]!;
    const corr = xsum ? xsum[t]! : 0;
    const base = t * out;
    for (let o = 0; o < out; o++) y[base + o] = (dots[base + o]! - corr) * rowScales[o]! * xs;
    if (rowMask) for (let o = 0; o < out; o++) if (!rowMask[o]) y[base + o] = 0;
  }
}

/** acc[t, o] += (dot − Σx)·wScale[o]·xScale[t, g] in float64 (column groups). */
function accumulateSub(acc: Float64Array, dots: Int32Array, xsum: Float64Array | null, rowScales: Float32Array, xScales: Float32Array, xGroups: number, xg: number, tokens: number, out: number): void {
  for (let t = 0; t < tokens; t++) {
    const xs = xScales[t * xGroups + xg]!;
    const corr = xsum ? xsum[t]! : 0;
    const base = t * out;
    for (let o = 0; o < out; o++) acc[base + o] = acc[base + o]! + (dots[base + o]! - corr) * rowScales[o]! * xs;
  }
}

function ternaryAt(w: PackedLinearWeight, o: number, i: number): number {
  const byte = w.data[o * t2RowBytes(w.inFeatures) + (i >> 6) * 16 + (i & 15)]!;
  return ((byte >> (((i >> 4) & 3) * 2)) & 3) - 1;
}

registerKernel({ kernelName: "BitLinear", backendName: "wasm", description: "SIMD i32x4.dot_i16x8_s over onebit-t2, rows split across threads", impl: createWasmBackend });
registerKernel({ kernelName: "Attention", backendName: "wasm", description: "SIMD f32x4 scores and weighted values over an f32 KV store read in place, heads split across threads", impl: createWasmBackend });
registerKernel({ kernelName: "DequantizeUnsigned", backendName: "wasm", description: "4-bit KV codes to f32 in SIMD (nibble shuffle), 3-bit bit by bit", impl: createWasmBackend });
registerKernel({ kernelName: "QuantizeRows", backendName: "wasm", description: "SIMD absmax, f32x4.nearest and saturating narrows; zero codes counted by bitmask", impl: createWasmBackend });
registerKernel({ kernelName: "Dense", backendName: "wasm", description: "f32x4 matmul, or W8A16: int8 rows × int16 activations by i32x4.dot_i16x8_s per 256-column block, rows split across threads", impl: createWasmBackend });
registerKernel({ kernelName: "MatmulF32", backendName: "wasm", description: "SIMD f32x4, rows split across threads", impl: createWasmBackend });
