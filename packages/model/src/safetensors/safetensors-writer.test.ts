import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { openSafetensors } from "./safetensors-source";
import type { ByteRange } from "@onebit/kernels";
import { encodeSafetensorsHeader, PIECE_BYTES, type TensorPlan, writeSafetensorsFile } from "./safetensors-writer";

const tmp = () => mkdtempSync(join(tmpdir(), "onebit-st-writer-"));

describe("writeSafetensorsFile", () => {
  it("writes the reference implementation's bytes (safetensors/src/tensor.rs test_serialization, test_empty)", async () => {
    const dir = tmp();
    const path = join(dir, "ref.safetensors");
    await writeSafetensorsFile(path, [{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], byteLength: 24 }], () => Float32Array.of(0, 1, 2, 3, 4, 5));
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64); // no padding needed, as in the reference test
    const expected = [64, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(header), ...new Uint8Array(Float32Array.of(0, 1, 2, 3, 4, 5).buffer)];
    expect([...readFileSync(path)]).toEqual(expected);
    const { header: empty } = encodeSafetensorsHeader([], { framework: "pt" }, "x");
    expect([...empty]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125,
      125, 32, 32, 32, 32, 32,
    ]);
  });

  it("round-trips through openSafetensors, asking for one tensor at a time in order", async () => {
    const dir = tmp();
    const path = join(dir, "model.safetensors");
    const plan: TensorPlan[] = [
      { name: "embed", dtype: "BF16", shape: [3, 2], byteLength: 12 },
      { name: "__proto__", dtype: "U8", shape: [5], byteLength: 5 },
      { name: "scale", dtype: "F32", shape: [1], byteLength: 4 },
      { name: "empty", dtype: "F16", shape: [0, 4], byteLength: 0 },
      { name: "0", dtype: "I64", shape: [], byteLength: 8 },
    ];
    const data = plan.map((t, k) => new Uint8Array(t.byteLength).map((_, i) => (k * 37 + i * 11) & 255));
    const calls: number[] = [];
    let inFlight = 0;
    const size = await writeSafetensorsFile(
      path,
      plan,
      async (t, i) => {
        expect(++inFlight).toBe(1);
        calls.push(i);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        expect(t).toBe(plan[i]);
        return data[i]!;
      },
      { format: "pt" },
    );
    expect(calls).toEqual([0, 1, 2, 3, 4]);
    expect(readFileSync(path).length).toBe(size);
    const src = await openSafetensors(await fileByteSource(path));
    expect([...src.tensors.keys()]).toEqual(["embed", "__proto__", "scale", "empty", "0"]);
    expect(src.metadata.get("format")).toBe("pt");
    for (const [i, t] of plan.entries()) {
      expect(src.tensors.get(t.name)).toEqual({ ...t });
      expect([...(await src.read(t.name))]).toEqual([...data[i]!]);
    }
    await src.close();
    // the header is padded with spaces so the data starts 8-byte aligned
    expect(Number(readFileSync(path).readBigUInt64LE(0)) % 8).toBe(0);
  });

  it("a ByteRange tensor is written the same as its bytes, PIECE_BYTES at a time; a range of the wrong length or one that throws fails the file", async () => {
    const dir = tmp();
    const n = PIECE_BYTES + 12;
    const big = new Uint8Array(n).map((_, i) => (i * 131) & 255);
    const plan: TensorPlan[] = [
      { name: "big", dtype: "U8", shape: [n], byteLength: n },
      { name: "small", dtype: "F32", shape: [2], byteLength: 8 },
    ];
    const small = new Uint8Array(Float32Array.of(1.5, -2).buffer);
    const reads: [number, number][] = [];
    const range = (b: Uint8Array, log = false): ByteRange => ({
      length: b.length,
      copyTo(offset, into) {
        if (log) reads.push([offset, into.length]);
        into.set(b.subarray(offset, offset + into.length));
      },
    });
    await writeSafetensorsFile(join(dir, "bytes.safetensors"), plan, (_, i) => [big, small][i]!);
    await writeSafetensorsFile(join(dir, "ranges.safetensors"), plan, (_, i) => range([big, small][i]!, i === 0));
    expect(Buffer.compare(readFileSync(join(dir, "ranges.safetensors")), readFileSync(join(dir, "bytes.safetensors")))).toBe(0);
    expect(reads).toEqual([
      [0, PIECE_BYTES],
      [PIECE_BYTES, 12],
    ]);
    const path = join(dir, "bad.safetensors");
    await expect(writeSafetensorsFile(path, plan.slice(1), () => range(new Uint8Array(7)))).rejects.toThrow(`${path}: tensor "small": the bytes callback returned 7 bytes, expected 8 for F32 [2]`);
    const failing: ByteRange = {
      length: 8,
      copyTo() {
        throw new ModelFileError("src.gguf", "tensor \"x\"", "changed on disk since it was opened");
      },
    };
    await expect(writeSafetensorsFile(path, plan.slice(1), () => failing)).rejects.toThrow("src.gguf: tensor \"x\": changed on disk");
    expect(readdirSync(dir).sort()).toEqual(["bytes.safetensors", "ranges.safetensors"]);
  });

  it("is atomic: a failing callback leaves the previous file and no temp file", async () => {
    const dir = tmp();
    const path = join(dir, "model.safetensors");
    writeFileSync(path, "previous");
    const plan: TensorPlan[] = [
      { name: "a", dtype: "U8", shape: [4], byteLength: 4 },
      { name: "b", dtype: "F32", shape: [2], byteLength: 8 },
    ];
    await expect(writeSafetensorsFile(path, plan, (t) => new Uint8Array(t.name === "b" ? 7 : 4))).rejects.toThrow(
      `${path}: tensor "b": the bytes callback returned 7 bytes, expected 8 for F32 [2]`,
    );
    await expect(
      writeSafetensorsFile(path, plan, () => {
        throw new Error("source went away");
      }),
    ).rejects.toThrow("source went away");
    expect(readFileSync(path, "utf8")).toBe("previous");
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
  });

  it("refuses an inconsistent tensor list before creating anything", async () => {
    const dir = tmp();
    const path = join(dir, "x.safetensors");
    const t = (over: Partial<TensorPlan>): TensorPlan => ({ name: "a", dtype: "U8", shape: [2], byteLength: 2, ...over });
    const refuse = (plan: TensorPlan[]) => writeSafetensorsFile(path, plan, () => new Uint8Array(2));
    await expect(refuse([t({}), t({})])).rejects.toThrow(`${path}: tensor "a": appears twice in the tensor list`);
    await expect(refuse([t({ byteLength: 3 })])).rejects.toThrow(`${path}: tensor "a".byteLength: U8 [2] needs 2 bytes, the plan says 3`);
    await expect(refuse([t({ dtype: "U16" as "U8" })])).rejects.toThrow(/tensor "a".dtype: expected one of F64, .*found "U16"/);
    await expect(refuse([t({ shape: [-2] })])).rejects.toThrow(`${path}: tensor "a".shape[0]: expected a non-negative integer, found -2`);
    await expect(refuse([t({ name: "__metadata__" })])).rejects.toBeInstanceOf(ModelFileError);
    expect(readdirSync(dir)).toEqual([]);
  });
});
