/**
 * A KV cache for one model: per layer, K and V for up to `maxTokens` positions × `kvHeads` heads × `headDim`.
 *
 * Precisions (a4.8 low-bit attention, arXiv 2411.04965 §2.3: applied after RoPE, no calibration):
 * - 32: float32; 16: float16 (IEEE half, round to nearest even)
 * - 8 / 4 / 3: unsigned b-bit codes per (token, head) over [min, max] (@onebit/quant `quantizeUnsigned`), with an
 *   f32 scale and offset per (token, head). With 3 bits the BOS token's heads (position 0) are kept at 4 bits to
 *   preserve its outlier features. 8 bits is the reference the 4- and 3-bit caches are measured against.
 * Codes are bit-packed (8-bit: a byte each; 4-bit: two per byte; 3-bit: a continuous bit stream), so `bytes()` is
 * exact.
 *
 * Layout per layer: [maxTokens, kvHeads, headDim]. Stores can be placed by a kernels backend (`storage`): the wasm
 * backend puts f32 stores in its memory so its attention kernels read them in place, and f16 stores so its
 * decodeHalf reads them in place (a long context decodes every position of a layer at every step); a device backend (webgpu)
 * keeps every store on the device — f32 written by copyInto, f16 and low-bit ones written and decoded by its
 * kernels (encodeHalf / decodeHalf, quantizeUnsignedInto / dequantizeUnsigned) with nothing read back to the host.
 * `dispose()` returns them.
 */
import { type Activations, type Backend, type DeviceTensor, hostArray, KERNELS, ResidencyError } from "@onebit/kernels";
import { OnebitError } from "@onebit/quant";

export type KvBits = 32 | 16 | 8 | 4 | 3;
export const KV_CACHE_BITS: readonly KvBits[] = [32, 16, 8, 4, 3];

/** The op that decodes low-bit stores: a kernels Backend's (SIMD on wasm) or the js reference. */
export type DequantizeOps = Pick<Backend, "dequantizeUnsigned">;

/** The kernels that write and decode f16 and low-bit stores. */
type KvCodeOps = Pick<Backend, "quantizeUnsignedInto" | "dequantizeUnsigned" | "encodeHalf" | "decodeHalf">;

/** Host stores are written and decoded by the js reference (low-bit decode: by the caller's ops, see floats()). */
const REFERENCE_CODE_OPS: KvCodeOps = {
  quantizeUnsignedInto: (a) => KERNELS.quantizeUnsignedInto.reference(a, "js"),
  dequantizeUnsigned: (a) => KERNELS.dequantizeUnsigned.reference(a, "js"),
  encodeHalf: (a) => KERNELS.encodeHalf.reference(a, "js"),
  decodeHalf: (a) => KERNELS.decodeHalf.reference(a, "js"),
};

/**
 * Where stores live: a kernels Backend satisfies this. A host backend's f32 storage is a Float32Array (the wasm
 * backend's sits in its memory, read in place by its attention kernels; f16 stores are placed there too and decoded
 * by the backend's decodeHalf; low-bit stores stay plain host arrays); a device backend's stores all stay on the
 * device, written and decoded with its kernels.
 */
export type KvStorage = Pick<Backend, "allocF32" | "freeF32" | "copyInto" | "residency" | "name" | keyof KvCodeOps> & Partial<Pick<Backend, "kernels">>;

export interface KvCacheOptions {
  layers: number;
  kvHeads: number;
  headDim: number;
  maxTokens: number;
  bits?: KvBits;
  /** With 3-bit caches, keep position 0 (BOS) at 4 bits. Default true. */
  bosFourBit?: boolean;
  /** Allocator (and, on a device backend, the kernels) for the stores (default: plain host arrays). */
  storage?: KvStorage;
}

/** A cache option, layer or write that does not fit: names the field, expected and found. */
export class KvCacheError extends OnebitError {
  constructor(message: string) {
    super("KV_CACHE", message);
    this.name = "KvCacheError";
  }
}

export class KvCacheFullError extends OnebitError {
  constructor(maxTokens: number, wanted: number) {
    super("KV_CACHE_FULL", `KV cache is full: it holds ${maxTokens} tokens and ${wanted} were needed; create it with a larger maxTokens or start a new sequence`);
    this.name = "KvCacheFullError";
  }
}

/** The kernels a device store of `bits` is written and read with. */
const DEVICE_KERNELS: Record<16 | 8 | 4 | 3, (keyof KvCodeOps)[]> = {
  16: ["encodeHalf", "decodeHalf"],
  8: ["quantizeUnsignedInto", "dequantizeUnsigned"],
  4: ["quantizeUnsignedInto", "dequantizeUnsigned"],
  3: ["quantizeUnsignedInto", "dequantizeUnsigned"],
};

/** One tensor (K or V) of one layer. */
class Store {
  readonly f32?: Activations;
  /** f16 codes: a host Uint16Array, or a device tensor holding two per word. */
  readonly f16?: Uint16Array | DeviceTensor;
  /** Low-bit codes: a host byte stream, or a device tensor whose words hold it. */
  readonly codes?: Uint8Array | DeviceTensor;
  readonly scales?: Activations;
  readonly offsets?: Activations;
  /** Bit offset of each position's codes (low-bit stores only). */
  private readonly rowBits: number;
  /** Exact bytes of the packed data (a device buffer is rounded up to whole words). */
  readonly packedBytes: number;
  /** Writes and decodes f16 / low-bit data: the device backend's kernels, or on the host the js reference (f16 decode: a placing backend's). */
  private readonly ops: KvCodeOps;
  /** What `storage` allocated (returned by dispose). */
  readonly placed: Activations[] = [];

  constructor(
    readonly bits: KvBits,
    readonly maxTokens: number,
    readonly heads: number,
    readonly headDim: number,
    readonly bosFourBit: boolean,
    private readonly storage?: KvStorage,
  ) {
    const perToken = heads * headDim;
    const device = storage?.residency === "device";
    // (a host backend's f16 decode is its own: wasm's f16_decode reads a store it placed in place)
    this.ops = device ? storage! : storage ? { ...REFERENCE_CODE_OPS, decodeHalf: (a) => storage.decodeHalf(a) } : REFERENCE_CODE_OPS;
    const alloc = (length: number): Activations => {
      const a = storage!.allocF32(length);
      this.placed.push(a);
      return a;
    };
    this.rowBits = 0;
    if (bits === 32) {
      this.f32 = storage ? alloc(maxTokens * perToken) : new Float32Array(maxTokens * perToken);
      this.packedBytes = maxTokens * perToken * 4;
    } else if (bits === 16) {
      this.packedBytes = maxTokens * perToken * 2;
      const halves = maxTokens * perToken;
      if (device) this.f16 = alloc(Math.ceil(halves / 2)) as DeviceTensor;
      else if (storage) {
        // placed by a host backend too (two halves a float), where its decodeHalf reads it in place
        const words = hostArray(alloc(Math.ceil(halves / 2)), "KV f16 store");
        this.f16 = new Uint16Array(words.buffer, words.byteOffset, halves);
      } else this.f16 = new Uint16Array(halves);
    } else {
      // position 0 may take 4 bits per value even in a 3-bit cache
      this.rowBits = perToken * bits;
      const bosExtra = bits === 3 && bosFourBit ? perToken : 0;
      const codeBytes = Math.ceil((maxTokens * perToken * bits + bosExtra) / 8);
      this.packedBytes = codeBytes + 2 * maxTokens * heads * 4;
      this.codes = device ? (alloc(Math.ceil(codeBytes / 4)) as DeviceTensor) : new Uint8Array(codeBytes);
      this.scales = device ? alloc(maxTokens * heads) : new Float32Array(maxTokens * heads);
      this.offsets = device ? alloc(maxTokens * heads) : new Float32Array(maxTokens * heads);
    }
  }

  bitsAt(pos: number): number {
    return this.bits === 3 && this.bosFourBit && pos === 0 ? 4 : this.bits;
  }

  /** First bit of position `pos`'s codes. */
  private bitOffset(pos: number): number {
    if (pos === 0) return 0;
    const first = this.heads * this.headDim * this.bitsAt(0);
    return first + (pos - 1) * this.rowBits;
  }

  /** Values [from, from + length) of x: a view on the host, a copy on the device (free it with `done`). */
  private slice(x: Activations, from: number, length: number): { x: Activations; done(): void } {
    if (from === 0 && length === x.length) return { x, done: () => {} };
    if (x instanceof Float32Array) return { x: x.subarray(from, from + length), done: () => {} };
    const s = this.storage!;
    const part = s.allocF32(length);
    s.copyInto({ src: x, srcOffset: from, length, dst: part, dstOffset: 0 });
    return { x: part, done: () => s.freeF32(part) };
  }

  /** Positions start.. from values [tokens, heads·headDim]. */
  write(start: number, tokens: number, values: Activations): void {
    const per = this.heads * this.headDim;
    if (this.f32) {
      // positions start.. are contiguous rows of the [maxTokens, kvHeads, headDim] store: one copy
      if (this.storage) this.storage.copyInto({ src: values, dst: this.f32, dstOffset: start * per });
      else hostArray(this.f32, "KV store").set(hostArray(values, "KvCache.write values"), start * per);
      return;
    }
    if (this.f16) {
      this.ops.encodeHalf({ x: values, dst: this.f16, dstOffset: start * per });
      return;
    }
    // runs of positions with the same bit width (a 3-bit cache's BOS row is 4-bit); one group per (position, head)
    let t = 0;
    while (t < tokens) {
      const bits = this.bitsAt(start + t);
      const run = bits === this.bitsAt(start + tokens - 1) ? tokens - t : 1;
      const part = this.slice(values, t * per, run * per);
      this.ops.quantizeUnsignedInto({
        x: part.x,
        groups: run * this.heads,
        groupSize: this.headDim,
        bits,
        codes: this.codes!,
        bitOffset: this.bitOffset(start + t),
        scales: this.scales!,
        offsets: this.offsets!,
        firstGroup: (start + t) * this.heads,
      });
      part.done();
      t += run;
    }
  }

  /**
   * Decode positions [0, n) into `out` [≥ n, heads, headDim] (f16 and low-bit stores; f32 stores are read in
   * place): host stores with `ops` (a backend's dequantizeUnsigned, SIMD on wasm), device stores with the device's.
   */
  decodeInto(n: number, out: Activations, ops: DequantizeOps): void {
    const d = this.headDim;
    if (this.f16) {
      this.ops.decodeHalf({ src: this.f16, srcOffset: 0, length: n * this.heads * d, out });
      return;
    }
    const decode = this.storage?.residency === "device" ? this.ops : ops;
    // one call per run of equal bit width (a 3-bit cache's BOS row is 4-bit), groups = (position, head)
    const first = this.bitsAt(0);
    const together = first === this.bits ? n : 1;
    const common = { codes: this.codes!, groupSize: d, scales: this.scales!, offsets: this.offsets!, out };
    decode.dequantizeUnsigned({ ...common, bitOffset: 0, bits: first, groups: together * this.heads });
    if (n > together) decode.dequantizeUnsigned({ ...common, bitOffset: this.bitOffset(1), bits: this.bits, groups: (n - 1) * this.heads, firstGroup: this.heads });
  }

  /** Decode head `h` of position `pos` into `out` (headDim values; host stores). */
  read(pos: number, h: number, out: Float32Array): void {
    const d = this.headDim;
    const base = (pos * this.heads + h) * d;
    if (this.storage?.residency === "device")
      throw new ResidencyError(`KvCache.readK/readV: the ${this.storage.name} backend keeps this cache on the device; decode a layer with floats() and read it with backend.read`);
    if (this.f32) {
      out.set(hostArray(this.f32, "KV store").subarray(base, base + d));
      return;
    }
    if (this.f16) {
      this.ops.decodeHalf({ src: this.f16, srcOffset: base, length: d, out });
      return;
    }
    const g = pos * this.heads + h;
    const bits = this.bitsAt(pos);
    const [scales, offsets] = [hostArray(this.scales!, "KV scales").subarray(g), hostArray(this.offsets!, "KV offsets").subarray(g)];
    this.ops.dequantizeUnsigned({ codes: this.codes!, bitOffset: this.bitOffset(pos) + h * d * bits, bits, groups: 1, groupSize: d, scales, offsets, out });
  }

  bytes(): number {
    return this.packedBytes;
  }
}

export class KvCache {
  readonly bits: KvBits;
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly maxTokens: number;
  private readonly k: Store[];
  private readonly v: Store[];
  private readonly storage?: KvStorage;
  private disposed = false;
  private readonly scratch: { k: Activations; v: Activations } = { k: new Float32Array(0), v: new Float32Array(0) };
  /** Tokens stored so far (the next position). */
  length = 0;

  constructor(options: KvCacheOptions) {
    const { layers, kvHeads, headDim, maxTokens } = options;
    for (const [name, v] of Object.entries({ layers, kvHeads, headDim, maxTokens }))
      if (!Number.isInteger(v) || v <= 0) throw new KvCacheError(`KvCache ${name}: expected a positive integer, got ${v}`);
    const bits = options.bits ?? 32;
    if (!KV_CACHE_BITS.includes(bits)) throw new KvCacheError(`KvCache bits: expected one of ${KV_CACHE_BITS.join(", ")}, got ${bits}`);
    this.bits = bits;
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.maxTokens = maxTokens;
    const bos = options.bosFourBit ?? true;
    this.storage = options.storage;
    const storage = options.storage;
    if (bits !== 32 && storage?.residency === "device") {
      // a device cache is written and decoded by the backend's own kernels: name any it does not offer, now
      const missing = storage.kernels?.().filter((k) => DEVICE_KERNELS[bits].includes(k.kernel as keyof KvCodeOps) && k.source === "unsupported");
      if (missing?.length)
        throw new ResidencyError(
          `a ${bits}-bit KV cache on the ${storage.name} backend stays on the device and needs its ${DEVICE_KERNELS[bits].join(" and ")} kernels; it does not offer ${missing.map((k) => `${k.kernel} (${k.description})`).join(", ")}: use a 32-bit cache there`,
        );
    }
    this.k = Array.from({ length: layers }, () => new Store(bits, maxTokens, kvHeads, headDim, bos, options.storage));
    this.v = Array.from({ length: layers }, () => new Store(bits, maxTokens, kvHeads, headDim, bos, options.storage));
  }

  private layerStore(which: Store[], layer: number): Store {
    if (this.disposed) throw new KvCacheError("KvCache: used after dispose()");
    const s = which[layer];
    if (!s) throw new KvCacheError(`KvCache layer: ${layer} is not in [0, ${this.layers})`);
    return s;
  }

  /**
   * Keys (or values) of positions [0, n) of `layer` as f32 [n, kvHeads, headDim]: the store itself for an f32
   * cache (read in place; length ≥ n·kvHeads·headDim), else decoded (by `ops`, default the js reference) into a
   * scratch buffer that the next call for the same tensor overwrites — placed by `storage` when the cache has one,
   * so a backend's attention reads it in place too.
   */
  floats(which: "k" | "v", layer: number, n: number, ops: DequantizeOps = REFERENCE_CODE_OPS): Activations {
    const store = this.layerStore(which === "k" ? this.k : this.v, layer);
    if (store.f32) return store.f32;
    const need = n * this.kvHeads * this.headDim;
    let scratch = this.scratch[which];
    if (scratch.length < need) {
      if (this.storage && scratch.length) this.storage.freeF32(scratch);
      const size = Math.max(need, 2 * scratch.length);
      // on a device backend the scratch is a device tensor: decode and attention stay there
      const placed = this.storage?.allocF32(size);
      scratch = this.scratch[which] = placed === undefined ? new Float32Array(size) : this.storage!.residency === "device" ? placed : hostArray(placed, "KV decode scratch");
    }
    store.decodeInto(n, scratch, ops);
    return scratch;
  }

  /** Return the stores and scratch placed by `storage` (a backend's memory). The cache is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.storage) {
      for (const s of [...this.k, ...this.v]) for (const a of s.placed) this.storage.freeF32(a);
      for (const s of [this.scratch.k, this.scratch.v]) if (s.length) this.storage.freeF32(s);
    }
  }

  /** Throws KvCacheFullError unless `tokens` more positions fit. */
  reserve(tokens: number): void {
    if (this.length + tokens > this.maxTokens) throw new KvCacheFullError(this.maxTokens, this.length + tokens);
  }

  /** Store K and V ([tokens, kvHeads·headDim], post-RoPE) of `layer` at positions start.. . */
  write(layer: number, start: number, tokens: number, k: Activations, v: Activations): void {
    if (start + tokens > this.maxTokens) throw new KvCacheFullError(this.maxTokens, start + tokens);
    const per = this.kvHeads * this.headDim;
    if (k.length !== tokens * per || v.length !== tokens * per)
      throw new KvCacheError(`KvCache.write layer ${layer}: k/v have ${k.length}/${v.length} values, expected tokens·kvHeads·headDim = ${tokens * per}`);
    // host stores take host values; a device cache takes the backend's tensors (or host values it uploads)
    const device = this.storage?.residency === "device";
    this.layerStore(this.k, layer).write(start, tokens, device ? k : hostArray(k, "KvCache.write k"));
    this.layerStore(this.v, layer).write(start, tokens, device ? v : hostArray(v, "KvCache.write v"));
  }

  readK(layer: number, pos: number, head: number, out: Float32Array): void {
    this.layerStore(this.k, layer).read(pos, head, out);
  }

  readV(layer: number, pos: number, head: number, out: Float32Array): void {
    this.layerStore(this.v, layer).read(pos, head, out);
  }

  /**
   * Exact bytes held, codes + scales + offsets (the storage is allocated for maxTokens up front; a device buffer
   * is rounded up to whole 4-byte words, not counted here).
   */
  bytes(): number {
    return this.k.reduce((s, st) => s + st.bytes(), 0) + this.v.reduce((s, st) => s + st.bytes(), 0);
  }

  reset(): void {
    this.length = 0;
  }
}
