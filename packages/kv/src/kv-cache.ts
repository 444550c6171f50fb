/**
 * A KV cache for one model: per layer, K and V for up to `maxTokens` positions × `kvHeads` heads × `headDim`.
 *
 * Precisions (a4.8 low-bit attention, applied after RoPE, no calibration):
 * - 32: float32; 16: float16 (IEEE half, round to nearest even)
 * - 4 / 3: unsigned b-bit codes per (token, head) over [min, max] (@onebit/quant `quantizeUnsigned`), with an
 *   f32 scale and offset per (token, head). With 3 bits the BOS token's heads (position 0) are kept at 4 bits to
 *   preserve its outlier features.
 * Codes are bit-packed (4-bit: two per byte; 3-bit: a continuous bit stream), so `bytes()` is exact.
 *
 * Layout per layer: [maxTokens, kvHeads, headDim]. f32 stores can be placed by a kernels backend (`storage`:
 * the wasm backend puts them in its memory so its attention kernels read them in place); `dispose()` returns them.
 */
import { type Activations, type Backend, dequantizeUnsignedImpl, hostArray, ResidencyError } from "@onebit/kernels";
import { floatToHalf, halfToFloat, halfToFloatTable, quantizeUnsigned, OnebitError } from "@onebit/quant";

export type KvBits = 32 | 16 | 4 | 3;
export const KV_CACHE_BITS: readonly KvBits[] = [32, 16, 4, 3];

/** The op that decodes low-bit stores: a kernels Backend's (SIMD on wasm) or the js reference. */
export type DequantizeOps = Pick<Backend, "dequantizeUnsigned">;
const REFERENCE_DEQUANTIZE: DequantizeOps = {
  dequantizeUnsigned: ({ codes, bitOffset, bits, groups, groupSize, scales, offsets, out }) => dequantizeUnsignedImpl(codes, bitOffset, bits, groups, groupSize, scales, offsets, out),
};

/**
 * Where f32 stores live: a kernels Backend satisfies this. A host backend's storage is a Float32Array (the wasm
 * backend's sits in its memory, read in place by its attention kernels); a device backend's stays on the device,
 * written with copyInto.
 */
export type KvStorage = Pick<Backend, "allocF32" | "freeF32" | "copyInto" | "residency" | "name">;

export interface KvCacheOptions {
  layers: number;
  kvHeads: number;
  headDim: number;
  maxTokens: number;
  bits?: KvBits;
  /** With 3-bit caches, keep position 0 (BOS) at 4 bits. Default true. */
  bosFourBit?: boolean;
  /** Allocator for f32 stores (default: plain Float32Arrays). */
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

/** One tensor (K or V) of one layer. */
class Store {
  readonly f32?: Activations;
  readonly f16?: Uint16Array;
  readonly codes?: Uint8Array;
  readonly scales?: Float32Array;
  readonly offsets?: Float32Array;
  /** Bit offset of each position's codes (low-bit stores only). */
  private readonly rowBits: number;

  constructor(
    readonly bits: KvBits,
    readonly maxTokens: number,
    readonly heads: number,
    readonly headDim: number,
    readonly bosFourBit: boolean,
    storage?: KvStorage,
  ) {
    const perToken = heads * headDim;
    if (bits !== 32 && storage?.residency === "device")
      throw new ResidencyError(`a ${bits}-bit KV cache is kept and decoded in host memory; the ${storage.name} backend keeps activations on the device: use a 32-bit cache there`);
    if (bits === 32) this.f32 = storage ? storage.allocF32(maxTokens * perToken) : new Float32Array(maxTokens * perToken);
    else if (bits === 16) this.f16 = new Uint16Array(maxTokens * perToken);
    else {
      // position 0 may take 4 bits per value even in a 3-bit cache
      this.rowBits = perToken * bits;
      const bosExtra = bits === 3 && bosFourBit ? perToken : 0;
      this.codes = new Uint8Array(Math.ceil((maxTokens * perToken * bits + bosExtra) / 8));
      this.scales = new Float32Array(maxTokens * heads);
      this.offsets = new Float32Array(maxTokens * heads);
    }
    this.rowBits ??= 0;
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

  /** Positions pos.. from values [n, heads·headDim] (f16 and low-bit: one position at a time). */
  write(pos: number, values: Float32Array): void {
    const perToken = this.heads * this.headDim;
    if (this.f32) hostArray(this.f32, "KV store").set(values, pos * perToken);
    else if (this.f16) for (let i = 0; i < perToken; i++) this.f16[pos * perToken + i] = floatToHalf(values[i]!);
    else {
      const b = this.bitsAt(pos);
      const q = quantizeUnsigned(values, [1, perToken], { bits: b as 3 | 4, granularity: { groups: this.heads, axis: "row-cols" } });
      this.scales!.set(q.scales, pos * this.heads);
      this.offsets!.set(q.offsets!, pos * this.heads);
      let bit = this.bitOffset(pos);
      const codes = this.codes!;
      for (let i = 0; i < perToken; i++, bit += b) {
        // clear then set b bits starting at `bit` (may straddle two bytes)
        const v = q.codes[i]!;
        for (let k = 0; k < b; k++) {
          const at = bit + k;
          if ((v >> k) & 1) codes[at >> 3]! |= 1 << (at & 7);
          else codes[at >> 3]! &= ~(1 << (at & 7));
        }
      }
    }
  }

  /** Decode positions [0, n) into `out` [n, heads, headDim] (f16 and low-bit stores; f32 stores are read in place). */
  decodeInto(n: number, out: Float32Array, ops: DequantizeOps): void {
    const d = this.headDim;
    if (this.f16) {
      const src = this.f16;
      const table = halfToFloatTable();
      for (let i = 0; i < n * this.heads * d; i++) out[i] = table[src[i]!]!;
      return;
    }
    // low-bit: one call per run of equal bit width (a 3-bit cache's BOS row is 4-bit), groups = (position, head)
    const first = this.bitsAt(0);
    ops.dequantizeUnsigned({ codes: this.codes!, bitOffset: 0, bits: first, groups: this.heads, groupSize: d, scales: this.scales!, offsets: this.offsets!, out });
    if (n > 1)
      ops.dequantizeUnsigned({
        codes: this.codes!,
        bitOffset: this.bitOffset(1),
        bits: this.bits,
        groups: (n - 1) * this.heads,
        groupSize: d,
        scales: this.scales!.subarray(this.heads),
        offsets: this.offsets!.subarray(this.heads),
        out: out.subarray(this.heads * d),
      });
  }

  /** Decode head `h` of position `pos` into `out` (headDim values). */
  read(pos: number, h: number, out: Float32Array): void {
    const d = this.headDim;
    const base = (pos * this.heads + h) * d;
    if (this.f32) {
      out.set(hostArray(this.f32, "KV store").subarray(base, base + d));
      return;
    }
    if (this.f16) {
      for (let i = 0; i < d; i++) out[i] = halfToFloat(this.f16[base + i]!);
      return;
    }
    const b = this.bitsAt(pos);
    const g = pos * this.heads + h;
    dequantizeUnsignedImpl(this.codes!, this.bitOffset(pos) + h * d * b, b, 1, d, this.scales!.subarray(g), this.offsets!.subarray(g), out);
  }

  bytes(): number {
    if (this.f32) return this.f32.length * 4;
    if (this.f16) return this.f16.byteLength;
    return this.codes!.byteLength + this.scales!.byteLength + this.offsets!.byteLength;
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
  private readonly scratch: { k: Float32Array; v: Float32Array } = { k: new Float32Array(0), v: new Float32Array(0) };
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
  floats(which: "k" | "v", layer: number, n: number, ops: DequantizeOps = REFERENCE_DEQUANTIZE): Activations {
    const store = this.layerStore(which === "k" ? this.k : this.v, layer);
    if (store.f32) return store.f32;
    const need = n * this.kvHeads * this.headDim;
    let scratch = this.scratch[which];
    if (scratch.length < need) {
      if (this.storage && scratch.length) this.storage.freeF32(scratch);
      const size = Math.max(need, 2 * scratch.length);
      scratch = this.scratch[which] = this.storage ? hostArray(this.storage.allocF32(size), "KV decode scratch") : new Float32Array(size);
    }
    store.decodeInto(n, scratch, ops);
    return scratch;
  }

  /** Return f32 stores to their storage (a backend's memory). The cache is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.storage) {
      for (const s of [...this.k, ...this.v]) if (s.f32) this.storage.freeF32(s.f32);
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
    const ks = this.layerStore(this.k, layer);
    const vs = this.layerStore(this.v, layer);
    if (ks.f32 && vs.f32 && this.storage) {
      // positions start.. are contiguous rows of the [maxTokens, kvHeads, headDim] store: one copy each
      this.storage.copyInto({ src: k, dst: ks.f32, dstOffset: start * per });
      this.storage.copyInto({ src: v, dst: vs.f32, dstOffset: start * per });
      return;
    }
    const kh = hostArray(k, "KvCache.write k");
    const vh = hostArray(v, "KvCache.write v");
    if (ks.f32) {
      ks.write(start, kh);
      vs.write(start, vh);
      return;
    }
    for (let t = 0; t < tokens; t++) {
      ks.write(start + t, kh.subarray(t * per, (t + 1) * per));
      vs.write(start + t, vh.subarray(t * per, (t + 1) * per));
    }
  }

  readK(layer: number, pos: number, head: number, out: Float32Array): void {
    this.layerStore(this.k, layer).read(pos, head, out);
  }

  readV(layer: number, pos: number, head: number, out: Float32Array): void {
    this.layerStore(this.v, layer).read(pos, head, out);
  }

  /** Exact bytes held, codes + scales + offsets (the storage is allocated for maxTokens up front). */
  bytes(): number {
    return this.k.reduce((s, st) => s + st.bytes(), 0) + this.v.reduce((s, st) => s + st.bytes(), 0);
  }

  reset(): void {
    this.length = 0;
  }
}
