/**
 * The weight file names transformers uses for a model folder (src/transformers/utils/__init__.py
 * SAFE_WEIGHTS_NAME / SAFE_WEIGHTS_INDEX_NAME; shard names from huggingface_hub's
 * `split_torch_state_dict_into_shards`, "model-00001-of-00003.safetensors").
 */
export const SINGLE_FILE_NAME = "model.safetensors";
export const INDEX_FILE_NAME = "model.safetensors.index.json";

/** A weight file of any earlier save: `model.safetensors` or a `model-NNNNN-of-NNNNN.safetensors` shard. */
export const WEIGHT_FILE_PATTERN = /^model(-\d{5,}-of-\d{5,})?\.safetensors$/;

export function shardFileName(index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, "0");
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}
