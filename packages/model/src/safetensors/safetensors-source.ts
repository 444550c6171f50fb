/**
 * A safetensors file as a lazy WeightSource: opening reads the 8-byte header length and the JSON header, and
 * validates them (see safetensors-header.ts); `read(name)` reads exactly that tensor's bytes. So a 1 GB model
 * costs one header read to open and one positioned read per tensor, never a whole-file buffer.
 */
import type { ByteSource } from "../weights/byte-source";
import { tensorRange } from "../weights/tensor-range";
import { ModelFileError, type TensorEntry, type WeightSource } from "../weights/weight-source";
import { headerLength, parseSafetensorsHeader, shown } from "./safetensors-header";

/**
 * Open a safetensors file. The WeightSource owns `source` from then on (its `close` closes it); if the file is
 * refused, `source` is closed before the error is thrown, so a failed open leaks no file handle.
 */
export async function openSafetensors(source: ByteSource): Promise<WeightSource> {
  const file = source.name;
  try {
    if (!Number.isSafeInteger(source.size) || source.size < 8)
      throw new ModelFileError(file, "header length", `expected a file of at least 8 bytes (the header length), found ${source.size} bytes`);
    const n = headerLength(await source.read(0, 8), source.size, file);
    const dataStart = 8 + n;
    const header = parseSafetensorsHeader(await source.read(8, n), source.size - dataStart, file);
    const tensors = new Map<string, TensorEntry>();
    for (const [name, t] of header.tensors) tensors.set(name, { name, dtype: t.dtype, shape: t.shape, byteLength: t.byteLength });
    let closed = false;
    return {
      format: "safetensors",
      path: file,
      metadata: header.metadata,
      tensors,
      async read(name) {
        const t = header.tensors.get(name);
        if (!t) throw new ModelFileError(file, `tensor ${shown(name)}`, `not in this file (it has ${header.tensors.size} tensors)`);
        if (closed) throw new ModelFileError(file, `tensor ${shown(name)}`, "read after the source was closed");
        return source.read(dataStart + t.begin, t.byteLength);
      },
      range(name) {
        const t = header.tensors.get(name);
        if (!t) throw new ModelFileError(file, `tensor ${shown(name)}`, `not in this file (it has ${header.tensors.size} tensors)`);
        return tensorRange(source, file, `tensor ${shown(name)}`, dataStart + t.begin, t.byteLength);
      },
      async close() {
        if (closed) return;
        closed = true;
        await source.close();
      },
    };
  } catch (e) {
    await source.close().catch(() => {}); // the refusal is the error worth reporting
    throw e;
  }
}
