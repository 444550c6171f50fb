/**
 * The tensor table a spec's packed inference weights would have (what randomPackedWeights makes), so a model built
 * in the page rather than read from a file passes the same memory check before it is allocated.
 */
import { type ModelSpec, numel, type TensorTable, tensorList, bitLinearSpecFor, type TensorEntry } from "@onebit/model";
import { b1RowBytes, t2RowBytes } from "@onebit/quant";

export function specTensorTable(spec: ModelSpec, name: string): TensorTable {
  const tensors = new Map<string, TensorEntry>();
  let tensorBytes = 0;
  for (const t of tensorList(spec)) {
    let byteLength = numel(t.shape) * 4;
    let dtype = "F32";
    if (t.projection) {
      const l = bitLinearSpecFor(spec, t.projection);
      if (l.quant.weight !== "none") {
        byteLength = l.outFeatures * (l.quant.weight === "ternary" ? t2RowBytes(l.inFeatures) : b1RowBytes(l.inFeatures)) + l.groups * 4;
        dtype = "U8";
      }
    }
    tensors.set(t.name, { name: t.name, dtype, shape: [...t.shape], byteLength });
    tensorBytes += byteLength;
  }
  return { file: name, tensors, tensorBytes };
}
