/**
 * Sharded safetensors (`model.safetensors.index.json` + `model-0000k-of-0000n.safetensors`, as transformers'
 * `save_pretrained` writes them) as one WeightSource. The index is
 *   {"metadata": {"total_size": …}, "weight_map": {"<tensor>": "<shard file>"}}
 * Opening validates the index and every shard's header against it: a shard name must be a plain file name in
 * the index's folder (no path separators, no ".."), every listed tensor must be in its shard, every shard
 * tensor must be listed for that shard, and no tensor may be in two shards. Only headers are read then; tensor
 * bytes are read on demand from the shard that holds them.
 *
 * `openSafetensorsFolder` picks `model.safetensors` or the index, as transformers' `from_pretrained` looks for
 * them, but refuses a folder holding both rather than silently preferring one.
 */
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type ByteSource, ByteRangeError, fileByteSource } from "../weights/byte-source";
import { ModelFileError, type TensorEntry, type WeightSource } from "../weights/weight-source";
import { MAX_HEADER_BYTES } from "./safetensors-dtype";
import { shown } from "./safetensors-header";
import { openSafetensors } from "./safetensors-source";
import { INDEX_FILE_NAME, SINGLE_FILE_NAME } from "./file-names";

export interface OpenOptions {
  /** How a path becomes bytes (default: a Node file). A browser passes one backed by picked Files. */
  open?: (path: string) => Promise<ByteSource>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A shard name must stay inside the index's folder. */
function checkShardName(indexPath: string, tensor: string, shard: unknown): string {
  const where = `weight_map[${shown(tensor)}]`;
  if (typeof shard !== "string" || shard.length === 0) throw new ModelFileError(indexPath, where, `expected a shard file name, found ${shown(shard)}`);
  if (/[/\\\0]/.test(shard) || shard.includes("..") || shard === ".")
    throw new ModelFileError(indexPath, where, `expected a plain file name in the index's folder, found ${shown(shard)} (path separators and ".." are refused)`);
  return shard;
}

async function readIndex(indexPath: string, openBytes: (path: string) => Promise<ByteSource>): Promise<unknown> {
  let source: ByteSource;
  try {
    source = await openBytes(indexPath);
  } catch (e) {
    throw new ModelFileError(indexPath, "index", `cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    if (source.size > MAX_HEADER_BYTES) throw new ModelFileError(indexPath, "index", `expected at most ${MAX_HEADER_BYTES} bytes, found ${source.size}`);
    let bytes: Uint8Array;
    try {
      bytes = await source.read(0, source.size);
    } catch (e) {
      if (e instanceof ByteRangeError) throw e;
      throw new ModelFileError(indexPath, "index", `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ModelFileError(indexPath, "index", "is not valid UTF-8");
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ModelFileError(indexPath, "index", `is not valid JSON (${shown((e as Error).message, 120)})`);
    }
  } finally {
    await source.close().catch(() => {});
  }
}

/** Open a sharded checkpoint through its `model.safetensors.index.json`. */
export async function openShardedSafetensors(indexPath: string, options: OpenOptions = {}): Promise<WeightSource> {
  const openBytes = options.open ?? fileByteSource;
  const root = await readIndex(indexPath, openBytes);
  if (!isObject(root)) throw new ModelFileError(indexPath, "index", `expected a JSON object {metadata, weight_map}, found ${shown(root)}`);
  const weightMap = Object.hasOwn(root, "weight_map") ? root.weight_map : undefined;
  if (!isObject(weightMap)) throw new ModelFileError(indexPath, "weight_map", `expected an object {tensor: shard file}, found ${shown(weightMap)}`);
  const rawMeta = Object.hasOwn(root, "metadata") ? root.metadata : undefined;
  if (rawMeta !== undefined && rawMeta !== null && !isObject(rawMeta)) throw new ModelFileError(indexPath, "metadata", `expected an object, found ${shown(rawMeta)}`);
  const metadata = new Map<string, unknown>(rawMeta ? Object.keys(rawMeta).map((k) => [k, rawMeta[k]]) : []);

  const shardOf = new Map<string, string>(); // tensor → shard
  const byShard = new Map<string, string[]>(); // shard → tensors, in first-seen order
  for (const tensor of Object.keys(weightMap)) {
    const shard = checkShardName(indexPath, tensor, weightMap[tensor]);
    shardOf.set(tensor, shard);
    const list = byShard.get(shard);
    if (list) list.push(tensor);
    else byShard.set(shard, [tensor]);
  }
  if (shardOf.size === 0) throw new ModelFileError(indexPath, "weight_map", "expected at least one tensor, found none");

  const folder = dirname(indexPath);
  const opened = new Map<string, WeightSource>();
  try {
    for (const [shard, listed] of byShard) {
      const path = join(folder, shard);
      let bytes: ByteSource;
      try {
        bytes = await openBytes(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const what = code === "ENOENT" ? "does not exist" : `cannot be opened (${code ?? (e as Error).message})`;
        throw new ModelFileError(indexPath, `weight_map[${shown(listed[0])}]`, `names shard ${shown(shard)}, which ${what} in ${folder}`);
      }
      opened.set(shard, await openSafetensors(bytes));
    }
    // Every listed tensor in its shard; every shard tensor listed, and listed for that shard.
    for (const [shard, source] of opened) {
      for (const tensor of byShard.get(shard)!)
        if (!source.tensors.has(tensor))
          throw new ModelFileError(indexPath, `weight_map[${shown(tensor)}]`, `names shard ${shown(shard)}, which has no tensor ${shown(tensor)} (it has ${source.tensors.size})`);
      for (const tensor of source.tensors.keys()) {
        const listedIn = shardOf.get(tensor);
        if (listedIn === undefined) throw new ModelFileError(source.path, `tensor ${shown(tensor)}`, `is in this shard but ${INDEX_FILE_NAME} does not list it`);
        if (listedIn !== shard)
          throw new ModelFileError(indexPath, `weight_map[${shown(tensor)}]`, `the tensor is in two shards, ${shown(listedIn)} and ${shown(shard)}; expected exactly one`);
      }
    }
  } catch (e) {
    await Promise.all([...opened.values()].map((s) => s.close().catch(() => {})));
    throw e;
  }

  const tensors = new Map<string, TensorEntry>();
  for (const source of opened.values()) for (const [name, entry] of source.tensors) tensors.set(name, entry);
  let closed = false;
  return {
    format: "safetensors",
    path: indexPath,
    metadata,
    tensors,
    async read(name) {
      const shard = shardOf.get(name);
      if (shard === undefined) throw new ModelFileError(indexPath, `tensor ${shown(name)}`, `not in this checkpoint (it has ${tensors.size} tensors)`);
      if (closed) throw new ModelFileError(indexPath, `tensor ${shown(name)}`, "read after the source was closed");
      return opened.get(shard)!.read(name);
    },
    range(name) {
      const shard = shardOf.get(name);
      if (shard === undefined) throw new ModelFileError(indexPath, `tensor ${shown(name)}`, `not in this checkpoint (it has ${tensors.size} tensors)`);
      return opened.get(shard)!.range?.(name);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...opened.values()].map((s) => s.close()));
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new ModelFileError(path, "file", `cannot be checked (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Open a model folder's weights: `model.safetensors`, or `model.safetensors.index.json` and its shards. */
export async function openSafetensorsFolder(dir: string, options: OpenOptions = {}): Promise<WeightSource> {
  const single = join(dir, SINGLE_FILE_NAME);
  const index = join(dir, INDEX_FILE_NAME);
  const [hasSingle, hasIndex] = await Promise.all([exists(single), exists(index)]);
  if (hasSingle && hasIndex)
    throw new ModelFileError(dir, "weights", `holds both ${SINGLE_FILE_NAME} and ${INDEX_FILE_NAME}; expected one (remove the stale one)`);
  if (hasIndex) return openShardedSafetensors(index, options);
  if (!hasSingle) throw new ModelFileError(dir, "weights", `expected ${SINGLE_FILE_NAME} or ${INDEX_FILE_NAME}, found neither`);
  const openBytes = options.open ?? fileByteSource;
  return openSafetensors(await openBytes(single));
}
