/**
 * A tensor as read from a Hugging Face checkpoint: its file and name (for error messages), the file's dtype name
 * ("U8", "BF16", "F32", …), its shape and its raw little-endian bytes. The conversions in this folder take and
 * return these, so every refusal can name the file and tensor it is about.
 */
import { isSafetensorsDtype, SAFETENSORS_ITEM_BYTES } from "../safetensors/safetensors-dtype";
import { shown } from "../safetensors/safetensors-header";
import { ModelFileError, type WeightSource } from "../weights/weight-source";

export interface HfTensor {
  file: string;
  name: string;
  dtype: string;
  shape: readonly number[];
  data: Uint8Array;
}

/** Read one tensor of a WeightSource with its entry; a missing tensor is an error naming the file and tensor. */
export async function readHfTensor(source: WeightSource, name: string): Promise<HfTensor> {
  const entry = source.tensors.get(name);
  if (!entry) throw new ModelFileError(source.path, `tensor ${shown(name)}`, "is missing");
  return { file: source.path, name, dtype: entry.dtype, shape: entry.shape, data: await source.read(name) };
}

export function tensorField(t: Pick<HfTensor, "name">, field?: string): string {
  return `tensor ${shown(t.name)}${field ? `.${field}` : ""}`;
}

/** Refuse a tensor whose dtype is not one of `allowed`, whose shape is not `shape`, or whose bytes do not fit both. */
export function expectTensor(t: HfTensor | (Omit<HfTensor, "data"> & { byteLength: number }), allowed: readonly string[], shape: readonly number[]): void {
  if (!allowed.includes(t.dtype)) throw new ModelFileError(t.file, tensorField(t, "dtype"), `expected ${allowed.join(" or ")}, found ${shown(t.dtype)}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new ModelFileError(t.file, tensorField(t, "shape"), `expected ${shown(shape)}, found ${shown(t.shape)}`);
  const bytes = isSafetensorsDtype(t.dtype) ? shape.reduce((a, d) => a * d, 1) * SAFETENSORS_ITEM_BYTES[t.dtype] : Number.NaN;
  const length = "data" in t ? t.data.length : t.byteLength;
  if (length !== bytes) throw new ModelFileError(t.file, tensorField(t), `has ${length} bytes; ${t.dtype} ${shown(shape)} needs ${bytes}`);
}
