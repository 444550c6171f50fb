/**
 * A zip archive of files, stored without compression: a onebit folder's safetensors is mostly packed 2-bit codes
 * that deflate barely shrinks, and storing keeps the writer small and the archive readable by every unzip tool
 * (and by zip-reader.ts). Classic zip (no ZIP64), so each file and the whole archive stay under 4 GiB.
 */
import { crc32 } from "./crc32";

export function zipFiles(files: ReadonlyMap<string, Uint8Array>, folder = ""): Blob {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const encoder = new TextEncoder();
  // DOS date/time of 1980-01-01 00:00: a fixed stamp keeps the archive reproducible
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const [name, data] of files) {
    const nameBytes = encoder.encode(folder ? `${folder}/${name}` : name);
    if (data.length >= 0xffffffff || offset >= 0xffffffff) throw new RangeError(`zip: ${name} (${data.length} bytes) does not fit a classic zip (4 GiB); download the files one by one`);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true); // version needed: 2.0
    l.setUint16(6, 0x0800, true); // UTF-8 names
    l.setUint16(8, 0, true); // stored
    l.setUint16(10, dosTime, true);
    l.setUint16(12, dosDate, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, data.length, true);
    l.setUint32(22, data.length, true);
    l.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const entry = new Uint8Array(46 + nameBytes.length);
    const c = new DataView(entry.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x0800, true);
    c.setUint16(10, 0, true);
    c.setUint16(12, dosTime, true);
    c.setUint16(14, dosDate, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, data.length, true);
    c.setUint32(24, data.length, true);
    c.setUint16(28, nameBytes.length, true);
    c.setUint32(42, offset, true);
    entry.set(nameBytes, 46);
    central.push(entry);
    parts.push(local, data);
    offset += local.length + data.length;
  }
  const centralSize = central.reduce((n, e) => n + e.length, 0);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, files.size, true);
  e.setUint16(10, files.size, true);
  e.setUint32(12, centralSize, true);
  e.setUint32(16, offset, true);
  // (the parts are plain ArrayBuffer-backed bytes; the cast only narrows TypeScript's ArrayBufferLike)
  return new Blob([...parts, ...central, end] as BlobPart[], { type: "application/zip" });
}
