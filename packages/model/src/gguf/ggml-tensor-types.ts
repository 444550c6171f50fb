/**
 * The ggml tensor types a GGUF file may hold that onebit reads, with ggml.c's type_traits geometry, and the byte
 * size of a tensor (ggml_nbytes for a contiguous tensor).
 *
 * I2_S is bitnet.cpp's (its llama.cpp fork numbers it 36 in ggml.h, next to I8_S 37, TL1 38, TL2 39; upstream
 * llama.cpp has no 36–38 any more and uses 39 for MXFP4). Its type_traits say blck_size 1, type_size 1, as if it
 * were int8, and its ggml_nbytes then special-cases it: `nbytes = nbytes / 4 + 32` — four 2-bit codes per byte
 * plus a 32-byte tail whose first 4 bytes hold the tensor's one float32 scale. quantize_i2_s returns the same
 * `n / 4 + 32`, and llama-quantize lays tensors out with ggml_nbytes, so a file's I2_S tensor occupies
 * floor(n/4) + 32 bytes before the alignment padding. Its codes are packed in one sweep over the whole tensor
 * (blocks of 128 weights on x86), not per row.
 */

export interface GgmlTensorType {
  /** ggml's type name, upper case ("Q8_0"): the `dtype` a GGUF WeightSource reports. */
  name: string;
  /** ggml_type id stored in a GGUF tensor info. */
  id: number;
  /** Weights per block (type_traits blck_size); ne[0] must be a multiple of it. */
  blockSize: number;
  /** Bytes per block (type_traits type_size). */
  typeSize: number;
  /** "row": blocks run along ne[0], so any row can be read alone; "tensor": one packing over the whole tensor. */
  layout: "row" | "tensor";
}

export const GGML_TENSOR_TYPES: readonly GgmlTensorType[] = [
  { name: "F32", id: 0, blockSize: 1, typeSize: 4, layout: "row" },
  { name: "F16", id: 1, blockSize: 1, typeSize: 2, layout: "row" },
  { name: "Q4_0", id: 2, blockSize: 32, typeSize: 18, layout: "row" },
  { name: "Q8_0", id: 8, blockSize: 32, typeSize: 34, layout: "row" },
  { name: "Q6_K", id: 14, blockSize: 256, typeSize: 210, layout: "row" },
  { name: "BF16", id: 30, blockSize: 1, typeSize: 2, layout: "row" },
  { name: "TQ1_0", id: 34, blockSize: 256, typeSize: 54, layout: "row" },
  { name: "TQ2_0", id: 35, blockSize: 256, typeSize: 66, layout: "row" },
  { name: "I2_S", id: 36, blockSize: 1, typeSize: 1, layout: "tensor" },
];

/** bitnet.cpp's ggml_nbytes: the I2_S tail after the packed codes. */
export const I2S_TAIL_BYTES = 32;

/** Names of the ggml type ids onebit does not read, for error messages (ggml.h; bitnet.cpp's fork for 36–39). */
const OTHER_TYPE_NAMES: Record<number, string> = {
  3: "Q4_1",
  4: "Q4_2 (removed from ggml)",
  5: "Q4_3 (removed from ggml)",
  6: "Q5_0",
  7: "Q5_1",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  12: "Q4_K",
  13: "Q5_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  24: "I8",
  25: "I16",
  26: "I32",
  27: "I64",
  28: "F64",
  29: "IQ1_M",
  31: "Q4_0_4_4 (removed from GGUF)",
  32: "Q4_0_4_8 (removed from GGUF)",
  33: "Q4_0_8_8 (removed from GGUF)",
  37: "I8_S (bitnet.cpp)",
  38: "TL1 (bitnet.cpp)",
  39: "TL2 in bitnet.cpp, MXFP4 in llama.cpp",
};

export function ggmlTypeById(id: number): GgmlTensorType | undefined {
  return GGML_TENSOR_TYPES.find((t) => t.id === id);
}

export function ggmlTypeByName(name: string): GgmlTensorType | undefined {
  return GGML_TENSOR_TYPES.find((t) => t.name === name);
}

/** "12 (Q4_K)" or "77 (not a ggml type)", for messages. */
export function ggmlTypeLabel(id: number): string {
  const name = ggmlTypeById(id)?.name ?? OTHER_TYPE_NAMES[id];
  return `${id} (${name ?? "not a ggml type"})`;
}

export const SUPPORTED_TYPE_LIST = GGML_TENSOR_TYPES.map((t) => `${t.name} ${t.id}`).join(", ");

/**
 * Bytes of a contiguous tensor of `elements` weights whose ne[0] is a multiple of the block size (ggml_nbytes).
 * For a safe-integer `elements` the result is exact up to 2^53 and otherwise larger than any file, which is how
 * callers bound it.
 */
export function ggmlTensorBytes(type: GgmlTensorType, elements: number): number {
  if (type.name === "I2_S") return Math.floor(elements / 4) + I2S_TAIL_BYTES;
  return (elements / type.blockSize) * type.typeSize;
}
