/**
 * The element types onebit reads and writes in safetensors files, with their sizes in bytes. The names are the
 * safetensors spec's (huggingface/safetensors, safetensors/src/tensor.rs `Dtype`, `Dtype::size`); the spec also
 * has U16/U32/U64 and the FP8/FP4 types, which no BitNet checkpoint uses: a file holding one is refused by name
 * rather than read as bytes of unknown meaning.
 */
export const SAFETENSORS_ITEM_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtypeName = keyof typeof SAFETENSORS_ITEM_BYTES;

export const SAFETENSORS_DTYPES = Object.keys(SAFETENSORS_ITEM_BYTES) as SafetensorsDtypeName[];

export function isSafetensorsDtype(name: unknown): name is SafetensorsDtypeName {
  return typeof name === "string" && Object.hasOwn(SAFETENSORS_ITEM_BYTES, name);
}

/** The spec caps the JSON header at 100 MB (safetensors/src/tensor.rs `MAX_HEADER_SIZE`); so do reader and writer. */
export const MAX_HEADER_BYTES = 100_000_000;
