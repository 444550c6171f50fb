/**
 * The playground's zip reader and writer (a onebit folder downloads as a .zip and opens again from one): CRC-32's
 * check value, a stored round trip, deflated entries as other tools write them (zlib's raw deflate), folders inside,
 * and the refusals (not a zip, truncated, ZIP64, an unknown method) naming the file.
 */
import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32 } from "../src/io/crc32";
import { readZip } from "../src/io/zip-reader";
import { zipFiles } from "../src/io/zip-writer";

const enc = new TextEncoder();
const bytesOf = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

/** A zip with each entry compressed by `method` (8: raw deflate), built by hand as other tools lay it out. */
function handZip(entries: Array<{ name: string; data: Uint8Array; method: 0 | 8 | 12 }>): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(8, e.method, true);
    l.setUint32(14, crc32(e.data), true);
    l.setUint32(18, body.length, true);
    l.setUint32(22, e.data.length, true);
    l.setUint16(26, name.length, true);
    local.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const d = new DataView(c.buffer);
    d.setUint32(0, 0x02014b50, true);
    d.setUint16(10, e.method, true);
    d.setUint32(16, crc32(e.data), true);
    d.setUint32(20, body.length, true);
    d.setUint32(24, e.data.length, true);
    d.setUint16(28, name.length, true);
    d.setUint32(42, offset, true);
    c.set(name, 46);
    parts.push(local, body);
    central.push(c);
    offset += local.length + body.length;
  }
  const size = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, entries.length, true);
  v.setUint16(10, entries.length, true);
  v.setUint32(12, size, true);
  v.setUint32(16, offset, true);
  const out = new Uint8Array(offset + size + 22);
  let at = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("zip", () => {
  it("CRC-32 has its check value", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("round-trips stored files under a folder, byte for byte", async () => {
    const weights = Uint8Array.from({ length: 70_001 }, (_, i) => (i * 7919) & 255);
    const files = new Map([
      ["config.json", enc.encode('{"a": 1}\n')],
      ["model.safetensors", weights],
      ["empty.txt", new Uint8Array(0)],
    ]);
    const blob = zipFiles(files, "my-model");
    const back = await readZip(blob, "my-model.zip");
    expect(back.map((f) => f.name)).toEqual(["my-model/config.json", "my-model/model.safetensors", "my-model/empty.txt"]);
    for (const f of back) expect(await bytesOf(f.blob)).toEqual(files.get(f.name.slice("my-model/".length)));
    // the local headers carry the same CRCs a zip tool checks
    const raw = await bytesOf(blob);
    expect(new DataView(raw.buffer).getUint32(14, true)).toBe(crc32(files.get("config.json")!));
  });

  it("reads deflated entries (as zip tools write them) and skips folder entries", async () => {
    const text = enc.encode("the cat sat on the mat. ".repeat(500));
    const zip = handZip([
      { name: "m/", data: new Uint8Array(0), method: 0 },
      { name: "m/tokenizer.json", data: text, method: 8 },
      { name: "m/config.json", data: enc.encode("{}"), method: 0 },
    ]);
    const back = await readZip(new Blob([zip]), "m.zip");
    expect(back.map((f) => f.name)).toEqual(["m/tokenizer.json", "m/config.json"]);
    expect(await bytesOf(back[0]!.blob)).toEqual(text);
  });

  it("refuses what it cannot read, naming the file", async () => {
    await expect(readZip(new Blob([enc.encode("GGUF and more bytes, but no zip directory at all")]), "x.zip")).rejects.toThrow("x.zip: not a zip archive (no end-of-central-directory record)");
    const zip = handZip([{ name: "a.bin", data: enc.encode("abc"), method: 12 }]);
    await expect(readZip(new Blob([zip]), "bz.zip")).rejects.toThrow("bz.zip: a.bin: compression method 12 is not supported (expected 0 stored or 8 deflate)");
    const zip64 = handZip([{ name: "a.bin", data: enc.encode("abc"), method: 0 }]);
    new DataView(zip64.buffer).setUint32(zip64.length - 22 + 16, 0xffffffff, true);
    await expect(readZip(new Blob([zip64]), "big.zip")).rejects.toThrow("big.zip: a ZIP64 archive (4 GiB or more); unzip it and open the folder instead");
    const good = await bytesOf(zipFiles(new Map([["a.bin", new Uint8Array(1000)]])));
    const truncated = new Uint8Array([...good.subarray(0, 200), ...good.subarray(good.length - 22 - 46 - 5)]);
    await expect(readZip(new Blob([truncated]), "cut.zip")).rejects.toThrow(/^cut\.zip: /);
  });
});
