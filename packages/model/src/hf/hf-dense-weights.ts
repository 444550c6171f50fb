/**
 * Dense (full-precision) tensors of a Hugging Face checkpoint — embeddings, norms, an untied lm_head, and the
 * latent master weights of the `-bf16` BitNet sibling — to and from onebit's Float32Array.
 *
 * Reading: F32 as is, BF16 widened exactly (bf16 is the top half of an f32), F16 through the exact half table.
 * Writing: F32 as is, or BF16 rounded to nearest even as PyTorch's `tensor.to(torch.bfloat16)` does
 * (microsoft/bitnet-b1.58-2B-4T's config.json says `"torch_dtype": "bfloat16"`, so its dense tensors are BF16).
 * Bytes are little-endian, as safetensors requires; onebit only runs on little-endian hosts (every JS engine's).
 */
import { bf16ToF32, f32ToBf16, halfToFloatTable } from "@onebit/quant";
import { ModelFileError } from "../weights/weight-source";
import { expectTensor, type HfTensor, tensorField } from "./hf-tensor";
import { ModelInputError } from "../model-input-error";

export const DENSE_DTYPES = ["F32", "BF16", "F16"] as const;
export type DenseDtype = (typeof DENSE_DTYPES)[number];

/** The tensor as float32 values, after checking its dtype is F32/BF16/F16 and its shape is `shape`. */
export function hfDenseToF32(t: HfTensor, shape: readonly number[]): Float32Array {
  expectTensor(t, DENSE_DTYPES, shape);
  const n = shape.reduce((a, d) => a * d, 1);
  const { data } = t;
  switch (t.dtype as DenseDtype) {
    case "F32":
      // A ByteSource hands out fresh aligned buffers, so this is a view; an unaligned slice is copied.
      return data.byteOffset % 4 === 0 ? new Float32Array(data.buffer, data.byteOffset, n) : new Float32Array(data.slice().buffer);
    case "BF16": {
      const bits = data.byteOffset % 2 === 0 ? new Uint16Array(data.buffer, data.byteOffset, n) : new Uint16Array(data.slice().buffer);
      return bf16ToF32(bits);
    }
    case "F16": {
      const table = halfToFloatTable();
      const bits = data.byteOffset % 2 === 0 ? new Uint16Array(data.buffer, data.byteOffset, n) : new Uint16Array(data.slice().buffer);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[bits[i]!]!;
      return out;
    }
  }
  throw new ModelFileError(t.file, tensorField(t, "dtype"), `expected ${DENSE_DTYPES.join(" or ")}, found ${t.dtype}`); // unreachable: expectTensor checked
}

/** Float32 values as a tensor to write: F32 (exact) or BF16 (rounded to nearest even). */
export function f32ToHfDense(values: Float32Array, shape: readonly number[], dtype: "F32" | "BF16", name: string): Omit<HfTensor, "file"> {
  const n = shape.reduce((a, d) => a * d, 1);
  if (values.length !== n) throw new ModelInputError(`tensor ${JSON.stringify(name)}: has ${values.length} values, shape ${JSON.stringify(shape)} needs ${n}`);
  if (dtype === "F32") return { name, dtype, shape: [...shape], data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  if (dtype !== "BF16") throw new ModelInputError(`tensor ${JSON.stringify(name)}: dtype: expected "F32" or "BF16", got ${JSON.stringify(dtype)}`);
  const bits = f32ToBf16(values);
  return { name, dtype, shape: [...shape], data: new Uint8Array(bits.buffer) };
}
