/**
 * openModelFiles (bytes, not paths: what a browser has) against openModel (paths): the same folders and files,
 * written by onebit's Node writers, read both ways must give the same spec, weights and tokenizer; the in-memory
 * writers (onebitFolderFiles, packLatentWeights) must produce what saveCheckpoint writes; refusals name the file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { saveCheckpoint } from "../checkpoint";
import { planGgufExport } from "../export/gguf-export";
import { exportHfFolder } from "../export/hf-export";
import { onebitFolderFiles } from "../export/onebit-folder-files";
import { packLatentWeights } from "../export/pack-latent-weights";
import { ggufTokenizerFields } from "../export/tokenizer-export";
import { encodeGguf } from "../gguf/gguf-writer";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { OnebitBpeTokenizer } from "../tokenizers/onebit-bpe-adapter";
import type { ModelWeights } from "../transformer";
import { blobModelFiles, type NamedBlob } from "./model-files";
import { openModel } from "./open-model";
import { openModelFiles } from "./open-model-files";

const dir = mkdtempSync(join(tmpdir(), "onebit-open-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = preset("b1.58", "tiny", { vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 });
const latent = initWeights(spec, 7);
const bpe = trainBpeTokenizer("the cat sat on the mat and the dog sat on the log. ".repeat(40), { vocabSize: 300 });
const tokenizerJson = bpe.toJSON();

/** A folder on disk as the named blobs a directory picker gives (names start with the folder's own name). */
function pickFolder(path: string, folderName: string): NamedBlob[] {
  return readdirSync(path).map((f) => ({ name: `${folderName}/${f}`, blob: new Blob([readFileSync(join(path, f))]) }));
}

function sameWeights(a: ModelWeights, b: ModelWeights): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, w] of a) {
    const v = b.get(name)!;
    if (w instanceof Float32Array) expect(v, name).toEqual(w);
    else {
      // the same codes; a file on disk may keep its packed bytes as a range (`encoded`) where a picked folder does not
      const same = (x: object) => ({ ...x, data: Array.from((x as { data: Uint8Array }).data), encoded: undefined });
      expect(same(v), name).toEqual(same(w));
    }
  }
}

describe("openModelFiles", () => {
  it("reads onebitFolderFiles' folder as openModel reads saveCheckpoint's (same bytes, same weights)", async () => {
    const saved = join(dir, "saved");
    await saveCheckpoint(saved, { spec, weights: latent, tokenizer: tokenizerJson });
    const files = onebitFolderFiles({ spec, weights: latent, tokenizer: tokenizerJson });
    expect([...files.keys()]).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    for (const [name, bytes] of files) expect(Buffer.from(bytes).equals(readFileSync(join(saved, name))), name).toBe(true);
    // packed weights in: the same folder
    const again = onebitFolderFiles({ spec, weights: packLatentWeights(spec, latent), tokenizer: tokenizerJson });
    expect(Buffer.from(again.get("model.safetensors")!).equals(Buffer.from(files.get("model.safetensors")!))).toBe(true);

    const picked = [...files].map(([name, bytes]) => ({ name: `my-model/${name}`, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    const tables: number[] = [];
    const m = await openModelFiles(blobModelFiles("my-model", picked), { beforeTensors: (t) => tables.push(t.tensorBytes) });
    const ref = await openModel(saved);
    expect(m.format).toBe("onebit");
    expect(m.path).toBe("my-model");
    expect(m.spec).toEqual(ref.spec);
    sameWeights(m.weights, ref.weights);
    expect(tables).toEqual([files.get("model.safetensors")!.length - 8 - new DataView(files.get("model.safetensors")!.buffer).getUint32(0, true)]);
    expect(m.tokenizer!.encode("the cat sat")).toEqual(ref.tokenizer!.encode("the cat sat"));
  });

  it("reads a Hugging Face folder, single and sharded, as openModel does", async () => {
    const packed = (await openModel(join(dir, "saved"))).weights;
    for (const [name, maxShardBytes] of [["hf", undefined], ["hf-sharded", 20_000]] as const) {
      const path = join(dir, name);
      await exportHfFolder(path, spec, packed, { maxShardBytes });
      const ref = await openModel(path);
      const m = await openModelFiles(blobModelFiles(name, pickFolder(path, name)));
      expect(m.format).toBe("hf");
      expect(m.spec).toEqual(ref.spec);
      sameWeights(m.weights, ref.weights);
      // the same notes (the missing-tokenizer one worded for any caller, not the CLI's "text commands"; a Blob on
      // this thread cannot be read synchronously, so nothing is left in the file)
      const other = (notes: string[]) => notes.filter((n) => !n.includes("no tokenizer.json") && !n.includes("read from the file as the backend places them"));
      expect(other(m.notes)).toEqual(other(ref.notes).map((n) => n.replaceAll(path, name)));
      expect(m.notes).toContain("the folder has no tokenizer.json: it cannot read text");
    }
    expect(readdirSync(join(dir, "hf-sharded")).filter((f) => f.endsWith(".safetensors")).length).toBeGreaterThan(1);
  });

  it("reads one GGUF file (with its tokenizer) as openModel does", async () => {
    const packed = packLatentWeights(spec, latent);
    const tok = ggufTokenizerFields({ tokenizer: new OnebitBpeTokenizer(bpe) }, spec.vocab_size);
    const plan = planGgufExport(spec, packed, { tokenizer: tok.fields, name: "t" });
    const bytes = encodeGguf({ metadata: plan.metadata.map(({ key, type, value }) => ({ key, type, value })), tensors: plan.tensors });
    const path = join(dir, "model.gguf");
    writeFileSync(path, bytes);
    const ref = await openModel(path);
    const m = await openModelFiles(blobModelFiles("model.gguf", [{ name: "model.gguf", blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }]));
    expect(m.format).toBe("gguf");
    expect(m.path).toBe("model.gguf");
    expect(m.spec).toEqual(ref.spec);
    sameWeights(m.weights, ref.weights);
    expect(m.tokenizer!.encode("the dog")).toEqual(ref.tokenizer!.encode("the dog"));
  });

  it("refuses what is not a model, naming the file and what was expected", async () => {
    const one = (name: string, text: string) => blobModelFiles(name, [{ name, blob: new Blob([text]) }]);
    await expect(openModelFiles(one("notes.gguf", "hello there"))).rejects.toThrow('notes.gguf: magic: not a GGUF file (expected the bytes "GGUF" first, found the bytes "hell"); models are .gguf files or folders (or zips) with config.json');
    await expect(openModelFiles(one("x.bin", "ab"))).rejects.toThrow('x.bin: magic: not a GGUF file (expected the bytes "GGUF" first, found a file of 2 bytes)');
    const noConfig = blobModelFiles("stuff", [
      { name: "stuff/a.txt", blob: new Blob(["a"]) },
      { name: "stuff/b.txt", blob: new Blob(["b"]) },
    ]);
    await expect(openModelFiles(noConfig)).rejects.toThrow("stuff: config.json: missing: a model is one .gguf file, or a folder (or zip) with config.json and safetensors weights; found 2 files (a.txt, b.txt)");
    const badJson = blobModelFiles("m", [
      { name: "m/config.json", blob: new Blob(["{nope"]) },
      { name: "m/model.safetensors", blob: new Blob(["x"]) },
    ]);
    await expect(openModelFiles(badJson)).rejects.toThrow(/^m\/config\.json: \(root\): not valid JSON/);
    const noWeights = blobModelFiles("m", [{ name: "m/config.json", blob: new Blob([JSON.stringify(spec)]) }]);
    await expect(openModelFiles(noWeights)).rejects.toThrow("m: weights: expected model.safetensors or model.safetensors.index.json, found neither (the folder holds config.json)");
  });

  it("lets beforeTensors refuse a model before any tensor is read", async () => {
    const files = onebitFolderFiles({ spec, weights: latent, tokenizer: tokenizerJson });
    const picked = [...files].map(([name, bytes]) => ({ name, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    await expect(
      openModelFiles(blobModelFiles("m", picked), {
        beforeTensors: (t) => {
          throw new Error(`${t.file}: ${t.tensors.size} tensors, ${t.tensorBytes} bytes: too many`);
        },
        onProgress: () => {
          throw new Error("a tensor was read");
        },
      }),
    ).rejects.toThrow(/^model\.safetensors: \d+ tensors, \d+ bytes: too many$/);
  });
});
