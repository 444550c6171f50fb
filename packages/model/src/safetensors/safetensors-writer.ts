/**
 * Streaming, atomic safetensors writer. The header is computed from the tensor list alone ({name, dtype, shape,
 * byteLength}), written first, then each tensor's bytes are asked for one at a time and appended — so exporting a
 * model holds one tensor in memory, not the model. Everything goes to a temp file in the same folder, is fsynced
 * and renamed over the target only when complete: a crash or a failed callback leaves the old file (or none),
 * never a truncated one.
 *
 * Layout as the reference writer (huggingface/safetensors, safetensors/src/tensor.rs `prepare`/`serialize`):
 * `__metadata__` first when there is any, tensors contiguous in the given order, header padded with spaces to a
 * multiple of 8 bytes so every tensor's data starts 8-byte aligned. (The reference sorts tensors by dtype
 * alignment then name; here the caller's order is kept, because the bytes callback is called in that order.)
 */
import { randomUUID } from "node:crypto";
import { type ByteRange, isByteRange, rangePieces } from "@onebit/kernels";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { ModelFileError } from "../weights/weight-source";
import { isSafetensorsDtype, MAX_HEADER_BYTES, SAFETENSORS_DTYPES, SAFETENSORS_ITEM_BYTES, type SafetensorsDtypeName } from "./safetensors-dtype";
import { shown } from "./safetensors-header";

export interface TensorPlan {
  name: string;
  dtype: SafetensorsDtypeName;
  shape: readonly number[];
  byteLength: number;
}

/**
 * A tensor's bytes, asked for when its turn comes. Typed arrays are written as their bytes (little-endian hosts); a
 * ByteRange (bytes still in another file, or made piece by piece) is copied PIECE_BYTES at a time.
 */
export type TensorBytes = (tensor: TensorPlan, index: number) => ArrayBufferView | ByteRange | Promise<ArrayBufferView | ByteRange>;

/** Bytes of a ByteRange tensor copied and written at a time. */
export const PIECE_BYTES = 16 << 20;

const field = (name: string) => `tensor ${shown(name)}`;

/** Check a tensor list and compute the file's first bytes: 8-byte length + padded JSON header. */
export function encodeSafetensorsHeader(plan: readonly TensorPlan[], metadata: Readonly<Record<string, string>> | undefined, file: string): { header: Uint8Array; dataBytes: number } {
  const seen = new Set<string>();
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const entries = Object.keys(metadata).map((k) => {
      const v = metadata[k];
      if (typeof v !== "string") throw new ModelFileError(file, `__metadata__[${shown(k)}]`, `expected a string, found ${shown(v)}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${entries.join(",")}}`);
  }
  let offset = 0;
  for (const t of plan) {
    if (typeof t.name !== "string") throw new ModelFileError(file, "tensor name", `expected a string, found ${shown(t.name)}`);
    if (t.name === "__metadata__") throw new ModelFileError(file, field(t.name), "is the reserved metadata key; expected a tensor name");
    if (seen.has(t.name)) throw new ModelFileError(file, field(t.name), "appears twice in the tensor list");
    seen.add(t.name);
    if (!isSafetensorsDtype(t.dtype)) throw new ModelFileError(file, `${field(t.name)}.dtype`, `expected one of ${SAFETENSORS_DTYPES.join(", ")}, found ${shown(t.dtype)}`);
    if (!Array.isArray(t.shape)) throw new ModelFileError(file, `${field(t.name)}.shape`, `expected an array, found ${shown(t.shape)}`);
    let numel = 1;
    t.shape.forEach((d, i) => {
      if (!Number.isSafeInteger(d) || d < 0) throw new ModelFileError(file, `${field(t.name)}.shape[${i}]`, `expected a non-negative integer, found ${shown(d)}`);
      numel *= d;
    });
    const bytes = numel * SAFETENSORS_ITEM_BYTES[t.dtype];
    if (!Number.isSafeInteger(bytes) || bytes !== t.byteLength)
      throw new ModelFileError(file, `${field(t.name)}.byteLength`, `${t.dtype} ${shown(t.shape)} needs ${bytes} bytes, the plan says ${shown(t.byteLength)}`);
    if (!Number.isSafeInteger(offset + bytes)) throw new ModelFileError(file, field(t.name), `data would end past byte 2^53 (${offset} + ${bytes})`);
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }
  // Built as text rather than JSON.stringify(object): tensor names such as "__proto__" or "0" stay ordinary keys,
  // in order.
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > MAX_HEADER_BYTES) throw new ModelFileError(file, "header", `would be ${padded} bytes; safetensors allows at most ${MAX_HEADER_BYTES}`);
  const header = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, dataBytes: offset };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** A temp path beside `path` (same folder, so the final rename stays on one file system). */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
}

/**
 * Write a safetensors file: header from `plan`, then `bytesOf(tensor, i)` for each tensor in order, each checked
 * to be exactly `byteLength` bytes. Atomic: temp file, fsync, rename. Returns the file's size.
 */
export async function writeSafetensorsFile(
  path: string,
  plan: readonly TensorPlan[],
  bytesOf: TensorBytes,
  metadata?: Readonly<Record<string, string>>,
): Promise<number> {
  const { header, dataBytes } = encodeSafetensorsHeader(plan, metadata, path);
  const tmp = tempPathFor(path);
  const handle = await open(tmp, "wx");
  let ok = false;
  let buffer: Uint8Array | undefined; // one piece buffer for every ByteRange tensor
  try {
    await writeAll(handle, header);
    for (let i = 0; i < plan.length; i++) {
      const t = plan[i]!;
      const view = await bytesOf(t, i);
      if (!ArrayBuffer.isView(view) && !isByteRange(view))
        throw new ModelFileError(path, field(t.name), `the bytes callback returned ${shown(view)}, expected a typed array or a ByteRange`);
      const length = ArrayBuffer.isView(view) ? view.byteLength : view.length;
      if (length !== t.byteLength)
        throw new ModelFileError(path, field(t.name), `the bytes callback returned ${length} bytes, expected ${t.byteLength} for ${t.dtype} ${shown(t.shape)}`);
      if (ArrayBuffer.isView(view)) await writeAll(handle, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      else {
        buffer ??= new Uint8Array(PIECE_BYTES);
        for (const piece of rangePieces(view, buffer)) await writeAll(handle, piece);
      }
    }
    await handle.sync();
    ok = true;
  } finally {
    await handle.close().catch(() => {});
    if (!ok) await unlink(tmp).catch(() => {});
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  return header.length + dataBytes;
}
