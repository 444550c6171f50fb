/**
 * Conformance cases of the KV-cache code kernels (part of CONFORMANCE_CASES, conformance-cases.ts): the low-bit
 * write and read (quantizeUnsignedInto, dequantizeUnsigned at 3, 4 and 8 bits) and the f16 pair (encodeHalf,
 * decodeHalf), on host backends with host stores and on device backends with stores in tensors from allocF32
 * (contract/kv-codes.ts). Everything is bit for bit: codes, scales, offsets, halves and decoded values, checked
 * against the js reference and against an independent truth (@onebit/quant's quantizeUnsigned and floatToHalf,
 * the bit stream read bit by bit).
 */
import { floatToHalf, quantizeUnsigned } from "@onebit/quant";
import type { Backend } from "./backend";
import type { ConformanceCase } from "./conformance-cases";
import { identical, rng } from "./conformance-helpers";
import type { HalfCodes, KvCodes } from "./contract/kv-codes";
import { type Activations, type DeviceTensor, hostArray } from "./contract/tensors";



/** A store of `bytes` (a multiple of 4) holding `init`: host bytes on a host backend, a device tensor's words on a device one. */
function codeStore(b: Backend, init: Uint8Array): { codes: KvCodes; bytes(): Promise<Uint8Array> } {
  if (b.residency === "host") {
    const codes = init.slice();
    return { codes, bytes: async () => codes };
  }
  const t = b.upload(new Float32Array(init.slice().buffer));
  return { codes: t as DeviceTensor, bytes: async () => new Uint8Array((await b.read(t)).buffer.slice(0)) };
}

/** A code store seen as halves: host bytes as a Uint16Array over them, a device tensor as it is. */
function halves16(codes: KvCodes): HalfCodes {
  return codes instanceof Uint8Array ? new Uint16Array(codes.buffer, codes.byteOffset, codes.byteLength / 2) : codes;
}

/** A float32 store holding `init` that kernels write in place: the array itself on a host backend, a tensor on a device one. */
function floatStore(b: Backend, init: Float32Array): { x: Activations; values(): Promise<Float32Array> } {
  if (b.residency === "host") {
    const x = init.slice();
    return { x, values: async () => x };
  }
  const x = b.upload(init.slice());
  return { x, values: () => b.read(x) };
}

/** Code k (b bits) of a little-endian bit stream from bit `from`, bit by bit. */
function codeAt(codes: Uint8Array, from: number, k: number, bits: number): number {
  let code = 0;
  for (let j = 0; j < bits; j++) {
    const at = from + k * bits + j;
    code |= ((codes[at >> 3]! >> (at & 7)) & 1) << j;
  }
  return code;
}

const randomBytes = (r: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
const pad4 = (n: number) => Math.ceil(n / 4) * 4;

export const KV_CODE_CASES: ConformanceCase[] = [
  {
    name: "unsigned 3/4/8-bit KV codes to f32: identical to the reference, in place or copied, from a first group",
    async run(b, ref) {
      const r = rng(61);
      // [bits, bitOffset, groups, groupSize]: byte-aligned 4-bit (SIMD path), odd group sizes, 3-bit streams at odd offsets, 8-bit
      for (const [bits, bitOffset, groups, groupSize] of [[4, 0, 10, 128], [4, 0, 3, 20], [4, 4, 2, 16], [3, 0, 5, 128], [3, 5, 3, 37], [8, 0, 4, 64], [8, 8, 3, 9], [8, 3, 2, 5]] as const) {
        const n = groups * groupSize;
        const codes = randomBytes(r, Math.ceil((bitOffset + n * bits) / 8));
        const scales = Float32Array.from({ length: groups }, () => r() * 0.1);
        const offsets = Float32Array.from({ length: groups }, () => r() - 0.5);
        const args = { codes, bitOffset, bits, groups, groupSize, scales, offsets };
        const want = new Float32Array(n);
        ref.dequantizeUnsigned({ ...args, out: want });
        // truth: decode the stream bit by bit, independently of both
        for (let k = 0; k < n; k++) {
          const g = Math.floor(k / groupSize);
          const v = Math.fround(Math.fround(codeAt(codes, bitOffset, k, bits) * scales[g]!) + offsets[g]!);
          if (!Object.is(want[k], v)) throw new Error(`dequantizeUnsigned reference ${bits}-bit: value ${k} is ${want[k]}, the bit stream gives ${v}`);
        }
        const where = `dequantizeUnsigned ${bits}-bit from bit ${bitOffset}, ${groups}×${groupSize}`;
        // scales and offsets as the backend's activations; host codes are read where they are (a device uploads them)
        const onB = { ...args, scales: b.upload(scales), offsets: b.upload(offsets) };
        // a device backend writes only into its own tensors; a host one also into a plain array
        for (const inPlace of b.residency === "host" ? [false, true] : [true]) {
          const got = inPlace ? b.allocF32(n) : new Float32Array(n);
          b.dequantizeUnsigned({ ...onB, out: got });
          identical(`${where}${inPlace ? " (in place)" : ""}`, await b.read(got), want);
          if (inPlace) b.freeF32(got);
        }
        // groups 1.. only (firstGroup: a 3-bit cache decodes its 4-bit BOS row apart), scales and offsets as activations
        const out = floatStore(b, new Float32Array(n).fill(7));
        b.dequantizeUnsigned({ ...onB, bitOffset: bitOffset + groupSize * bits, groups: groups - 1, firstGroup: 1, out: out.x });
        const got = await out.values();
        identical(`${where}, groups 1.. (firstGroup 1)`, got.subarray(groupSize), want.subarray(groupSize));
        if (got.subarray(0, groupSize).some((v) => v !== 7)) throw new Error(`${where}, firstGroup 1: group 0 of out was written`);
      }
    },
  },
  {
    name: "unsigned 3/4/8-bit KV writes: codes, scales and offsets bit for bit @onebit/quant quantizeUnsigned, neighbouring bits kept",
    async run(b, ref) {
      const r = rng(67);
      // [bits, groups, groupSize, bitOffset, firstGroup]: a decode step (kvHeads groups of headDim), odd offsets and sizes
      for (const [bits, groups, groupSize, bitOffset, firstGroup] of [
        [4, 2, 64, 0, 0], [4, 3, 37, 5, 2], [3, 4, 32, 0, 1], [3, 5, 20, 13, 3], [8, 2, 64, 0, 0], [8, 3, 11, 8, 1], [8, 2, 9, 3, 0], [3, 1, 1, 7, 0],
      ] as const) {
        const n = groups * groupSize;
        const x = Float32Array.from({ length: n }, () => (r() - 0.5) * (r() < 0.05 ? 40 : 4));
        if (n >= 2 * groupSize) {
          // group 1: codes on exact half-way points (ties go to even), ±0 at the minimum (the first one seen wins)
          const zeros = bits === 8 ? [-0, 0] : [0, -0];
          for (let i = 0; i < groupSize; i++) x[groupSize + i] = [...zeros, 2 ** bits - 1, 0.5, 1.5, 2.5][i % 6]!;
        }
        if (n >= 3 * groupSize) x.fill(1.25, 2 * groupSize, 3 * groupSize); // a constant group: scale 0
        const totalGroups = firstGroup + groups + 1;
        const storeBytes = pad4(Math.ceil((bitOffset + n * bits) / 8) + 3);
        const init = randomBytes(r, storeBytes);
        const initScales = Float32Array.from({ length: totalGroups }, () => r());
        const initOffsets = Float32Array.from({ length: totalGroups }, () => -r());
        const wantCodes = init.slice();
        const wantScales = initScales.slice();
        const wantOffsets = initOffsets.slice();
        ref.quantizeUnsignedInto({ x, groups, groupSize, bits, codes: wantCodes, bitOffset, scales: wantScales, offsets: wantOffsets, firstGroup });
        // truth: @onebit/quant per group, its codes in the stream, every other bit as it was
        const q = quantizeUnsigned(x, [groups, groupSize], { bits, granularity: "row" });
        const where = `quantizeUnsignedInto ${bits}-bit ${groups}×${groupSize} from bit ${bitOffset}, group ${firstGroup}`;
        for (let g = 0; g < groups; g++)
          if (!Object.is(wantScales[firstGroup + g], q.scales[g]) || !Object.is(wantOffsets[firstGroup + g], q.offsets![g]))
            throw new Error(`${where}: the reference's scale/offset of group ${g} are ${wantScales[firstGroup + g]}/${wantOffsets[firstGroup + g]}, quantizeUnsigned gives ${q.scales[g]}/${q.offsets![g]}`);
        for (let k = 0; k < n; k++)
          if (codeAt(wantCodes, bitOffset, k, bits) !== q.codes[k]) throw new Error(`${where}: the reference's code ${k} is ${codeAt(wantCodes, bitOffset, k, bits)}, quantizeUnsigned gives ${q.codes[k]}`);
        for (let bit = 0; bit < storeBytes * 8; bit++)
          if ((bit < bitOffset || bit >= bitOffset + n * bits) && ((wantCodes[bit >> 3]! ^ init[bit >> 3]!) >> (bit & 7)) & 1) throw new Error(`${where}: the reference changed bit ${bit} outside the run`);
        const store = codeStore(b, init);
        const scales = floatStore(b, initScales);
        const offsets = floatStore(b, initOffsets);
        b.quantizeUnsignedInto({ x: b.upload(x), groups, groupSize, bits, codes: store.codes, bitOffset, scales: scales.x, offsets: offsets.x, firstGroup });
        identical(`${where}: codes`, await store.bytes(), wantCodes, "byte");
        identical(`${where}: scales`, await scales.values(), wantScales, "scale");
        identical(`${where}: offsets`, await offsets.values(), wantOffsets, "offset");
      }
    },
  },
  {
    name: "f16 KV codes: encodeHalf bit for bit floatToHalf (ties to even, subnormals, overflow), decodeHalf exact for every half",
    async run(b, ref) {
      const r = rng(71);
      const special = [0, -0, 1, -1, 65504, 65519.99, 65520, -70000, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -26, 1e-9, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20, 6.1e-5, Infinity, -Infinity];
      const random = Array.from({ length: 300 }, () => (r() - 0.5) * 2 ** Math.floor(r() * 40 - 25));
      const x = Float32Array.from([...special, ...random]);
      for (const dstOffset of [0, 1, 6, 7]) {
        const halves = dstOffset + x.length + 3 + ((dstOffset + x.length + 3) % 2);
        const init = Uint16Array.from({ length: halves }, () => Math.floor(r() * 65536));
        const want = init.slice();
        ref.encodeHalf({ x, dst: want, dstOffset });
        for (let i = 0; i < halves; i++) {
          const truth = i >= dstOffset && i < dstOffset + x.length ? floatToHalf(x[i - dstOffset]!) : init[i]!;
          if (want[i] !== truth) throw new Error(`encodeHalf reference: half ${i} is ${want[i]}, floatToHalf gives ${truth}`);
        }
        const store = codeStore(b, new Uint8Array(init.buffer));
        b.encodeHalf({ x: b.upload(x), dst: halves16(store.codes), dstOffset });
        const got = new Uint16Array((await store.bytes()).slice().buffer);
        identical(`encodeHalf at offset ${dstOffset}`, got, want, "half");
      }
      // every half pattern (NaNs, subnormals, ±∞) back to float32, from odd and even offsets
      const all = Uint16Array.from({ length: 65536 + 2 }, (_, i) => i & 0xffff);
      const src = codeStore(b, new Uint8Array(all.buffer));
      for (const [srcOffset, length] of [[0, 65536], [1, 65536], [3, 5]] as const) {
        const want = new Float32Array(length);
        ref.decodeHalf({ src: all, srcOffset, length, out: want });
        const out = b.allocF32(length + 1);
        b.decodeHalf({ src: halves16(src.codes), srcOffset, length, out });
        const got = await b.read(out);
        identical(`decodeHalf from ${srcOffset}, ${length} halves`, got.subarray(0, length), want);
        if (got[length] !== 0) throw new Error(`decodeHalf from ${srcOffset}: wrote past length`);
        b.freeF32(out);
      }
      // a host backend's own memory as the store (a KV cache it placed: wasm reads it in place), into a plain array
      if (b.residency === "host") {
        const words = hostArray(b.allocF32(all.length / 2), "placed halves");
        const placed = new Uint16Array(words.buffer, words.byteOffset, all.length);
        placed.set(all);
        const want = new Float32Array(65537);
        ref.decodeHalf({ src: all, srcOffset: 1, length: 65536, out: want });
        const out = new Float32Array(65537);
        b.decodeHalf({ src: placed, srcOffset: 1, length: 65536, out });
        identical("decodeHalf from a store in the backend's memory", out, want);
        b.freeF32(words);
      }
    },
  },
];
