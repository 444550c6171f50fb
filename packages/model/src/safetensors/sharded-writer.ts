/**
 * Sharded safetensors, as transformers' `save_pretrained` writes them (src/transformers/modeling_utils.py, with
 * huggingface_hub's `split_torch_state_dict_into_shards`): tensors go into shards of at most `maxShardBytes`
 * of tensor data, in order, a tensor larger than the limit alone in its own shard; shards are named
 * `model-00001-of-00003.safetensors` and listed in `model.safetensors.index.json`
 * ({"metadata": {"total_size": <tensor bytes>}, "weight_map": {tensor: shard}}, keys sorted, indent 2). When
 * everything fits in one shard transformers writes a plain `model.safetensors` and no index; so does this.
 *
 * Each shard is written atomically, the index last, so a crash never leaves an index naming a missing or partial
 * shard. Then, as save_pretrained does, model weight files of an earlier save that the new set does not include
 * (`model.safetensors`, `model-NNNNN-of-NNNNN.safetensors`, the index) are removed, so the folder never offers
 * two models.
 */
import { mkdir, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelFileError } from "../weights/weight-source";
import { INDEX_FILE_NAME, SINGLE_FILE_NAME, shardFileName, WEIGHT_FILE_PATTERN } from "./file-names";
import { encodeSafetensorsHeader, tempPathFor, type TensorBytes, type TensorPlan, writeSafetensorsFile } from "./safetensors-writer";
import { ModelInputError } from "../model-input-error";

/** Split a tensor list into shards of at most `maxShardBytes` of tensor data each (greedy, order kept). */
export function planShards(plan: readonly TensorPlan[], maxShardBytes: number): TensorPlan[][] {
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) throw new ModelInputError(`maxShardBytes: expected a positive integer, got ${maxShardBytes}`);
  const shards: TensorPlan[][] = [];
  let current: TensorPlan[] = [];
  let bytes = 0;
  for (const t of plan) {
    if (current.length > 0 && bytes + t.byteLength > maxShardBytes) {
      shards.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += t.byteLength;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

export interface ShardedWriteResult {
  /** Weight files written, in order. */
  files: string[];
  /** The index file, when more than one shard was written. */
  index?: string;
}

/**
 * Write `plan` into `dir` as one `model.safetensors` or as shards + index. `bytesOf` is called once per tensor,
 * in plan order (its index argument counts across all shards). `metadata` goes into every shard's header;
 * transformers refuses a safetensors file whose `__metadata__` lacks `format: "pt"`, so pass that for files meant
 * for it.
 */
export async function writeShardedSafetensors(
  dir: string,
  plan: readonly TensorPlan[],
  bytesOf: TensorBytes,
  maxShardBytes: number,
  metadata?: Readonly<Record<string, string>>,
): Promise<ShardedWriteResult> {
  // Validate the whole list (names unique across shards, sizes consistent) before writing anything.
  encodeSafetensorsHeader(plan, metadata, join(dir, INDEX_FILE_NAME));
  const shards = planShards(plan, maxShardBytes);
  await mkdir(dir, { recursive: true });
  const names = shards.length === 1 ? [SINGLE_FILE_NAME] : shards.map((_, i) => shardFileName(i, shards.length));
  let base = 0;
  for (let s = 0; s < shards.length; s++) {
    const first = base;
    await writeSafetensorsFile(join(dir, names[s]!), shards[s]!, (t, i) => bytesOf(t, first + i), metadata);
    base += shards[s]!.length;
  }
  let index: string | undefined;
  if (shards.length > 1) {
    const weightMap: Record<string, string> = Object.create(null);
    shards.forEach((shard, s) => {
      for (const t of shard) weightMap[t.name] = names[s]!;
    });
    const sorted = Object.keys(weightMap).sort();
    const totalSize = plan.reduce((a, t) => a + t.byteLength, 0);
    // Written as text, keys sorted as json.dumps(sort_keys=True) does; tensor names stay plain keys.
    const lines = sorted.map((k) => `    ${JSON.stringify(k)}: ${JSON.stringify(weightMap[k])}`);
    const text = `{\n  "metadata": {\n    "total_size": ${totalSize}\n  },\n  "weight_map": {\n${lines.join(",\n")}\n  }\n}\n`;
    index = join(dir, INDEX_FILE_NAME);
    const tmp = tempPathFor(index);
    try {
      await writeFile(tmp, text, { flag: "wx" });
      await rename(tmp, index);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw new ModelFileError(index, "index", `could not be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const keep = new Set([...names, ...(index ? [INDEX_FILE_NAME] : [])]);
  for (const entry of await readdir(dir)) {
    if (keep.has(entry)) continue;
    if (WEIGHT_FILE_PATTERN.test(entry) || entry === INDEX_FILE_NAME) await unlink(join(dir, entry));
  }
  return { files: names.map((n) => join(dir, n)), ...(index ? { index } : {}) };
}
