/**
 * safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} (plus
 * "__metadata__"), then the tensor bytes. Reading validates everything (a truncated or inconsistent file is
 * refused, naming the tensor); writing is atomic (temp file + rename).
 */
import { OnebitError } from "@onebit/quant";
import { readFile, rename, writeFile } from "node:fs/promises";
import { parseSafetensorsHeader } from "./safetensors/safetensors-header";
import { ModelFileError } from "./weights/weight-source";
import { ModelInputError } from "./model-input-error";

export type SafetensorsDtype = "F32" | "F16" | "U8" | "I8" | "I32";
const ITEM_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, U8: 1, I8: 1, I32: 4 };

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

export class SafetensorsError extends OnebitError {
  constructor(file: string, message: string) {
    super("SAFETENSORS", `${file}: ${message}`);
    this.name = "SafetensorsError";
  }
}

export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const expected = t.shape.reduce((a, b) => a * b, 1) * ITEM_BYTES[t.dtype];
    if (t.data.byteLength !== expected) throw new ModelInputError(`tensor "${name}": has ${t.data.byteLength} bytes, expected ${expected} for ${t.dtype} ${JSON.stringify(t.shape)}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, file = "safetensors"): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(file, `only ${bytes.length} bytes: not a safetensors file (no header length)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new SafetensorsError(file, `header of ${n} bytes runs past the end of the file (${bytes.length} bytes): truncated`);
  // the strict header reader of the lazy source: dtypes, bounded shapes, non-negative ranges that tile the data
  let header: ReturnType<typeof parseSafetensorsHeader>;
  try {
    header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, file);
  } catch (e) {
    if (e instanceof ModelFileError) throw new SafetensorsError(file, e.message.slice(file.length + 2));
    throw e;
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of header.tensors) {
    if (!(t.dtype in ITEM_BYTES)) throw new SafetensorsError(file, `tensor "${name}": dtype ${t.dtype} is not one onebit stores here; supported: ${Object.keys(ITEM_BYTES).join(", ")}`);
    // copy so the tensor owns aligned memory (Float32Array views need 4-byte alignment)
    tensors.set(name, { dtype: t.dtype as SafetensorsDtype, shape: [...t.shape], data: bytes.slice(dataStart + t.begin, dataStart + t.end) });
  }
  return { tensors, metadata: Object.fromEntries(header.metadata) };
}

export async function writeSafetensors(path: string, tensors: Map<string, SafeTensor>, metadata?: Record<string, string>): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, encodeSafetensors(tensors, metadata));
  await rename(tmp, path);
}

export async function readSafetensors(path: string): Promise<{ tensors: Map<string, SafeTensor>; metadata: Record<string, string> }> {
  return decodeSafetensors(new Uint8Array(await readFile(path)), path);
}

export function f32Tensor(a: Float32Array, shape: number[]): SafeTensor {
  return { dtype: "F32", shape, data: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) };
}

export function tensorAsF32(t: SafeTensor): Float32Array {
  return new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
}
