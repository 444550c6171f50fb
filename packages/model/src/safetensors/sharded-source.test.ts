import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileByteSource } from "../weights/byte-source";
import { ModelFileError } from "../weights/weight-source";
import { INDEX_FILE_NAME, shardFileName } from "./file-names";
import { type TensorPlan, writeSafetensorsFile } from "./safetensors-writer";
import { openSafetensorsFolder, openShardedSafetensors } from "./sharded-source";
import { planShards, writeShardedSafetensors } from "./sharded-writer";

const tmp = () => mkdtempSync(join(tmpdir(), "onebit-sharded-"));
const u8 = (name: string, n: number): TensorPlan => ({ name, dtype: "U8", shape: [n], byteLength: n });
const bytesFor = (t: TensorPlan) => new Uint8Array(t.byteLength).map((_, i) => (t.name.length * 17 + i) & 255);

async function shard(dir: string, file: string, plan: TensorPlan[]): Promise<void> {
  await writeSafetensorsFile(join(dir, file), plan, bytesFor);
}

function index(dir: string, weightMap: unknown, extra: Record<string, unknown> = {}): string {
  const path = join(dir, INDEX_FILE_NAME);
  writeFileSync(path, JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap, ...extra }));
  return path;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return (e as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("writeShardedSafetensors", () => {
  it("splits greedily by tensor bytes, a tensor larger than the limit alone", () => {
    const plan = [u8("a", 40), u8("b", 50), u8("c", 20), u8("d", 300), u8("e", 10)];
    expect(planShards(plan, 100).map((s) => s.map((t) => t.name))).toEqual([["a", "b"], ["c"], ["d"], ["e"]]);
    expect(planShards([], 100)).toEqual([[]]);
    expect(() => planShards(plan, 0)).toThrow("maxShardBytes: expected a positive integer, got 0");
  });

  it("writes shards + a transformers-style index that openSafetensorsFolder reads back", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "config.json"), "{}");
    const plan = [u8("model.b", 60), u8("model.a", 60), { name: "w", dtype: "BF16", shape: [10, 3], byteLength: 60 } as TensorPlan];
    const calls: string[] = [];
    const result = await writeShardedSafetensors(
      dir,
      plan,
      (t, i) => {
        calls.push(`${i}:${t.name}`);
        return bytesFor(t);
      },
      100,
      { format: "pt" },
    );
    expect(calls).toEqual(["0:model.b", "1:model.a", "2:w"]);
    expect(result.files.map((f) => f.slice(dir.length + 1))).toEqual(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"]);
    expect(readFileSync(result.index!, "utf8")).toBe(
      `{\n  "metadata": {\n    "total_size": 180\n  },\n  "weight_map": {\n    "model.a": "model-00002-of-00003.safetensors",\n    "model.b": "model-00001-of-00003.safetensors",\n    "w": "model-00003-of-00003.safetensors"\n  }\n}\n`,
    );
    const src = await openSafetensorsFolder(dir);
    expect(src.path).toBe(result.index);
    expect(src.metadata.get("total_size")).toBe(180);
    expect([...src.tensors.keys()].sort()).toEqual(["model.a", "model.b", "w"]);
    for (const t of plan) expect([...(await src.read(t.name))]).toEqual([...bytesFor(t)]);
    await src.close();

    // A later save that fits in one file replaces the shards and the index, keeping other files.
    const single = await writeShardedSafetensors(dir, [u8("x", 3)], bytesFor, 1000);
    expect(single).toEqual({ files: [join(dir, "model.safetensors")] });
    expect(readdirSync(dir).sort()).toEqual(["config.json", "model.safetensors"]);
    const one = await openSafetensorsFolder(dir);
    expect([...(await one.read("x"))]).toEqual([...bytesFor(u8("x", 3))]);
    await one.close();
  });
});

describe("openShardedSafetensors", () => {
  it("refuses a weight_map naming a missing shard", async () => {
    const dir = tmp();
    await shard(dir, shardFileName(0, 2), [u8("a", 2)]);
    const path = index(dir, { a: shardFileName(0, 2), b: shardFileName(1, 2) });
    expect(await refusal(openShardedSafetensors(path))).toBe(`${path}: weight_map["b"]: names shard "model-00002-of-00002.safetensors", which does not exist in ${dir}`);
  });

  it("refuses a tensor that is not in its shard, and a shard tensor the index does not list", async () => {
    const dir = tmp();
    await shard(dir, "s1.safetensors", [u8("a", 2), u8("b", 3)]);
    await shard(dir, "s2.safetensors", [u8("c", 2)]);
    let path = index(dir, { a: "s1.safetensors", b: "s1.safetensors", c: "s1.safetensors" });
    expect(await refusal(openShardedSafetensors(path))).toBe(`${path}: weight_map["c"]: names shard "s1.safetensors", which has no tensor "c" (it has 2)`);
    path = index(dir, { a: "s1.safetensors", c: "s2.safetensors" });
    expect(await refusal(openShardedSafetensors(path))).toBe(`${join(dir, "s1.safetensors")}: tensor "b": is in this shard but model.safetensors.index.json does not list it`);
  });

  it("refuses a tensor present in two shards", async () => {
    const dir = tmp();
    await shard(dir, "s1.safetensors", [u8("a", 2), u8("b", 3)]);
    await shard(dir, "s2.safetensors", [u8("b", 3), u8("c", 1)]);
    const path = index(dir, { a: "s1.safetensors", b: "s1.safetensors", c: "s2.safetensors" });
    expect(await refusal(openShardedSafetensors(path))).toBe(`${path}: weight_map["b"]: the tensor is in two shards, "s1.safetensors" and "s2.safetensors"; expected exactly one`);
  });

  it("refuses shard names that leave the folder", async () => {
    const dir = tmp();
    for (const bad of ["../model.safetensors", "sub/model.safetensors", "..", "a\\b.safetensors", "/etc/passwd", ""]) {
      const path = index(dir, { a: bad });
      expect(await refusal(openShardedSafetensors(path))).toMatch(new RegExp(`^${path.replace(/[.\\]/g, "\\$&")}: weight_map\\["a"\\]: expected a (plain file name|shard file name)`));
    }
  });

  it("refuses a malformed index", async () => {
    const dir = tmp();
    const path = join(dir, INDEX_FILE_NAME);
    writeFileSync(path, "{");
    expect(await refusal(openShardedSafetensors(path))).toMatch(/: index: is not valid JSON/);
    writeFileSync(path, JSON.stringify({ weight_map: [] }));
    expect(await refusal(openShardedSafetensors(path))).toBe(`${path}: weight_map: expected an object {tensor: shard file}, found []`);
    writeFileSync(path, JSON.stringify({ weight_map: {} }));
    expect(await refusal(openShardedSafetensors(path))).toBe(`${path}: weight_map: expected at least one tensor, found none`);
    expect(await refusal(openShardedSafetensors(join(dir, "nope.json")))).toMatch(/nope.json: index: cannot be opened \(ENOENT\)/);
    expect(await refusal(openShardedSafetensors(dir))).toBe(`${dir}: index: cannot be read (EISDIR)`);
  });

  it("closes the shards it opened when it refuses the checkpoint", async () => {
    const dir = tmp();
    await shard(dir, "s1.safetensors", [u8("a", 2)]);
    const path = index(dir, { a: "s1.safetensors", z: "s1.safetensors" });
    const closed: string[] = [];
    const open = async (p: string) => {
      const s = await fileByteSource(p);
      const close = async () => {
        closed.push(p);
        await s.close();
      };
      return { ...s, close };
    };
    await expect(openShardedSafetensors(path, { open })).rejects.toThrow(/names shard "s1.safetensors", which has no tensor "z"/);
    expect(closed).toContain(join(dir, "s1.safetensors"));
  });
});

describe("openSafetensorsFolder", () => {
  it("refuses a folder with both a single file and an index, or with neither", async () => {
    const dir = tmp();
    expect(await refusal(openSafetensorsFolder(dir))).toBe(`${dir}: weights: expected model.safetensors or model.safetensors.index.json, found neither`);
    await shard(dir, "model.safetensors", [u8("a", 1)]);
    index(dir, { a: "model.safetensors" });
    expect(await refusal(openSafetensorsFolder(dir))).toBe(`${dir}: weights: holds both model.safetensors and model.safetensors.index.json; expected one (remove the stale one)`);
    expect(existsSync(join(dir, "model.safetensors"))).toBe(true);
  });
});
