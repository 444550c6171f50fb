import { describe, expect, it } from "vitest";
import { type ByteSource, ByteRangeError, memoryByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { openSafetensors } from "./safetensors-source";

/** A file from header JSON text (padded with spaces to 8 bytes unless told not to) and data bytes. */
function fileFrom(header: string, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let text = header;
  if (pad) text += " ".repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  const json = new TextEncoder().encode(text);
  const bytes = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes, 8 + json.length);
  return out;
}

const open = (bytes: Uint8Array, name = "test.safetensors") => openSafetensors(memoryByteSource(bytes, name));

async function refusal(bytes: Uint8Array): Promise<string> {
  try {
    await open(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return (e as Error).message;
  }
  throw new Error("expected the file to be refused");
}

describe("openSafetensors", () => {
  it("reads the reference implementation's serialized bytes (safetensors/src/tensor.rs test_serialization)", async () => {
    // 64-byte header, then six little-endian f32s 0..5
    const ref = Uint8Array.from([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44,
      50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64,
      0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    const src = await open(ref);
    expect(src.format).toBe("safetensors");
    expect([...src.tensors.values()]).toEqual([{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], byteLength: 24 }]);
    expect([...new Float32Array((await src.read("attn.0")).buffer)]).toEqual([0, 1, 2, 3, 4, 5]);
    await src.close();
  });

  it("reads an empty file with metadata (test_empty) and zero-size tensors", async () => {
    const empty = Uint8Array.from([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125,
      125, 32, 32, 32, 32, 32,
    ]);
    const src = await open(empty);
    expect(src.tensors.size).toBe(0);
    expect(src.metadata.get("framework")).toBe("pt");
    const z = await open(fileFrom('{"a":{"dtype":"BF16","shape":[0,7],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"c":{"dtype":"I64","shape":[],"data_offsets":[2,10]}}', 10));
    expect(z.tensors.get("a")!.byteLength).toBe(0);
    expect((await z.read("a")).length).toBe(0);
    expect((await z.read("c")).length).toBe(8);
  });

  it("keeps names like __proto__ and constructor as plain tensor names", async () => {
    const src = await open(fileFrom('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"constructor":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', Uint8Array.of(7, 9)));
    expect([...src.tensors.keys()]).toEqual(["__proto__", "constructor"]);
    expect([...(await src.read("__proto__"))]).toEqual([7]);
    expect([...(await src.read("constructor"))]).toEqual([9]);
    await expect(src.read("toString")).rejects.toThrow('test.safetensors: tensor "toString": not in this file (it has 2 tensors)');
  });

  it("reads only the header when opening and exactly the tensor's bytes when reading", async () => {
    const bytes = fileFrom('{"w":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}', 16);
    const reads: [number, number][] = [];
    const inner = memoryByteSource(bytes, "spy.safetensors");
    const spy: ByteSource = {
      ...inner,
      read(o, l) {
        reads.push([o, l]);
        return inner.read(o, l);
      },
    };
    const src = await openSafetensors(spy);
    const headerLen = bytes.length - 16 - 8;
    expect(reads).toEqual([
      [0, 8],
      [8, headerLen],
    ]);
    await src.read("b");
    expect(reads[2]).toEqual([8 + headerLen + 12, 4]);
    await src.close();
    await expect(src.read("b")).rejects.toThrow("read after the source was closed");
  });

  it("refuses malformed headers, naming file, field, expected and found", async () => {
    expect(await refusal(fileFrom("null"))).toBe("test.safetensors: header: expected a JSON object, found null");
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[5],"data_offsets":5}}', 5))).toBe('test.safetensors: tensor "a".data_offsets: expected [begin, end], found 5');
    expect(await refusal(fileFrom('{"a":null}'))).toBe('test.safetensors: tensor "a": expected an object {dtype, shape, data_offsets}, found null');
    expect(await refusal(fileFrom('{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', 1))).toBe(
      'test.safetensors: tensor "a".dtype: unsupported dtype "F8_E4M3"; supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL',
    );
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', 1))).toBe('test.safetensors: tensor "a".shape[0]: expected a non-negative integer, found -1');
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,3]}}', 3))).toBe('test.safetensors: tensor "a".data_offsets: [0, 3] holds 3 bytes; U8 [2] needs 2');
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[4],"data_offsets":[3,-1]}}', 4))).toMatch(/data_offsets: expected a non-negative integer end, found \[3,-1\]/);
    expect(await refusal(fileFrom('{"__metadata__":{"n":1}}'))).toBe('test.safetensors: __metadata__["n"]: expected a string, found 1');
    expect(await refusal(fileFrom('{"a":{"dtype":"F32","shape":[1e15,1e15],"data_offsets":[0,4]}}', 4))).toMatch(/shape: F32 \[1000000000000000,1000000000000000\] needs more bytes than the 4 data bytes/);
    expect(await refusal(fileFrom("{", 0))).toMatch(/^test.safetensors: header: is not valid JSON/);
    // deep nesting: refused as a non-object (or as JSON the parser cannot take), never a stack overflow escaping
    expect(await refusal(fileFrom(`${"[".repeat(50_000)}${"]".repeat(50_000)}`))).toMatch(/^test.safetensors: header: (expected a JSON object|is not valid JSON)/);
    expect(await refusal(fileFrom(`{"a":${"[".repeat(50_000)}${"]".repeat(50_000)}}`))).toMatch(/^test.safetensors: (tensor "a": expected an object|header: is not valid JSON)/);
    const badUtf8 = fileFrom("{}      ");
    badUtf8[9] = 0xff;
    expect(await refusal(badUtf8)).toBe("test.safetensors: header: is not valid UTF-8");
  });

  it("refuses holes, overlaps and trailing bytes (tensors must cover the data area exactly)", async () => {
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', 4))).toMatch(/tensor "a".data_offsets: starts at 2 but the data area starts at 0: a hole of 2 bytes/);
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}', 5))).toMatch(
      /tensor "b".data_offsets: starts at 3 but tensor "a" ends at 2: a hole of 1 bytes/,
    );
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', 4))).toBe(
      'test.safetensors: tensor "b".data_offsets: [2, 4] overlaps tensor "a" [0, 4]',
    );
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', 3))).toBe(
      'test.safetensors: data_offsets: tensors cover 2 bytes but the data area has 3: 1 bytes after tensor "a" belong to no tensor',
    );
    expect(await refusal(fileFrom('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', 2))).toMatch(/needs more bytes than the 2 data bytes|ends at byte 4 but the data area has 2 bytes/);
  });

  it("bounds the header length by the file size and by 100 MB before reading it", async () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(await refusal(huge)).toBe("test.safetensors: header length: expected at most 100000000 bytes (the safetensors limit), found 9223372036854775808");
    new DataView(huge.buffer).setBigUint64(0, 9n, true);
    expect(await refusal(huge)).toMatch(/header length: header of 9 bytes runs past the end of the file \(8 bytes follow the length\)/);
    expect(await refusal(new Uint8Array(5))).toBe("test.safetensors: header length: expected a file of at least 8 bytes (the header length), found 5 bytes");
  });

  it("closes the byte source when it refuses the file", async () => {
    let closed = false;
    const inner = memoryByteSource(fileFrom("[]"), "x.safetensors");
    const close = async () => {
      closed = true;
    };
    await expect(openSafetensors({ ...inner, close })).rejects.toThrow("x.safetensors: header: expected a JSON object, found []");
    expect(closed).toBe(true);
  });

  it("passes a short read of a file that changed on disk through as a ByteRangeError", async () => {
    const bytes = fileFrom('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', 4);
    const inner = memoryByteSource(bytes, "shrunk.safetensors");
    const src = await openSafetensors({
      ...inner,
      read: (o, l) => (o > 8 + 8 ? Promise.reject(new ByteRangeError("shrunk.safetensors", "file ended")) : inner.read(o, l)),
    });
    await expect(src.read("a")).rejects.toBeInstanceOf(ByteRangeError);
  });
});
