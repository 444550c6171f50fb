/**
 * Seeded fuzzing of openGguf: thousands of mutations of small valid files (bit flips, byte writes, truncations,
 * splices, huge/negative/boundary values in every length, count, type, n_dims, ne and offset field, wrong value
 * types, offsets outside the file or onto another tensor, unknown tensor types, duplicate names). Every outcome
 * must be a clean parse whose tensors read back in bounds, or a ModelFileError/ByteRangeError naming the file —
 * never a TypeError or RangeError from inside the parser, a hang, or a read larger than the file.
 *
 * Allocation bound, by construction in the reader: bytes only enter through ByteSource.read, which this test
 * counts (no single read exceeds the file, the total stays within about twice the file plus one 64 KiB window);
 * the only other allocations sized by the file's numbers are arrays of strings/bools/arrays, whose counts are
 * checked against the bytes left (each item needs ≥ 1, 8 or 12 bytes) before the array is made.
 */
import { describe, expect, it } from "vitest";
import { ByteRangeError, type ByteSource, memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { openGguf } from "./gguf-reader";
import type { GgufTypedValue } from "./gguf-value-types";
import { seededRandom } from "../sampling";
import { encodeGguf } from "./gguf-writer";

const FILE = "fuzz.gguf";


function baseFile(alignment: number): Uint8Array {
  const metadata: [string, GgufTypedValue][] = [
    ["general.architecture", { type: "string", value: "bitnet" }],
    ["bitnet.block_count", { type: "u32", value: 2 }],
    ["bitnet.rope.freq_base", { type: "f32", value: 10000 }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: ["<s>", "</s>", "Ġa", "日本"] }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: Int32Array.of(3, 3, 1, 1) }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: Float32Array.of(0, 0, -1, -2) }],
    ["x.u64", { type: "u64", value: 123456789n }],
    ["x.bools", { type: "bool[]", value: [true, false] }],
    ["x.nested", { type: "array[]", value: [{ type: "u8[]", value: Uint8Array.of(1, 2) }, { type: "string[]", value: ["z"] }] }],
  ];
  const data = (n: number, k: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + k) & 0xff);
  return encodeGguf(
    {
      metadata: new Map(metadata),
      tensors: [
        { name: "a.w", dtype: "F32", shape: [2, 8], data: data(64, 1) },
        { name: "b.w", dtype: "Q8_0", shape: [2, 32], data: data(68, 2) },
        { name: "c.w", dtype: "TQ2_0", shape: [256], data: data(66, 3) },
        { name: "d.w", dtype: "I2_S", shape: [128], data: data(64, 4) },
        { name: "e.w", dtype: "F16", shape: [1, 1, 3], data: data(6, 5) },
      ],
    },
    alignment,
  );
}

interface Field {
  kind: "len" | "count" | "vtype" | "atype" | "acount" | "ndims" | "ne" | "ttype" | "offset";
  at: number;
  size: 4 | 8;
}

/** Where every length, count, type, n_dims, ne and offset of a valid file sits (for targeted mutations). */
function fieldsOf(b: Uint8Array): { fields: Field[]; headerEnd: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fields: Field[] = [
    { kind: "count", at: 8, size: 8 },
    { kind: "count", at: 16, size: 8 },
  ];
  const nTensors = Number(v.getBigUint64(8, true));
  const nKv = Number(v.getBigUint64(16, true));
  let p = 24;
  const str = () => {
    fields.push({ kind: "len", at: p, size: 8 });
    p += 8 + Number(v.getBigUint64(p, true));
  };
  const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const arrayBody = () => {
    fields.push({ kind: "atype", at: p, size: 4 }, { kind: "acount", at: p + 4, size: 8 });
    const item = v.getInt32(p, true);
    const n = Number(v.getBigUint64(p + 4, true));
    p += 12;
    for (let i = 0; i < n; i++) value(item);
  };
  const value = (type: number) => {
    if (type === 8) str();
    else if (type === 9) arrayBody();
    else p += sizes[type]!;
  };
  for (let i = 0; i < nKv; i++) {
    str();
    fields.push({ kind: "vtype", at: p, size: 4 });
    const type = v.getInt32(p, true);
    p += 4;
    value(type);
  }
  for (let i = 0; i < nTensors; i++) {
    str();
    fields.push({ kind: "ndims", at: p, size: 4 });
    const nd = v.getUint32(p, true);
    p += 4;
    for (let j = 0; j < nd; j++, p += 8) fields.push({ kind: "ne", at: p, size: 8 });
    fields.push({ kind: "ttype", at: p, size: 4 }, { kind: "offset", at: p + 4, size: 8 });
    p += 12;
  }
  return { fields, headerEnd: p };
}

/** A ByteSource that records what is read from it. */
function counted(bytes: Uint8Array): ByteSource & { total: number; largest: number } {
  const inner = memoryByteSource(bytes, FILE);
  const s = {
    name: FILE,
    size: bytes.length,
    total: 0,
    largest: 0,
    read(o: number, n: number) {
      s.total += Math.max(0, n);
      s.largest = Math.max(s.largest, n);
      return inner.read(o, n);
    },
    close: inner.close,
  };
  return s;
}

const U64_VALUES = [2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 53n - 1n, 2n ** 32n, 2n ** 31n, 0n, 1n, 2n, 31n, 32n, 33n, 64n, 4096n];
const U32_VALUES = [0xffffffff, 0x80000000, 0x7fffffff, 0, 1, 4, 5, 7, 8, 9, 12, 13, 14, 30, 34, 35, 36, 37, 39, 40, 100, 1 << 16];

function mutate(base: Uint8Array, rand: () => number): { bytes: Uint8Array; what: string[] } {
  const { fields, headerEnd } = fieldsOf(base);
  let b = base.slice();
  const what: string[] = [];
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const write = (f: Field, value: bigint | number) => {
    if (f.at + f.size > b.length) return;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (f.size === 8) v.setBigUint64(f.at, BigInt.asUintN(64, BigInt(value)), true);
    else v.setUint32(f.at, Number(BigInt.asUintN(32, BigInt(value))), true);
  };
  const steps = 1 + int(3);
  for (let s = 0; s < steps; s++) {
    const op = int(11);
    if (op === 0) {
      const at = rand() < 0.7 ? int(headerEnd) : int(b.length);
      const bit = int(8);
      b[at]! ^= 1 << bit;
      what.push(`flip bit ${bit} of byte ${at}`);
    } else if (op === 1) {
      const at = int(headerEnd);
      const v = int(256);
      b[at] = v;
      what.push(`byte ${at} = ${v}`);
    } else if (op === 2) {
      const n = rand() < 0.8 ? int(headerEnd + 8) : int(b.length);
      b = b.slice(0, n);
      what.push(`truncate to ${n}`);
    } else if (op === 3) {
      const f = pick(fields);
      const value = f.size === 8 ? (rand() < 0.2 ? BigInt(b.length + int(64) - 32) : rand() < 0.1 ? BigInt.asUintN(64, BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * 8n) : pick(U64_VALUES)) : pick(U32_VALUES);
      write(f, value);
      what.push(`${f.kind}@${f.at} = ${value}`);
    } else if (op === 4) {
      const f = pick(fields.filter((x) => x.kind === "vtype" || x.kind === "atype"));
      const value = rand() < 0.5 ? int(14) : pick(U32_VALUES);
      write(f, value);
      what.push(`${f.kind}@${f.at} = ${value}`);
    } else if (op === 5) {
      const offsets = fields.filter((x) => x.kind === "offset");
      const f = pick(offsets);
      const other = new DataView(base.buffer).getBigUint64(pick(offsets).at, true);
      const value = pick([other, other + 32n, other - 32n, other + 1n, other + 16n, BigInt(b.length), BigInt(b.length) * 2n, 2n ** 62n, 0n]);
      write(f, value);
      what.push(`offset@${f.at} = ${value}`);
    } else if (op === 6) {
      const f = pick(fields.filter((x) => x.kind === "ttype"));
      const value = rand() < 0.7 ? int(42) - 1 : pick(U32_VALUES);
      write(f, value);
      what.push(`ttype@${f.at} = ${value}`);
    } else if (op === 7) {
      const f = pick(fields.filter((x) => x.kind === "ndims" || x.kind === "ne"));
      const value = f.kind === "ndims" ? int(7) : pick([0n, 1n, 2n, 3n, 31n, 128n, 256n, 2n ** 26n, 2n ** 40n, 2n ** 63n]);
      write(f, value);
      what.push(`${f.kind}@${f.at} = ${value}`);
    } else if (op === 8) {
      const at = int(Math.min(headerEnd, b.length) + 1);
      const n = 1 + int(16);
      const insert = Uint8Array.from({ length: n }, () => int(256));
      const next = new Uint8Array(b.length + n);
      next.set(b.subarray(0, at));
      next.set(insert, at);
      next.set(b.subarray(at), at + n);
      b = next;
      what.push(`insert ${n} bytes at ${at}`);
    } else if (op === 9) {
      const at = int(Math.min(headerEnd, b.length));
      const n = 1 + int(24);
      b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]);
      what.push(`delete ${n} bytes at ${at}`);
    } else {
      // give a tensor another's name (all base names have 3 bytes)
      const names = fields.filter((x) => x.kind === "len" && new DataView(base.buffer).getBigUint64(x.at, true) === 3n && x.at > fields.find((y) => y.kind === "ndims")!.at - 20);
      if (names.length >= 2) {
        const [x, y] = [pick(names), pick(names)];
        if (y.at + 11 <= b.length && x.at + 11 <= b.length) b.set(b.slice(y.at + 8, y.at + 11), x.at + 8);
        what.push(`name@${x.at} = name@${y.at}`);
      }
    }
  }
  return { bytes: b, what };
}

interface Outcome {
  parsed: number;
  refused: number;
  failures: string[];
  slowest: number;
}

async function fuzz(seed: number, cases: number, base: Uint8Array): Promise<Outcome> {
  const rand = seededRandom(seed);
  const out: Outcome = { parsed: 0, refused: 0, failures: [], slowest: 0 };
  for (let i = 0; i < cases; i++) {
    const { bytes, what } = mutate(base, rand);
    const source = counted(bytes);
    const started = performance.now();
    const label = `seed ${seed} case ${i} [${what.join("; ")}]`;
    let g: Awaited<ReturnType<typeof openGguf>> | undefined;
    try {
      g = await openGguf(source);
      out.parsed++;
    } catch (err) {
      if (!(err instanceof ModelFileError || err instanceof ByteRangeError)) out.failures.push(`${label}: ${(err as Error)?.stack ?? String(err)}`);
      else if (!err.message.startsWith(`${FILE}: `)) out.failures.push(`${label}: message does not name the file: ${err.message}`);
      else out.refused++;
    }
    // a header that was accepted must describe tensors that read back, in bounds, without any error
    for (const e of g?.tensors.values() ?? []) {
      if (!(e.fileOffset >= g!.dataOffset && e.fileOffset + e.byteLength <= bytes.length)) out.failures.push(`${label}: tensor ${e.name} [${e.fileOffset}, +${e.byteLength}) outside ${bytes.length} bytes`);
      try {
        const data = await g!.read(e.name);
        if (data.length !== e.byteLength) out.failures.push(`${label}: tensor ${e.name} read ${data.length} bytes, expected ${e.byteLength}`);
      } catch (err) {
        out.failures.push(`${label}: tensor ${e.name} did not read back: ${String(err)}`);
      }
    }
    if (source.largest > bytes.length) out.failures.push(`${label}: read ${source.largest} bytes at once from a ${bytes.length}-byte file`);
    if (source.total > 2 * bytes.length + (1 << 16)) out.failures.push(`${label}: read ${source.total} bytes in all from a ${bytes.length}-byte file`);
    out.slowest = Math.max(out.slowest, performance.now() - started);
  }
  return out;
}

describe("openGguf fuzzing", () => {
  for (const [seed, alignment] of [
    [1, 32],
    [2, 64],
    [3, 32],
  ] as const) {
    it(`seed ${seed}, alignment ${alignment}: 2000 mutations parse cleanly or are refused naming the file`, async () => {
      const base = baseFile(alignment);
      expect((await openGguf(memoryByteSource(base))).tensors.size).toBe(5); // the base itself is valid
      const r = await fuzz(seed, 2000, base);
      expect(r.failures.slice(0, 5)).toEqual([]);
      // both outcomes occur often enough that the mutations reach past the first check
      expect(r.refused).toBeGreaterThan(1000);
      expect(r.parsed).toBeGreaterThan(50);
      expect(r.slowest).toBeLessThan(500);
    });
  }
});
