/**
 * The reader, the dequantizers and the writer against GGUF files the engines made themselves
 * (tooling/fixtures/make_gguf_fixtures.py): tensor-types.gguf written by llama.cpp's gguf-py with its expected
 * values from gguf.quants.dequantize (checked there bit-equal to ggml's to_float), and tiny models written by
 * llama.cpp's and bitnet.cpp's llama-quantize (gguf.cpp's writer).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dequantizeGgml, dequantizeRows, dequantizeTq1_0, dequantizeTq2_0, ggmlDenseType, quantizeGgml, unpackI2S } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { memoryByteSource } from "../weights/byte-source";
import { openGguf, openGgufFile } from "./gguf-reader";
import { encodeGguf } from "./gguf-writer";

const DIR = join(import.meta.dirname, "../../test-fixtures/gguf");
const TYPES_FILE = join(DIR, "tensor-types.gguf");
const EXPECTED_FILE = join(DIR, "tensor-types.expected.json");

interface Expected {
  name: string;
  type: string;
  ggml_type: number;
  shape: number[];
  ne: number[];
  nbytes: number;
  values: number[];
}

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** Index of the first differing byte, or −1 (toEqual walks big arrays element by element, slowly). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))) return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return Math.min(a.length, b.length);
}

function dequantize(type: string, bytes: Uint8Array, count: number): Float32Array {
  if (type === "TQ1_0") return dequantizeTq1_0(bytes, count);
  if (type === "TQ2_0") return dequantizeTq2_0(bytes, count);
  return dequantizeGgml(type, bytes, count);
}

describe.runIf(existsSync(TYPES_FILE) && existsSync(EXPECTED_FILE))("tensor-types.gguf (gguf-py)", () => {
  const expected = () => (JSON.parse(readFileSync(EXPECTED_FILE, "utf8")) as { tensors: Expected[] }).tensors;

  it("lists every tensor with gguf-py's name, type id, shape, ne and byte count", async () => {
    const f = await openGgufFile(TYPES_FILE);
    expect(f.metadataValue("general.architecture", "string")).toBe("onebit-fixture");
    expect([...f.tensors.keys()]).toEqual(expected().map((t) => t.name));
    for (const t of expected())
      expect(f.tensors.get(t.name)).toMatchObject({ dtype: t.type, typeId: t.ggml_type, shape: t.shape, ne: t.ne, byteLength: t.nbytes });
    await f.close();
  });

  for (const t of expected()) {
    it(`${t.type}: dequantizes bit for bit as gguf-py and ggml do, whole and row by row`, async () => {
      const f = await openGgufFile(TYPES_FILE);
      const bytes = await f.read(t.name);
      const want = Float32Array.from(t.values);
      expect(bits(dequantize(t.type, bytes, want.length))).toEqual(bits(want));
      const [rows, cols] = t.shape as [number, number];
      if (t.type !== "TQ1_0" && t.type !== "TQ2_0") {
        const second = dequantizeRows(t.type, bytes, rows, cols, 1, 1);
        expect(bits(second)).toEqual(bits(want.subarray(cols)));
        // the embedding path: read just the row, then expand it
        const row = await f.readRows(t.name, 1, 1);
        expect(row.length).toBe((cols / ggmlDenseType(t.type).blockSize) * ggmlDenseType(t.type).bytesPerBlock);
        expect(bits(dequantizeRows(t.type, row, 1, cols, 0, 1))).toEqual(bits(want.subarray(cols)));
      }
      await f.close();
    });
  }

  it("Q8_0 and Q4_0 bytes come back from quantizing their own dequantized values (ggml's reference quantizers)", async () => {
    const f = await openGgufFile(TYPES_FILE);
    for (const t of expected().filter((x) => ["F32", "F16", "BF16", "Q8_0", "Q4_0"].includes(x.type)))
      expect(quantizeGgml(t.type, Float32Array.from(t.values)), t.name).toEqual(await f.read(t.name));
    await f.close();
  });
});

const MODELS = existsSync(DIR) ? readdirSync(DIR).filter((n) => n.endsWith(".gguf")) : [];

describe.runIf(MODELS.length > 0)("every fixture GGUF", () => {
  for (const file of MODELS) {
    it(`${file}: opens, every tensor reads in bounds, and re-encoding reproduces the file byte for byte`, async () => {
      const original = new Uint8Array(readFileSync(join(DIR, file)));
      const f = await openGguf(memoryByteSource(original, file));
      const tensors = [];
      for (const e of f.tensors.values()) {
        expect(e.fileOffset + e.byteLength).toBeLessThanOrEqual(original.length);
        tensors.push({ name: e.name, dtype: e.dtype, shape: e.shape, data: await f.read(e.name) });
      }
      const again = encodeGguf({ metadata: f.typedMetadata, tensors }, f.alignment);
      expect(again.length).toBe(original.length);
      expect(firstDifference(again, original)).toBe(-1);
    });
  }

  it.runIf(MODELS.includes("bitnet-b158-tiny-i2_s.gguf"))("bitnet.cpp's I2_S tensors take n/4 + 32 bytes: 2-bit codes and a float32 scale", async () => {
    const f = await openGgufFile(join(DIR, "bitnet-b158-tiny-i2_s.gguf"));
    const i2s = [...f.tensors.values()].filter((e) => e.dtype === "I2_S");
    expect(i2s.length).toBeGreaterThan(0);
    for (const e of i2s) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      expect(e.byteLength).toBe(n / 4 + 32);
      const { codes, scale } = unpackI2S(await f.read(e.name), n);
      expect(Number.isFinite(scale) && scale > 0).toBe(true);
      expect(codes.some((c) => c !== 0)).toBe(true);
    }
    await f.close();
  });
});
