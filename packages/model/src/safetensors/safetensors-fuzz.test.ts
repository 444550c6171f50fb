/**
 * Seeded fuzzing of openSafetensors: thousands of mutated headers and files. Every outcome must be a clean parse
 * (whose tensors then read back at their stated sizes and cover the data area) or a ModelFileError/ByteRangeError
 * naming the file — never a TypeError or RangeError from inside the parser, never a read larger than the file.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../sampling";
import { type ByteSource, ByteRangeError, memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { openSafetensors } from "./safetensors-source";

const NAME = "fuzz.safetensors";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Entry = [key: string, value: Json];

function serialize(root: Entry[] | Json): string {
  if (!Array.isArray(root) || !root.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string")) return JSON.stringify(root);
  // Entries as text so duplicate keys and "__proto__" survive into the file.
  return `{${(root as Entry[]).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

function fileOf(headerText: string, dataBytes: number, fill: (i: number) => number): Uint8Array {
  const json = new TextEncoder().encode(headerText + " ".repeat((8 - (headerText.length % 8)) % 8));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + json.length + i] = fill(i);
  return out;
}

/** A valid header: several dtypes, a zero-size tensor, a scalar, odd names, metadata. */
function baseHeader(): { entries: Entry[]; dataBytes: number } {
  const specs: [string, string, number[]][] = [
    ["model.embed_tokens.weight", "BF16", [4, 3]],
    ["layers.0.weight", "U8", [2, 5]],
    ["layers.0.weight_scale", "F32", [1]],
    ["empty", "F16", [0, 9]],
    ["scalar", "I64", []],
    ["__proto__", "I8", [3]],
    ["0", "BOOL", [2]],
    ["f64", "F64", [2]],
    ["i16", "I16", [1, 1, 3]],
    ["i32", "I32", [2]],
  ];
  const size: Record<string, number> = { BF16: 2, U8: 1, F32: 4, F16: 2, I64: 8, I8: 1, BOOL: 1, F64: 8, I16: 2, I32: 4 };
  const entries: Entry[] = [["__metadata__", { format: "pt", note: "fuzz" }]];
  let at = 0;
  for (const [name, dtype, shape] of specs) {
    const n = shape.reduce((a, b) => a * b, 1) * size[dtype]!;
    entries.push([name, { dtype, shape, data_offsets: [at, at + n] }]);
    at += n;
  }
  return { entries, dataBytes: at };
}

const POOL: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  2,
  5,
  1.5,
  -0.5,
  2 ** 53,
  2 ** 53 + 2,
  1e308,
  -1e308,
  "",
  "F32",
  "U16",
  "F8_E4M3",
  "bf16",
  "x",
  [],
  [0],
  [0, 0],
  [1, 2, 3],
  [-1, 2],
  [0, 1e20],
  [2 ** 52, 2 ** 52],
  {},
  { dtype: "U8" },
  [[[[1]]]],
  "a".repeat(300),
  Array.from({ length: 64 }, (_, i) => i),
];

function mutate(rand: () => number, entries: Entry[]): Entry[] | Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const value = (): Json => pick(POOL);
  const out: Entry[] = entries.map(([k, v]) => [k, JSON.parse(JSON.stringify(v)) as Json]);
  const steps = 1 + Math.floor(rand() * 3);
  for (let s = 0; s < steps; s++) {
    const op = Math.floor(rand() * 14);
    const i = Math.floor(rand() * out.length);
    const entry = out[i];
    const obj = entry && typeof entry[1] === "object" && entry[1] !== null && !Array.isArray(entry[1]) ? (entry[1] as Record<string, Json>) : undefined;
    switch (op) {
      case 0: // whole root replaced
        return pick<Json>([null, [], 5, "x", true, [["a", 1]], { a: null }, { data_offsets: 5 }]);
      case 1: // an entry becomes something else
        if (entry) entry[1] = value();
        break;
      case 2: // a field becomes something else
        if (obj) obj[pick(["dtype", "shape", "data_offsets", "extra"])] = value();
        break;
      case 3: // a field is removed
        if (obj) delete obj[pick(["dtype", "shape", "data_offsets"])];
        break;
      case 4: // offsets nudged
        if (obj && Array.isArray(obj.data_offsets) && obj.data_offsets.length === 2) {
          const d = pick([-8, -2, -1, 1, 2, 8, 1000]);
          const which = Math.floor(rand() * 3);
          const [b, e] = obj.data_offsets as number[];
          obj.data_offsets = which === 0 ? [b! + d, e!] : which === 1 ? [b!, e! + d] : [b! + d, e! + d];
        }
        break;
      case 5: // offsets swapped / negated / collapsed
        if (obj && Array.isArray(obj.data_offsets) && obj.data_offsets.length === 2) {
          const [b, e] = obj.data_offsets as number[];
          obj.data_offsets = pick([[e!, b!], [-b!, e!], [b!, b!], [b!], [b!, e!, e!], 5]) as Json;
        }
        break;
      case 6: // shape changed
        if (obj && Array.isArray(obj.shape)) {
          const sh = obj.shape as Json[];
          const k = Math.floor(rand() * (sh.length + 1));
          const kind = Math.floor(rand() * 4);
          if (kind === 0) sh.push(pick([0, 1, 2, 3, 1e9]));
          else if (kind === 1) sh.splice(k, 1);
          else if (kind === 2) sh[k] = value();
          else sh[k] = typeof sh[k] === "number" ? (sh[k] as number) * 2 : 2;
        }
        break;
      case 7: // dtype changed
        if (obj) obj.dtype = pick(["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U16", "U32", "U64", "F8_E5M2", "f32", "", null, 4]);
        break;
      case 8: // entry removed (a hole) or duplicated under another name (an overlap) or under the same name
        if (entry) {
          const r = rand();
          if (r < 0.4) out.splice(i, 1);
          else out.push([r < 0.7 ? `${entry[0]}#2` : entry[0], JSON.parse(JSON.stringify(entry[1]))]);
        }
        break;
      case 9: // null entry / metadata broken
        if (rand() < 0.5 && entry) entry[1] = null;
        else out.push(["__metadata__", pick<Json>([null, { a: 1 }, "x", [], { b: "ok" }])]);
        break;
      case 10: // odd names
        if (entry) entry[0] = pick(["__proto__", "constructor", "toString", "", "\u0000", "hasOwnProperty", "é", "0", "1e3"]);
        break;
      case 11: // offsets far away
        if (obj) obj.data_offsets = pick<Json>([[0, 2 ** 53], [2 ** 53 - 1, 2 ** 53], [1e20, 1e20], [0, -0], ["0", "4"]]);
        break;
      case 12: // shape of a huge product
        if (obj) obj.shape = pick<Json>([[2 ** 26, 2 ** 26, 2 ** 26], [1e15, 1e15, 0], [9007199254740991, 2], [2 ** 31, 2 ** 31]]);
        break;
      case 13: // an extra valid-looking entry past the end
        out.push([`extra${s}`, { dtype: "U8", shape: [4], data_offsets: [100000, 100004] }]);
        break;
    }
  }
  return out;
}

/** Deeply nested JSON at a random place: the parser's and the error messages' recursion must both hold. */
function deepHeader(rand: () => number): string {
  const n = [1000, 8000, 20_000][Math.floor(rand() * 3)]!;
  const arr = `${"[".repeat(n)}${"]".repeat(n)}`;
  const obj = `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
  const deep = rand() < 0.5 ? arr : obj;
  return [deep, `{"a":${deep}}`, `{"a":{"dtype":"U8","shape":${deep},"data_offsets":[0,0]}}`, `{"a":{"dtype":"U8","shape":[1],"data_offsets":${deep}}}`, `{"__metadata__":${deep}}`, `{"__metadata__":{"k":${deep}}}`][
    Math.floor(rand() * 6)
  ]!;
}

function mutateBytes(rand: () => number, file: Uint8Array): Uint8Array {
  const r = rand();
  const bytes = file.slice();
  if (r < 0.35) {
    for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
      const at = Math.floor(rand() * bytes.length);
      bytes[at]! ^= 1 << Math.floor(rand() * 8);
    }
    return bytes;
  }
  if (r < 0.6) return bytes.slice(0, Math.floor(rand() * bytes.length));
  if (r < 0.75) {
    const extra = new Uint8Array(1 + Math.floor(rand() * 16)).map(() => Math.floor(rand() * 256));
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes);
    out.set(extra, bytes.length);
    return out;
  }
  if (r < 0.9) {
    const dv = new DataView(bytes.buffer);
    const len = [0n, 1n, 7n, BigInt(bytes.length), BigInt(bytes.length - 8), 100_000_001n, 2n ** 63n, 2n ** 64n - 1n, BigInt(Math.floor(rand() * bytes.length))];
    dv.setBigUint64(0, len[Math.floor(rand() * len.length)]!, true);
    return bytes;
  }
  // random bytes over the header text (broken UTF-8, control characters, stray quotes)
  for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
    const at = 8 + Math.floor(rand() * Math.max(1, Math.min(bytes.length - 8, 400)));
    if (at < bytes.length) bytes[at] = [0x00, 0x22, 0x5c, 0x7b, 0x7d, 0xc3, 0xff, 0x80, Math.floor(rand() * 256)][Math.floor(rand() * 9)]!;
  }
  return bytes;
}

describe("openSafetensors under fuzzing", () => {
  it("parses cleanly or refuses with a ModelFileError/ByteRangeError naming the file, for 4000 mutated files", async () => {
    const rand = seededRandom(20250417);
    const { entries, dataBytes } = baseHeader();
    const failures: string[] = [];
    const outcomes = { parsed: 0, refused: 0 };
    for (let c = 0; c < 4000; c++) {
      const mutated = c % 5 === 0 ? entries : mutate(rand, entries);
      const text = c % 67 === 1 ? deepHeader(rand) : serialize(mutated as Entry[]);
      let bytes = fileOf(text, dataBytes, (i) => (i * 31 + c) & 255);
      if (c % 5 === 0 || rand() < 0.3) bytes = mutateBytes(rand, bytes);
      let biggestRead = 0;
      const inner = memoryByteSource(bytes, NAME);
      const spy: ByteSource = {
        ...inner,
        read(offset, length) {
          biggestRead = Math.max(biggestRead, length);
          return inner.read(offset, length);
        },
      };
      try {
        const src = await openSafetensors(spy);
        const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        let covered = 0;
        for (const [name, t] of src.tensors) {
          const got = await src.read(name);
          if (got.length !== t.byteLength) failures.push(`case ${c}: ${name} read ${got.length} bytes, expected ${t.byteLength}`);
          covered += t.byteLength;
        }
        if (covered !== bytes.length - 8 - headerLen) failures.push(`case ${c}: tensors cover ${covered} of ${bytes.length - 8 - headerLen} data bytes`);
        await src.close();
        outcomes.parsed++;
      } catch (e) {
        outcomes.refused++;
        if (!(e instanceof ModelFileError || e instanceof ByteRangeError)) failures.push(`case ${c}: ${(e as Error).name}: ${(e as Error).message}`);
        else if (!(e as Error).message.startsWith(`${NAME}: `)) failures.push(`case ${c}: message does not name the file: ${(e as Error).message}`);
      }
      if (biggestRead > bytes.length) failures.push(`case ${c}: read ${biggestRead} bytes from a ${bytes.length}-byte file`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
    // Both outcomes really happen: the fuzzer is neither all-valid nor all-garbage.
    expect(outcomes.parsed).toBeGreaterThan(200);
    expect(outcomes.refused).toBeGreaterThan(2000);
  }, 30_000);
});
