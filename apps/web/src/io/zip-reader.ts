/**
 * The files of a zip archive (a zipped model folder) as named Blobs, read from the Blob itself: the central
 * directory first, then each entry's local header. Stored entries are slices of the archive (nothing copied);
 * deflated ones are inflated with the browser's DecompressionStream("deflate-raw"). Classic zip only: ZIP64
 * (archives or entries of 4 GiB and more) and encrypted entries are refused by name — unzip those and pick the
 * folder instead.
 */
import type { NamedBlob } from "@onebit/model";

export class ZipError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "ZipError";
  }
}

async function bytesAt(blob: Blob, offset: number, length: number): Promise<DataView> {
  return new DataView(await blob.slice(offset, offset + length).arrayBuffer());
}

export async function isZip(blob: Blob): Promise<boolean> {
  if (blob.size < 4) return false;
  return (await bytesAt(blob, 0, 4)).getUint32(0, true) === 0x04034b50;
}

export async function readZip(blob: Blob, file: string): Promise<NamedBlob[]> {
  // the end-of-central-directory record sits in the last 22 bytes + up to 64 KiB of comment
  const tailLength = Math.min(blob.size, 22 + 0xffff);
  const tail = await bytesAt(blob, blob.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tailLength - 22; i >= 0; i--)
    if (tail.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new ZipError(file, "not a zip archive (no end-of-central-directory record)");
  const entries = tail.getUint16(eocd + 10, true);
  const cdSize = tail.getUint32(eocd + 12, true);
  const cdOffset = tail.getUint32(eocd + 16, true);
  if (entries === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw new ZipError(file, "a ZIP64 archive (4 GiB or more); unzip it and open the folder instead");
  if (cdOffset + cdSize > blob.size) throw new ZipError(file, `the central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file (${blob.size} bytes): truncated`);
  const cd = await bytesAt(blob, cdOffset, cdSize);
  const decoder = new TextDecoder();
  const out: NamedBlob[] = [];
  let p = 0;
  for (let n = 0; n < entries; n++) {
    if (p + 46 > cdSize || cd.getUint32(p, true) !== 0x02014b50) throw new ZipError(file, `central directory entry ${n}: bad signature`);
    const flags = cd.getUint16(p + 8, true);
    const method = cd.getUint16(p + 10, true);
    const compressed = cd.getUint32(p + 20, true);
    const size = cd.getUint32(p + 24, true);
    const nameLength = cd.getUint16(p + 28, true);
    const extraLength = cd.getUint16(p + 30, true);
    const commentLength = cd.getUint16(p + 32, true);
    const localOffset = cd.getUint32(p + 42, true);
    const name = decoder.decode(new Uint8Array(cd.buffer, p + 46, nameLength));
    p += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/")) continue; // a folder entry
    if (flags & 1) throw new ZipError(file, `${name}: encrypted entries are not supported`);
    if (compressed === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) throw new ZipError(file, `${name}: a ZIP64 entry (4 GiB or more); unzip the archive and open the folder instead`);
    const local = await bytesAt(blob, localOffset, 30);
    if (local.getUint32(0, true) !== 0x04034b50) throw new ZipError(file, `${name}: bad local header signature at offset ${localOffset}`);
    const start = localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (start + compressed > blob.size) throw new ZipError(file, `${name}: data (${compressed} bytes at ${start}) runs past the end of the archive: truncated`);
    const raw = blob.slice(start, start + compressed);
    if (method === 0) out.push({ name, blob: raw });
    else if (method === 8) {
      const inflated = await new Response(raw.stream().pipeThrough(new DecompressionStream("deflate-raw"))).blob();
      if (inflated.size !== size) throw new ZipError(file, `${name}: inflated to ${inflated.size} bytes, the directory says ${size}`);
      out.push({ name, blob: inflated });
    } else throw new ZipError(file, `${name}: compression method ${method} is not supported (expected 0 stored or 8 deflate)`);
  }
  return out;
}
