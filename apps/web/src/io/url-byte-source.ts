/**
 * A file on a web server as a ByteSource: HTTP range requests, so a GGUF's header and each tensor are fetched as
 * they are read and a large model is never downloaded into one buffer. A server that ignores Range (answers 200
 * with the whole body) is read once into a Blob instead. Cross-origin URLs need CORS (the page is cross-origin
 * isolated, so the server must also allow the request under COEP: CORS does).
 */
import { type ByteSource, blobByteSource } from "@onebit/model";

export class UrlFileError extends Error {
  constructor(url: string, message: string) {
    super(`${url}: ${message}`);
    this.name = "UrlFileError";
  }
}

async function get(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    throw new UrlFileError(url, `cannot be fetched (${(e as Error).message}; a server on another origin must send CORS headers)`);
  }
}

/** The file's bytes, or undefined when the server answers 404 (the folder has no such file). */
export async function urlByteSource(url: string): Promise<ByteSource | undefined> {
  const probe = await get(url, { headers: { Range: "bytes=0-0" } });
  if (probe.status === 404) return undefined;
  if (!probe.ok) throw new UrlFileError(url, `HTTP ${probe.status} ${probe.statusText}`);
  const range = probe.headers.get("Content-Range");
  const total = range ? Number(/\/(\d+)$/.exec(range)?.[1]) : Number.NaN;
  if (probe.status !== 206 || !Number.isSafeInteger(total)) {
    // no range support: the whole body is here already
    return blobByteSource(await probe.blob(), url);
  }
  await probe.body?.cancel();
  return {
    name: url,
    size: total,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > total)
        throw new UrlFileError(url, `read of ${length} bytes at offset ${offset} is outside the file (${total} bytes)`);
      if (length === 0) return new Uint8Array(0);
      const r = await get(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
      if (r.status !== 206) throw new UrlFileError(url, `expected 206 Partial Content for bytes ${offset}–${offset + length - 1}, got HTTP ${r.status}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes.length !== length) throw new UrlFileError(url, `asked for ${length} bytes at ${offset}, got ${bytes.length}`);
      return bytes;
    },
    close: async () => {},
  };
}
