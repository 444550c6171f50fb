import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gguf as hfGguf } from "@huggingface/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobByteSource, memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { GGML_TENSOR_TYPES } from "./ggml-tensor-types";
import { openGguf, openGgufFile } from "./gguf-reader";
import type { GgufTypedValue } from "./gguf-value-types";
import type { ByteRange } from "@onebit/kernels";
import { encodeGguf, type GgufInput, type GgufTensorInput, WRITE_CHUNK, writeGguf } from "./gguf-writer";

/** Little-endian pieces for spelling out expected files by hand. */
const le = {
  u32: (v: number) => new Uint8Array(Uint32Array.of(v).buffer),
  i32: (v: number) => new Uint8Array(Int32Array.of(v).buffer),
  u64: (v: number) => new Uint8Array(BigUint64Array.of(BigInt(v)).buffer),
  f32: (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer),
  str: (s: string) => {
    const b = new TextEncoder().encode(s);
    return concat(le.u64(b.length), b);
  },
  zeros: (n: number) => new Uint8Array(n),
};
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic bytes. */
function bytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  return Uint8Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s >>> 24;
  });
}

/** One tensor of every type onebit reads, with the byte counts ggml_nbytes gives them. */
function everyType(): GgufTensorInput[] {
  const sizes: Record<string, [number[], number]> = {
    F32: [[3, 5], 60],
    F16: [[2, 3], 12],
    BF16: [[7], 14],
    Q8_0: [[2, 64], 2 * 2 * 34],
    Q4_0: [[1, 32], 18],
    Q6_K: [[2, 256], 2 * 210],
    TQ1_0: [[256], 54],
    TQ2_0: [[3, 256], 3 * 66],
    I2_S: [[4, 128], 512 / 4 + 32], // bitnet.cpp: n/4 + 32
  };
  return GGML_TENSOR_TYPES.map((t, i) => {
    const [shape, n] = sizes[t.name]!;
    return { name: `t.${t.name.toLowerCase()}`, dtype: t.name, shape, data: bytes(n, i + 1) };
  });
}

const METADATA: [string, GgufTypedValue][] = [
  ["general.architecture", { type: "string", value: "bitnet" }],
  ["bitnet.block_count", { type: "u32", value: 30 }],
  ["bitnet.rope.freq_base", { type: "f32", value: 500000 }],
  ["x.u8", { type: "u8", value: 255 }],
  ["x.i8", { type: "i8", value: -128 }],
  ["x.u16", { type: "u16", value: 65535 }],
  ["x.i16", { type: "i16", value: -32768 }],
  ["x.i32", { type: "i32", value: -2147483648 }],
  ["x.u64", { type: "u64", value: 0xffffffffffffffffn }],
  ["x.i64", { type: "i64", value: -0x8000000000000000n }],
  ["x.f64", { type: "f64", value: Math.PI }],
  ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
  ["x.false", { type: "bool", value: false }],
  ["x.unicode", { type: "string", value: "Ġthe ▁naïve 日本 🙂 \u0000" }],
  ["x.empty", { type: "string", value: "" }],
  ["x.long", { type: "string", value: "ab🙂".repeat(5000) }], // grows the writer's buffer past its first 4 KiB
  ["tokenizer.ggml.tokens", { type: "string[]", value: ["<s>", "</s>", "Ġa", "日本", ""] }],
  ["tokenizer.ggml.token_type", { type: "i32[]", value: Int32Array.of(3, 3, 1, 1, 6) }],
  ["tokenizer.ggml.scores", { type: "f32[]", value: Float32Array.of(0, -1.5, 2.25, -0, 1e-30) }],
  ["tokenizer.ggml.merges", { type: "string[]", value: ["Ġ a", "日 本"] }],
  ["x.u8s", { type: "u8[]", value: Uint8Array.of(0, 1, 255) }],
  ["x.i8s", { type: "i8[]", value: Int8Array.of(-128, 127) }],
  ["x.u16s", { type: "u16[]", value: Uint16Array.of(1, 65535) }],
  ["x.i16s", { type: "i16[]", value: Int16Array.of(-1) }],
  ["x.u32s", { type: "u32[]", value: Uint32Array.of(4294967295) }],
  ["x.f64s", { type: "f64[]", value: Float64Array.of(1 / 3) }],
  ["x.u64s", { type: "u64[]", value: BigUint64Array.of(2n ** 64n - 1n, 0n) }],
  ["x.i64s", { type: "i64[]", value: BigInt64Array.of(-1n) }],
  ["x.bools", { type: "bool[]", value: [true, false, true] }],
  ["x.none", { type: "i32[]", value: new Int32Array(0) }],
  [
    "x.nested",
    {
      type: "array[]",
      value: [
        { type: "i32[]", value: Int32Array.of(1, 2) },
        { type: "string[]", value: ["a"] },
        { type: "array[]", value: [{ type: "bool[]", value: [false] }] },
      ],
    },
  ],
];

describe("encodeGguf: gguf.cpp's byte layout", () => {
  it("writes a small file exactly as spelled out by hand", () => {
    const out = encodeGguf({
      metadata: [
        ["general.architecture", "string", "bitnet"],
        ["bitnet.block_count", "u32", 2],
      ],
      tensors: [{ name: "t", dtype: "F32", shape: [2], data: le.f32(1, 2) }],
    });
    const header = concat(
      new TextEncoder().encode("GGUF"),
      le.u32(3), // version
      le.u64(1), // n_tensors
      le.u64(2), // n_kv
      le.str("general.architecture"),
      le.i32(8), // GGUF_TYPE_STRING
      le.str("bitnet"),
      le.str("bitnet.block_count"),
      le.i32(4), // GGUF_TYPE_UINT32
      le.u32(2),
      le.str("t"),
      le.u32(1), // n_dims
      le.u64(2), // ne[0]
      le.i32(0), // GGML_TYPE_F32
      le.u64(0), // offset within the data section
    );
    expect(header.length).toBe(137);
    expect(out).toEqual(concat(header, le.zeros(160 - 137), le.f32(1, 2), le.zeros(24)));
  });

  it("reverses the shape into ne, pads every tensor (the last too) and counts offsets from the data start", async () => {
    const f = await openGguf(memoryByteSource(encodeGguf({ metadata: [], tensors: everyType() })));
    let expected = 0;
    for (const t of everyType()) {
      const e = f.tensors.get(t.name)!;
      expect(e.ne).toEqual([...t.shape].reverse());
      expect(e.offset).toBe(expected);
      expect(e.fileOffset % 32).toBe(0);
      expected += Math.ceil(t.data.length / 32) * 32;
    }
    expect(f.dataOffset + expected).toBe(encodeGguf({ metadata: [], tensors: everyType() }).length);
  });

  it("records an alignment other than 32 as general.alignment (u32) and pads to it", async () => {
    const out = encodeGguf({ metadata: [["a", "u8", 1]], tensors: everyType() }, 256);
    const f = await openGguf(memoryByteSource(out));
    expect(f.alignment).toBe(256);
    expect(f.typedMetadata.get("general.alignment")).toEqual({ type: "u32", value: 256 });
    expect(f.dataOffset % 256).toBe(0);
    for (const e of f.tensors.values()) expect(e.offset % 256).toBe(0);
    expect(out.length % 256).toBe(0);
  });

  it("accepts {key, type, value} records as well as tuples", () => {
    const a = encodeGguf({ metadata: [{ key: "k", type: "u32", value: 7 }], tensors: [] });
    const b = encodeGguf({ metadata: [["k", "u32", 7]], tensors: [] });
    expect(a).toEqual(b);
  });
});

describe("encodeGguf: refuses what llama.cpp would misread", () => {
  const bad = (input: Partial<GgufInput>, pattern: RegExp, alignment?: number) =>
    expect(() => encodeGguf({ metadata: [], tensors: [], ...input }, alignment)).toThrow(pattern);
  it("metadata values that do not fit their type", () => {
    bad({ metadata: [["bitnet.block_count", "u32", -1]] }, /metadata "bitnet.block_count": expected an integer in \[0, 4294967295\] for u32, found -1/);
    bad({ metadata: [["k", "u32", 2 ** 32]] }, /for u32, found 4294967296/);
    bad({ metadata: [["k", "i32", 1.5]] }, /for i32, found 1.5/);
    bad({ metadata: [["k", "u64", -1n]] }, /for u64, found -1n/);
    bad({ metadata: [["k", "i64", 2 ** 60]] }, /expected a bigint \(or safe integer\)/);
    bad({ metadata: [["k", "string", 5]] }, /metadata "k": expected a string \(string\), found number/);
    bad({ metadata: [["k", "string[]", ["a", 5]]] }, /metadata "k"\[1\]: expected a string \(string\), found number/);
    bad({ metadata: [["k", "string", "a\ud800"]] }, /lone surrogate/);
    bad({ metadata: [["tokenizer.ggml.add_bos_token", "bool", 1]] }, /expected a boolean, found 1/);
    bad({ metadata: [["k", "f32", "1"]] }, /expected a number for f32/);
    bad({ metadata: [["tokenizer.ggml.tokens", "string[]", "abc"]] }, /expected an array or typed array for string\[\], found string/);
    bad({ metadata: [["tokenizer.ggml.token_type", "i32[]", [1, 2 ** 31]]] }, /metadata "tokenizer.ggml.token_type"\[1\]: expected an integer in \[-2147483648, 2147483647\] for i32/);
    bad({ metadata: [["k", "array[]", [[1]]]] }, /\[0\]: expected \{type: "<item type>\[\]", value\}/);
    bad({ metadata: [["k", "u31" as "u32", 1]] }, /type "u31" is not a GGUF type/);
  });

  it("empty or duplicate keys, a general.alignment that disagrees", () => {
    bad({ metadata: [["", "u8", 1]] }, /key is empty/);
    bad({ metadata: [["k", "u8", 1], ["k", "u8", 2]] }, /metadata "k": appears twice/);
    bad({ metadata: [["general.alignment", "u32", 64]] }, /metadata "general.alignment": expected u32 32 \(the alignment being written\), found u32 64/);
    bad({ metadata: [["general.alignment", "i32", 32]] }, /found i32 32/);
    bad({}, /alignment: expected a power of two that fits a u32, found 48/, 48);
  });

  it("tensors whose bytes, type, shape or name do not fit", () => {
    const t = { name: "w", dtype: "Q8_0", shape: [2, 32], data: new Uint8Array(68) };
    bad({ tensors: [{ ...t, data: new Uint8Array(67) }] }, /tensor "w" data: expected 68 bytes for Q8_0 \[2,32\], found 67 bytes/);
    bad({ tensors: [{ ...t, shape: [4, 16] }] }, /tensor "w" shape: the innermost dimension 16 is not a multiple of Q8_0's block size 32/);
    bad({ tensors: [{ ...t, dtype: "Q4_K" }] }, /tensor "w" dtype: expected one of F32 0, F16 1, .*I2_S 36, found "Q4_K"/);
    bad({ tensors: [{ ...t, shape: [1, 1, 1, 2, 32] }] }, /expected up to 4 positive integers/);
    bad({ tensors: [{ ...t, shape: [0, 32], data: new Uint8Array(0) }] }, /expected up to 4 positive integers, found \[0,32\]/);
    bad({ tensors: [t, t] }, /tensor "w": appears twice/);
    bad({ tensors: [{ ...t, name: "x".repeat(64) }] }, /tensor name \(GGML_MAX_NAME is 64 with the NUL\) is 64 bytes of UTF-8; the limit is 63/);
    bad({ tensors: [{ ...t, name: "" }] }, /name is empty/);
    bad({ tensors: [{ name: "s", dtype: "I2_S", shape: [128], data: new Uint8Array(32) }] }, /expected 64 bytes for I2_S \[128\], found 32 bytes/);
  });
});

describe("GGUF round trip", () => {
  const input: GgufInput = { metadata: new Map(METADATA), tensors: everyType() };

  it("encode → open: metadata equal with its types, every tensor byte-exact, shapes in PyTorch order", async () => {
    const bytesOut = encodeGguf(input);
    const f = await openGguf(memoryByteSource(bytesOut, "round-trip.gguf"));
    expect(f.format).toBe("gguf");
    expect(f.version).toBe(3);
    expect(f.path).toBe("round-trip.gguf");
    expect([...f.typedMetadata]).toEqual(METADATA);
    expect(f.metadata.get("x.nested")).toEqual([Int32Array.of(1, 2), ["a"], [[false]]]);
    expect(f.metadata.get("bitnet.block_count")).toBe(30);
    expect([...f.tensors.keys()]).toEqual(everyType().map((t) => t.name));
    for (const t of everyType()) {
      const e = f.tensors.get(t.name)!;
      expect([e.dtype, e.shape, e.byteLength]).toEqual([t.dtype, t.shape, t.data.length]);
      expect(await f.read(t.name)).toEqual(t.data);
    }
    // and back: the opened source re-encodes to the same bytes
    const again = encodeGguf({ metadata: f.typedMetadata, tensors: await Promise.all([...f.tensors.values()].map(async (e) => ({ ...e, data: await f.read(e.name) }))) });
    expect(again).toEqual(bytesOut);
    await f.close();
  });

  it("reads a Blob the same (the browser's file picker)", async () => {
    const out = encodeGguf(input);
    const f = await openGguf(blobByteSource(new Blob([out as Uint8Array<ArrayBuffer>]), "picked.gguf"));
    expect([...f.typedMetadata]).toEqual(METADATA);
    for (const t of everyType()) expect(await f.read(t.name)).toEqual(t.data);
  });

  describe("on disk", () => {
    let dir = "";
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "onebit-gguf-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("writeGguf streams the same bytes as encodeGguf, atomically (no temp file left)", async () => {
      const path = join(dir, "model.gguf");
      await writeGguf(path, input);
      expect(new Uint8Array(await readFile(path))).toEqual(encodeGguf(input));
      expect(await readdir(dir)).toEqual(["model.gguf"]);
      const f = await openGgufFile(path);
      for (const t of everyType()) expect(await f.read(t.name)).toEqual(t.data);
      await f.close();
    });

    it("a tensor given as a ByteRange is written the same, a WRITE_CHUNK piece at a time; progress reaches the file's size", async () => {
      // one tensor past a chunk (two pieces), the rest small; every one a range that records the reads it was asked for
      const big: GgufTensorInput = { name: "big", dtype: "F32", shape: [WRITE_CHUNK / 4 + 5], data: bytes(WRITE_CHUNK + 20, 99) };
      const inMemory: GgufInput = { metadata: new Map(METADATA), tensors: [...everyType(), big] };
      const reads: Record<string, [number, number][]> = {};
      const asRange = (name: string, b: Uint8Array): ByteRange => ({
        length: b.length,
        copyTo(offset, into) {
          reads[name] ??= [];
          reads[name].push([offset, into.length]);
          into.set(b.subarray(offset, offset + into.length));
        },
      });
      const ranged: GgufInput = { ...inMemory, tensors: inMemory.tensors.map((t) => ({ ...t, data: asRange(t.name, t.data as Uint8Array) })) };
      const path = join(dir, "ranged.gguf");
      const progress: [number, number][] = [];
      await writeGguf(path, ranged, undefined, { onProgress: (written, total) => progress.push([written, total]) });
      const want = encodeGguf(inMemory);
      const got = new Uint8Array(await readFile(path));
      expect(got.length).toBe(want.length);
      expect(Buffer.compare(got, want)).toBe(0);
      expect(reads.big).toEqual([
        [0, WRITE_CHUNK],
        [WRITE_CHUNK, 20],
      ]);
      expect(reads["t.f32"]).toEqual([[0, 60]]);
      expect(Buffer.compare(encodeGguf(ranged), want)).toBe(0);
      expect(progress.every(([, total]) => total === want.length)).toBe(true);
      expect(progress.every(([w], i) => i === 0 || w >= progress[i - 1]![0])).toBe(true);
      expect(progress.at(-1)![0]).toBe(want.length);
    });

    it("a ByteRange that throws while it is written: its error, and no file or temporary file left", async () => {
      const path = join(dir, "broken.gguf");
      const broken: ByteRange = {
        length: 60,
        copyTo() {
          throw new ModelFileError("src.gguf", "t.f32", "the file changed since it was opened");
        },
      };
      const tensors = everyType().map((t) => (t.dtype === "F32" ? { ...t, data: broken } : t));
      await expect(writeGguf(path, { metadata: [], tensors })).rejects.toThrow(/src\.gguf: t\.f32: the file changed/);
      expect(await readdir(dir)).not.toContain("broken.gguf");
      expect((await readdir(dir)).some((n) => n.endsWith(".tmp"))).toBe(false);
      // a range of the wrong length is refused before anything is written, naming the tensor
      const short: ByteRange = { length: 59, copyTo() {} };
      await expect(writeGguf(path, { metadata: [], tensors: [{ name: "w", dtype: "F32", shape: [3, 5], data: short }] })).rejects.toThrow(
        /tensor "w" data: expected 60 bytes for F32 \[3,5\], found 59 bytes/,
      );
    });

    it("a refused input leaves no file behind", async () => {
      const path = join(dir, "refused.gguf");
      await expect(writeGguf(path, { metadata: [["k", "u8", 256]], tensors: [] })).rejects.toThrow(ModelFileError);
      await expect(writeGguf(path, { metadata: [["k", "u8", 256]], tensors: [] })).rejects.toThrow(/refused\.gguf: metadata "k"/);
      expect(await readdir(dir)).not.toContain("refused.gguf");
      expect((await readdir(dir)).some((n) => n.endsWith(".tmp"))).toBe(false);
    });

    it("@huggingface/gguf, an independent parser, reads the same metadata and tensor infos", async () => {
      const path = join(dir, "hf.gguf");
      await writeGguf(path, {
        metadata: [
          ["general.architecture", "string", "bitnet"],
          ["bitnet.block_count", "u32", 30],
          ["tokenizer.ggml.tokens", "string[]", ["a", "b"]],
          ["tokenizer.ggml.scores", "f32[]", Float32Array.of(0.5, -1)],
          ["x.u64", "u64", 5n],
        ],
        tensors: everyType(),
      }, 64);
      const hf = await hfGguf(path, { allowLocalFile: true });
      const meta = hf.metadata as unknown as Record<string, unknown>;
      expect(meta["general.architecture"]).toBe("bitnet");
      expect(meta["bitnet.block_count"]).toBe(30);
      expect(meta["tokenizer.ggml.tokens"]).toEqual(["a", "b"]);
      expect(meta["tokenizer.ggml.scores"]).toEqual([0.5, -1]);
      expect(meta["x.u64"]).toBe(5n);
      expect(meta["general.alignment"]).toBe(64);
      const ours = await openGgufFile(path);
      expect(Number(hf.tensorDataOffset)).toBe(ours.dataOffset);
      expect(hf.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype as number, Number(t.offset)])).toEqual(
        [...ours.tensors.values()].map((e) => [e.name, e.ne, e.typeId, e.offset]),
      );
      await ours.close();
    });
  });
});
