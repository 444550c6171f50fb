import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteRangeError, type ByteSource, memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { openGguf } from "./gguf-reader";
import { rawStringArray } from "./gguf-string-array";
import { encodeGguf } from "./gguf-writer";

/** A GGUF spelled out field by field, valid or not. */
class Raw {
  private parts: number[] = [];
  u8(...v: number[]): this {
    this.parts.push(...v);
    return this;
  }
  u32(v: number): this {
    return this.u8(...new Uint8Array(Uint32Array.of(v >>> 0).buffer));
  }
  i32(v: number): this {
    return this.u8(...new Uint8Array(Int32Array.of(v).buffer));
  }
  u64(v: number | bigint): this {
    return this.u8(...new Uint8Array(BigUint64Array.of(BigInt(v)).buffer));
  }
  f32(v: number): this {
    return this.u8(...new Uint8Array(Float32Array.of(v).buffer));
  }
  str(s: string | Uint8Array): this {
    const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
    return this.u64(b.length).u8(...b);
  }
  header(nTensors: number | bigint, nKv: number | bigint, version = 3): this {
    return this.u8(0x47, 0x47, 0x55, 0x46).u32(version).u64(nTensors).u64(nKv);
  }
  /** A tensor info: name, n_dims, ne (ggml order), type, offset. */
  info(name: string, ne: (number | bigint)[], type: number, offset: number | bigint): this {
    this.str(name).u32(ne.length);
    for (const d of ne) this.u64(d);
    return this.i32(type).u64(offset);
  }
  padTo(alignment: number): this {
    while (this.parts.length % alignment) this.parts.push(0);
    return this;
  }
  zeros(n: number): this {
    return this.u8(...new Array(n).fill(0));
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const open = (r: Raw | Uint8Array, name = "test.gguf") => openGguf(memoryByteSource(r instanceof Raw ? r.bytes() : r, name));

async function refused(r: Raw | Uint8Array, field: string, pattern: RegExp): Promise<void> {
  const err = await open(r).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a refusal matching ${pattern}`).toBeInstanceOf(ModelFileError);
  const e = err as ModelFileError;
  expect(e.file).toBe("test.gguf");
  expect(e.field).toBe(field);
  expect(e.message).toMatch(pattern);
}

/** A metadata-only file with one entry written by `value` after the key and type. */
const oneKv = (key: string, type: number, value: (r: Raw) => void) => {
  const r = new Raw().header(0, 1).str(key).i32(type);
  value(r);
  return r;
};

/** A file with one tensor info (and metadata from `kv`), padded, with `dataBytes` of data. */
function oneTensor(ne: (number | bigint)[], type: number, offset: number | bigint, dataBytes: number, name = "w"): Raw {
  return new Raw().header(1, 0).info(name, ne, type, offset).padTo(32).zeros(dataBytes);
}

describe("openGguf: header", () => {
  it("refuses a file that is not GGUF, too short, or of another version", async () => {
    await refused(new TextEncoder().encode("GGML\x03\0\0\0".padEnd(40, "\0")), "magic", /expected "GGUF", found "GGML": not a GGUF file/);
    await refused(new Uint8Array([0x47, 0x47, 0x55, 0x46, 3]), "header", /file has 5 bytes; a GGUF header needs 24/);
    await refused(new Raw().header(0, 0, 1), "version", /expected 2 or 3, found 1: GGUF v1 \(32-bit counts\) is not supported/);
    await refused(new Raw().header(0, 0, 0x03000000), "version", /byte-swapped: a big-endian GGUF \(version 3\)/);
    await refused(new Raw().header(0, 0, 4), "version", /expected 2 or 3, found 4/);
  });

  it("reads version 2 (same layout as 3) and an empty file", async () => {
    const f = await open(new Raw().header(0, 0, 2));
    expect([f.version, f.tensors.size, f.metadata.size, f.alignment]).toEqual([2, 0, 0, 32]);
  });

  it("bounds the counts by what the file could hold, before allocating", async () => {
    await refused(new Raw().header(0, 2n ** 63n), "metadata count", /9223372036854775808 is larger than 2\^53 − 1/);
    await refused(new Raw().header(0, 1000), "metadata count", /1000 entries need at least 14000 bytes but the file has 0 after the header/);
    await refused(new Raw().header(2n ** 40n, 0), "tensor count", /1099511627776 tensor infos \(after 0 metadata entries\) need at least/);
    await refused(new Raw().header(3, 0).zeros(40), "tensor count", /3 tensor infos .* need at least 75 bytes but the file has 40/);
  });
});

describe("openGguf: metadata", () => {
  it("refuses lengths past the end of the file or over the caps", async () => {
    await refused(new Raw().header(0, 1).u64(2n ** 40n).zeros(20), "metadata entry 0 key", /length 1099511627776 exceeds the limit of 65536 bytes/);
    await refused(new Raw().header(0, 1).u64(100).zeros(20), "metadata entry 0 key", /length 100 runs past the end of the file \(20 bytes left at offset 32\)/);
    await refused(oneKv("a", 8, (r) => r.u64(1000).zeros(3)), `metadata "a"`, /length 1000 runs past the end of the file/);
    await refused(oneKv("a", 9, (r) => r.i32(4).u64(2n ** 29n).zeros(8)), `metadata "a"`, /array of 536870912 u32 items needs at least 2147483648 bytes but 8 are left/);
    await refused(oneKv("a", 9, (r) => r.i32(8).u64(10).zeros(16)), `metadata "a"`, /array of 10 string items needs at least 80 bytes but 16 are left/);
    await refused(oneKv("a", 9, (r) => r.i32(0).u64(2n ** 31n).zeros(8)), `metadata "a"`, /array length 2147483648 exceeds the limit of 1073741824 items/);
    await refused(oneKv("a", 9, (r) => r.i32(0).u64(2n ** 60n)), `metadata "a" array length`, /1152921504606846976 is larger than 2\^53 − 1/);
    await refused(oneKv("abc", 4, (r) => r.u8(1)), `metadata "abc"`, /needs 4 bytes at offset 39 but the file ends at 40 \(1 left\): truncated/);
  });

  it("refuses empty and duplicate keys, unknown types, bad bools and bad UTF-8", async () => {
    await refused(new Raw().header(0, 1).str("").i32(4).u32(1), "metadata entry 0 key", /is empty/);
    await refused(new Raw().header(0, 2).str("a").i32(0).u8(1).str("a").i32(0).u8(2), `metadata "a"`, /appears twice \(the second time as entry 1\)/);
    await refused(oneKv("a", 13, (r) => r.u8(0)), `metadata "a" type`, /value type 13 is not a GGUF type \(expected 0..12\)/);
    await refused(oneKv("a", -1, (r) => r.u8(0)), `metadata "a" type`, /value type -1 is not a GGUF type/);
    await refused(oneKv("a", 9, (r) => r.i32(13).u64(0)), `metadata "a" array item type`, /value type 13/);
    await refused(oneKv("a", 7, (r) => r.u8(2)), `metadata "a"`, /bool byte is 2; expected 0 or 1/);
    await refused(oneKv("a", 9, (r) => r.i32(7).u64(2).u8(1, 9)), `metadata "a"[1]`, /bool byte is 9/);
    await refused(oneKv("a", 8, (r) => r.str(Uint8Array.of(0x61, 0xff))), `metadata "a"`, /is not valid UTF-8 \(2 bytes at offset/);
    await refused(oneKv("a", 9, (r) => r.i32(8).u64(1).str(Uint8Array.of(0xc3))), `metadata "a"[0]`, /is not valid UTF-8/);
  });

  it("bounds array nesting", async () => {
    const r = oneKv("a", 9, (r) => {
      for (let i = 0; i < 9; i++) r.i32(9).u64(1);
      r.i32(0).u64(0);
    });
    await refused(r, `metadata "a"[0][0][0][0][0][0][0]`, /arrays nest deeper than 8 levels/);
  });

  it("reads every value type", async () => {
    const r = new Raw().header(0, 6);
    r.str("u8").i32(0).u8(200);
    r.str("i16").i32(3).u8(0x00, 0x80);
    r.str("f32").i32(6).f32(0.5);
    r.str("s").i32(8).str("Ġthe 🙂");
    r.str("arr").i32(9).i32(5).u64(3).i32(-1).i32(0).i32(7);
    r.str("nested").i32(9).i32(9).u64(2).i32(8).u64(1).str("x").i32(7).u64(2).u8(1, 0);
    const f = await open(r);
    expect(Object.fromEntries(f.metadata)).toEqual({ u8: 200, i16: -32768, f32: 0.5, s: "Ġthe 🙂", arr: Int32Array.of(-1, 0, 7), nested: [["x"], [true, false]] });
    expect(f.typedMetadata.get("nested")).toEqual({
      type: "array[]",
      value: [
        { type: "string[]", value: ["x"] },
        { type: "bool[]", value: [true, false] },
      ],
    });
  });

  it("checks general.alignment's type and value", async () => {
    await refused(oneKv("general.alignment", 5, (r) => r.i32(32)), `metadata "general.alignment"`, /expected type u32, found i32/);
    await refused(oneKv("general.alignment", 4, (r) => r.u32(48)), `metadata "general.alignment"`, /expected a power of two, found 48/);
    await refused(oneKv("general.alignment", 4, (r) => r.u32(0)), `metadata "general.alignment"`, /expected a power of two, found 0/);
  });

  it("metadataValue insists on the type", async () => {
    const f = await open(encodeGguf({ metadata: [["bitnet.block_count", "u32", 30]], tensors: [] }));
    expect(f.metadataValue("bitnet.block_count", "u32")).toBe(30);
    expect(() => f.metadataValue("bitnet.block_count", "i32")).toThrow(/test.gguf: metadata "bitnet.block_count": expected type i32, found u32/);
    expect(() => f.metadataValue("bitnet.context_length", "u32")).toThrow(/metadata "bitnet.context_length": missing; expected a u32 value/);
  });
});

describe("openGguf: UTF-8", () => {
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const decodeOrUndefined = (b: Uint8Array) => {
    try {
      return strict.decode(b);
    } catch {
      return undefined;
    }
  };
  // bytes biased toward the edges of UTF-8: ASCII, continuation bytes, every kind of lead, a BOM, invalid bytes
  const byte = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0xbf }),
    fc.constantFrom(0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xbb, 0xbf, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90),
  );
  const utf8Text = fc.string({ unit: "binary", maxLength: 12 }).map((t) => new TextEncoder().encode(t));
  const item = fc.oneof(utf8Text, utf8Text, fc.uint8Array({ maxLength: 0 }), fc.array(byte, { maxLength: 12 }).map((a) => Uint8Array.from(a)), fc.array(byte, { minLength: 49, maxLength: 90 }).map((a) => Uint8Array.from(a)));

  it("a string array decodes item by item as TextDecoder does, or is refused at its first bad item", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 20 }), async (items) => {
        const r = new Raw().header(0, 1).str("k").i32(9).i32(8).u64(items.length);
        for (const b of items) r.str(b);
        const expected = items.map(decodeOrUndefined);
        const firstBad = expected.indexOf(undefined);
        const result = await open(r).then(
          (f) => f.metadata.get("k"),
          (e: unknown) => e,
        );
        if (firstBad < 0) expect(result).toEqual(expected);
        else {
          expect(result).toBeInstanceOf(ModelFileError);
          expect((result as ModelFileError).field).toBe(`metadata "k"[${firstBad}]`);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("keeps a leading byte-order mark and refuses a sequence split across two strings", async () => {
    const bom = new Raw().header(0, 1).str("k").i32(9).i32(8).u64(2).str(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61)).str("b");
    expect((await open(bom)).metadata.get("k")).toEqual(["\ufeffa", "b"]);
    const split = new Raw().header(0, 1).str("k").i32(9).i32(8).u64(2).str(Uint8Array.of(0x61, 0xe2, 0x82)).str(Uint8Array.of(0xac));
    await refused(split, `metadata "k"[0]`, /is not valid UTF-8/);
  });
});

describe("openGguf: string arrays", () => {
  it("keeps a top-level string array as bytes and makes its strings on first access, once, for both views", async () => {
    const items = ["a", "Ġthe", "", "日本語", "🙂", "x".repeat(300)];
    const f = await open(encodeGguf({ metadata: [["k", "string[]", items], ["n", "u32", 1]], tensors: [] }));
    const raw = rawStringArray(f.metadata, "k")!;
    expect(raw.length).toBe(items.length);
    expect(new TextDecoder().decode(raw.item(3))).toBe("日本語");
    expect(rawStringArray(f.metadata, "n")).toBeUndefined();
    const typed = f.typedMetadata.get("k")!;
    expect(Object.getOwnPropertyDescriptor(typed, "value")!.get).toBeDefined(); // not made yet
    const strings = f.metadata.get("k");
    expect(strings).toEqual(items);
    expect(typed.value).toBe(strings);
    expect(Object.getOwnPropertyDescriptor(typed, "value")!.value).toBe(strings);
    expect(f.metadataValue("k", "string[]")).toBe(strings);
  });

  it("iterating the metadata makes every value", async () => {
    const f = await open(encodeGguf({ metadata: [["a", "string[]", ["x", "y"]], ["b", "u8", 3], ["c", "string[]", []]], tensors: [] }));
    expect([...f.metadata]).toEqual([["a", ["x", "y"]], ["b", 3], ["c", []]]);
    expect(Object.fromEntries(f.metadata.entries())).toEqual({ a: ["x", "y"], b: 3, c: [] });
    expect([...f.metadata.values()]).toEqual([["x", "y"], 3, []]);
    const seen: unknown[] = [];
    f.metadata.forEach((v) => seen.push(v));
    expect(seen).toEqual([["x", "y"], 3, []]);
  });

  it("reads items longer than the read window and items across its edge", async () => {
    const items = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "é".repeat(20_000 + i) : `t${i}`.repeat(1 + (i % 7) * 900)));
    const f = await open(encodeGguf({ metadata: [["k", "string[]", items]], tensors: [] }));
    expect(f.metadata.get("k")).toEqual(items);
    const bad = new Raw().header(0, 1).str("k").i32(9).i32(8).u64(4).str("a".repeat(40_000)).str("b".repeat(40_000)).str(Uint8Array.of(0x61, 0xff)).str("c");
    await refused(bad, `metadata "k"[2]`, /is not valid UTF-8 \(2 bytes at offset 80073\)/);
  });
});

describe("openGguf: tensor infos", () => {
  it("refuses bad names", async () => {
    await refused(oneTensor([8], 0, 0, 32, "x".repeat(64)), "tensor info 0 name", /length 64 exceeds the limit of 63 bytes \(GGML_MAX_NAME is 64 with the NUL\)/);
    await refused(oneTensor([8], 0, 0, 32, ""), "tensor info 0 name", /is empty/);
    const dup = new Raw().header(2, 0).info("a", [8], 0, 0).info("a", [8], 0, 32).padTo(32).zeros(64);
    await refused(dup, `tensor "a"`, /appears twice \(tensor infos 0 and 1\)/);
  });

  it("refuses bad shapes", async () => {
    await refused(oneTensor([1, 1, 1, 1, 8], 0, 0, 32), `tensor "w" n_dims`, /expected at most 4, found 5/);
    await refused(oneTensor([8, 0], 0, 0, 32), `tensor "w" ne[1]`, /is 0; expected a positive dimension/);
    await refused(oneTensor([2n ** 30n, 2n ** 30n, 2n ** 30n], 0, 0, 32), `tensor "w" shape`, /ne 1073741824×1073741824… has more than 2\^53 − 1 elements/);
    await refused(oneTensor([2n ** 63n], 0, 0, 32), `tensor "w" ne[0]`, /9223372036854775808 is larger than 2\^53 − 1/);
    await refused(oneTensor([31, 2], 8, 0, 68), `tensor "w" ne[0]`, /31 is not a multiple of Q8_0's block size 32/);
  });

  it("refuses unknown types, naming the tensor and the type id", async () => {
    await refused(oneTensor([256], 12, 0, 256), `tensor "w" type`, /ggml type 12 \(Q4_K\) is not supported; expected one of F32 0, F16 1, Q4_0 2, Q8_0 8, Q6_K 14, BF16 30, TQ1_0 34, TQ2_0 35, I2_S 36/);
    await refused(oneTensor([256], 39, 0, 256), `tensor "w" type`, /39 \(TL2 in bitnet.cpp, MXFP4 in llama.cpp\)/);
    await refused(oneTensor([256], 1000, 0, 256), `tensor "w" type`, /1000 \(not a ggml type\)/);
    await refused(oneTensor([256], -1, 0, 256), `tensor "w" type`, /-1 \(not a ggml type\)/);
  });

  it("refuses offsets that are unaligned, outside the file or overlapping", async () => {
    await refused(oneTensor([8], 0, 16, 64), `tensor "w" offset`, /16 is not a multiple of the alignment 32/);
    await refused(oneTensor([8], 0, 32, 32), `tensor "w"`, /data at offset 32 \(file offset 96\) needs 32 bytes for F32 \[8\] but the file has 96 bytes: truncated or a bad offset/);
    await refused(oneTensor([8], 0, 2n ** 52n, 32), `tensor "w"`, /truncated or a bad offset/);
    await refused(oneTensor([8], 0, 0, 31), `tensor "w"`, /needs 32 bytes/);
    const overlap = new Raw().header(2, 0).info("a", [16], 0, 0).info("b", [8], 0, 32).padTo(32).zeros(96);
    await refused(overlap, `tensor "b"`, /data \[32, 64\) overlaps tensor "a"'s \[0, 64\)/);
    await refused(new Raw().header(1, 0).info("w", [8], 0, 0), "data section", /starts at 64 \(header end 57 padded to 32\) but the file has 57 bytes: truncated/);
  });

  it("sizes I2_S as bitnet.cpp's ggml_nbytes does: n/4 + 32", async () => {
    const f = await open(oneTensor([128, 3], 36, 0, 128 * 3 / 4 + 32));
    expect(f.tensors.get("w")).toMatchObject({ dtype: "I2_S", shape: [3, 128], ne: [128, 3], byteLength: 128 });
    await refused(oneTensor([128, 3], 36, 0, 127), `tensor "w"`, /needs 128 bytes for I2_S \[3, 128\]/);
  });

  it("reads a 0-dimensional tensor as shape [] with one element, as gguf.cpp does", async () => {
    const f = await open(new Raw().header(1, 0).info("s", [], 0, 0).padTo(32).f32(2.5).zeros(28));
    expect(f.tensors.get("s")).toMatchObject({ shape: [], ne: [], byteLength: 4 });
    expect(new Float32Array((await f.read("s")).buffer)[0]).toBe(2.5);
  });
});

describe("GgufSource reads", () => {
  const table = Uint8Array.from({ length: 3 * 4 * 4 }, (_, i) => i);
  const q8 = Uint8Array.from({ length: 2 * 34 }, (_, i) => 255 - i);
  const file = () =>
    encodeGguf({
      metadata: [],
      tensors: [
        { name: "token_embd.weight", dtype: "F32", shape: [3, 4], data: table },
        { name: "q8", dtype: "Q8_0", shape: [2, 32], data: q8 },
        { name: "i2s", dtype: "I2_S", shape: [128], data: new Uint8Array(64) },
      ],
    });

  it("readRows returns just those rows' bytes", async () => {
    const f = await open(file());
    expect(await f.readRows("token_embd.weight", 1, 2)).toEqual(table.subarray(16, 48));
    expect(await f.readRows("token_embd.weight", 0, 0)).toEqual(new Uint8Array(0));
    expect(await f.readRows("q8", 1, 1)).toEqual(q8.subarray(34));
    expect(() => f.readRows("token_embd.weight", 2, 2)).toThrow(/tensor "token_embd.weight": rows 2..3 requested; it has 3 rows of 4/);
    expect(() => f.readRows("i2s", 0, 1)).toThrow(/I2_S packs the whole tensor in one sweep, not row by row; read it whole/);
  });

  it("an unknown tensor name lists what the file has", async () => {
    const f = await open(file());
    expect(() => f.read("output.weight")).toThrow(/test.gguf: tensor "output.weight": not in the file; it has 3 tensors: token_embd.weight, q8, i2s/);
  });

  it("a file that shrinks after opening fails naming the file and tensor", async () => {
    const bytes = file();
    const inner = memoryByteSource(bytes, "shrunk.gguf");
    let cut = false;
    const source: ByteSource = {
      name: inner.name,
      size: inner.size,
      read: (o, n) => (cut ? Promise.reject(new ByteRangeError(inner.name, `file ended at byte ${o}`)) : inner.read(o, n)),
      close: inner.close,
    };
    const f = await openGguf(source);
    cut = true;
    await expect(f.read("q8")).rejects.toThrow(/shrunk.gguf: tensor "q8": shrunk.gguf: file ended at byte/);
  });

  it("opening reads the header only, in a few windows, whatever the size of the data", async () => {
    const tokens = Array.from({ length: 50_000 }, (_, i) => `tok${i}`);
    const big = encodeGguf({
      metadata: [["tokenizer.ggml.tokens", "string[]", tokens]],
      tensors: [{ name: "w", dtype: "F32", shape: [1024, 1024], data: new Uint8Array(4 << 20) }],
    });
    const inner = memoryByteSource(big);
    const reads: number[] = [];
    const f = await openGguf({
      ...inner,
      read: (o, n) => {
        reads.push(n);
        return inner.read(o, n);
      },
    });
    const headerBytes = f.dataOffset;
    expect(headerBytes).toBeGreaterThan(500_000);
    expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(headerBytes + (1 << 16) + 64);
    expect(reads.length).toBeLessThan(headerBytes / (1 << 16) + 4);
    expect((f.metadata.get("tokenizer.ggml.tokens") as string[])[49_999]).toBe("tok49999");
  });
});
