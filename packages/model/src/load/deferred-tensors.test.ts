/**
 * TQ2_0 / I2_S projections and quantized tables (F16, Q6_K, …) of a GGUF file on disk are left in the file at load
 * (deferredGgufProjection, quantizedTable) and read a piece at a time by the backend that places them: the same
 * logits as the reference backend (which reads `data` and rows through the same ranges), a block scale that disagrees
 * found where it is read, and a file changed since the load refused — each error naming the file and tensor.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, createBackend, createJsBackend } from "@onebit/kernels";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../checkpoint";
import { convertModel } from "../export/convert-model";
import { openGgufFile } from "../gguf/gguf-reader";
import { preset } from "../presets";
import { initWeights } from "../tensor-names";
import { Transformer } from "../transformer";
import { type QuantizedTable, tableToF32 } from "../weights/quantized-table";
import { ModelFileError } from "../weights/weight-source";
import { openModel } from "./open-model";

const dir = mkdtempSync(join(tmpdir(), "onebit-deferred-"));
// ffn_up is 1024 × 512: 2048 TQ2_0 blocks, more than the loader scans for the scale, so a later block is read only
// when the weight is placed
const shape = { hidden_act: "silu", vocab_size: 300, hidden_size: 512, intermediate_size: 1024, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 } as const;
const ids = [1, 7, 42, 299, 5];
let wasm: Backend;
const files: Record<"tq2_0" | "i2_s", string> = { tq2_0: "", i2_s: "" };

beforeAll(async () => {
  wasm = await createBackend("wasm", { threads: 2 });
  // TQ2_0 with a tied Q6_K embedding; I2_S with separate F16 embedding and output tables (looked up from the file)
  for (const [type, tied, embeddingType] of [["tq2_0", true, "q6_k"], ["i2_s", false, "f16"]] as const) {
    const spec = preset("b1.58", "tiny", { ...shape, tie_word_embeddings: tied });
    const src = join(dir, `src-${type}`);
    await saveCheckpoint(src, { spec, weights: initWeights(spec, 3) });
    files[type] = join(dir, `${type}.gguf`);
    await convertModel(await openModel(src), files[type], { to: "gguf", type, embeddingType });
  }
});
afterAll(() => {
  wasm?.dispose?.();
  rmSync(dir, { recursive: true, force: true });
});

async function logits(path: string, backend: Backend, lmHead: "f32" | "int4" = "f32"): Promise<Float32Array> {
  const m = await openModel(path);
  const model = new Transformer(m.spec, m.weights, { backend, lmHead });
  return model.forward(ids, model.newCache({ maxTokens: 8 }), { allLogits: true });
}

/** A copy of `path` with `patch` applied to its bytes at the tensor's data offset. */
async function patched(path: string, name: string, tensor: string, patch: (bytes: Uint8Array, at: number) => void): Promise<string> {
  const source = await openGgufFile(path);
  const at = source.tensors.get(tensor)!.fileOffset;
  await source.close();
  const bytes = readFileSync(path);
  patch(bytes, at);
  const out = join(dir, name);
  writeFileSync(out, bytes);
  return out;
}

/** A copy of `path` opened, then its modification time moved (the file "changed" since it was opened). */
async function openedThenTouched(path: string, name: string) {
  const copy = join(dir, name);
  writeFileSync(copy, readFileSync(path));
  const m = await openModel(copy);
  const later = new Date(Date.now() + 5000);
  utimesSync(copy, later, later);
  return m;
}

describe("projections left in the file until they are placed", () => {
  it("are ranges, not bytes, and place to the reference's logits bit for bit (TQ2_0 and I2_S; tables F16 and Q6_K, tied and not)", async () => {
    for (const path of Object.values(files)) {
      const m = await openModel(path);
      for (const name of ["model.layers.0.mlp.up_proj.weight", "model.embed_tokens.weight"]) {
        const w = m.weights.get(name) as { encoded?: { bytes: unknown } };
        expect(w.encoded?.bytes, name).toBeDefined();
        expect(w.encoded?.bytes, name).not.toBeInstanceOf(Uint8Array);
      }
      for (const lmHead of ["f32", "int4"] as const) expect(await logits(path, wasm, lmHead)).toEqual(await logits(path, await createJsBackend(), lmHead));
    }
  });

  it("an untied table's lookups read their rows from the file: the rows of the table read whole", async () => {
    const m = await openModel(files.i2_s);
    const embed = m.weights.get("model.embed_tokens.weight") as QuantizedTable;
    const rows = new Float32Array(3 * embed.cols);
    embed.readRows(297, 3, rows);
    const whole = new Float32Array(embed.rows * embed.cols);
    embed.readRows(0, embed.rows, whole);
    expect(rows).toEqual(whole.subarray(297 * embed.cols));
    expect(() => embed.readRows(298, 3, rows)).toThrow(/3 rows from row 298 are outside the tensor's 300 rows/);
    // and `data`, read whole once, gives the same rows
    expect(embed.data.length).toBe(embed.byteLength);
    const again = new Float32Array(3 * embed.cols);
    embed.readRows(297, 3, again);
    expect(again).toEqual(rows);
  });

  it("a block whose scale differs, past what the load scans, fails where it is read, naming the file, tensor and block", async () => {
    // block 1500 of ffn_up gets d = 2.0 (0x4000); the loader's scan (blocks 0..1023) took block 0's
    const bad = await patched(files.tq2_0, "mixed.gguf", "blk.0.ffn_up.weight", (b, at) => {
      b[at + 66 * 1500 + 64] = 0x00;
      b[at + 66 * 1500 + 65] = 0x40;
    });
    for (const backend of [wasm, await createJsBackend()]) {
      const m = await openModel(bad);
      let thrown: unknown;
      try {
        const model = new Transformer(m.spec, m.weights, { backend });
        model.forward(ids, model.newCache({ maxTokens: 8 }));
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ModelFileError);
      expect((thrown as Error).message).toMatch(/mixed\.gguf: blk\.0\.ffn_up\.weight: block 1500 has scale 2 but block 0 has/);
    }
    // within the scanned blocks, the load itself refuses it
    const early = await patched(files.tq2_0, "mixed-early.gguf", "blk.0.ffn_up.weight", (b, at) => {
      b[at + 66 * 3 + 64] = 0x00;
      b[at + 66 * 3 + 65] = 0x40;
    });
    await expect(openModel(early)).rejects.toThrow(/mixed-early\.gguf: blk\.0\.ffn_up\.weight: block 3 has scale 2/);
  });

  it("a file changed after the load is refused when its weights are placed, naming the file and tensor", async () => {
    const m = await openedThenTouched(files.i2_s, "changed.gguf");
    expect(() => new Transformer(m.spec, m.weights, { backend: wasm })).toThrow(/changed\.gguf: tensor "[a-z_.0-9]+": .*changed on disk since it was opened/);
  });
});

describe("converting a model whose tensors stay in its file", () => {
  /** The model at `path` with every `data` of a weight left in the file made to throw: a conversion must read ranges. */
  async function openedWithoutData(path: string) {
    const m = await openModel(path);
    for (const [name, w] of m.weights) {
      const bytes = (w as { encoded?: { bytes: unknown } }).encoded?.bytes ?? (w as { bytes?: unknown }).bytes;
      if (bytes === undefined || bytes instanceof Uint8Array) continue;
      Object.defineProperty(w, "data", {
        get() {
          throw new Error(`${name}: data read whole`);
        },
      });
    }
    return m;
  }

  it("writes the bytes converting the source checkpoint writes, reading each tensor from the file as it goes (never `data`)", async () => {
    for (const [from, embeddingType] of [["tq2_0", "q6_k"], ["i2_s", "f16"]] as const) {
      const src = join(dir, `src-${from}`);
      for (const type of ["tq2_0", "i2_s", "tq1_0"] as const) {
        const want = join(dir, `want-${from}-${type}.gguf`);
        const got = join(dir, `got-${from}-${type}.gguf`);
        await convertModel(await openModel(src), want, { to: "gguf", type, embeddingType });
        const progress: number[] = [];
        await convertModel(await openedWithoutData(files[from]), got, { to: "gguf", type, embeddingType, onProgress: (written) => progress.push(written) });
        const a = readFileSync(want);
        const b = readFileSync(got);
        expect(b.length, `${from} → ${type}`).toBe(a.length);
        expect(Buffer.compare(a, b), `${from} → ${type}`).toBe(0);
        expect(progress.at(-1)).toBe(b.length);
      }
    }
  });

  it("a Hugging Face folder (F32, BF16) or a onebit folder the same: model.safetensors as from the checkpoint's weights in memory", async () => {
    for (const from of ["tq2_0", "i2_s"] as const) {
      for (const [to, denseDtype] of [["hf", "F32"], ["hf", "BF16"], ["onebit", undefined]] as const) {
        const want = join(dir, `want-${to}-${from}-${denseDtype}`);
        const got = join(dir, `got-${to}-${from}-${denseDtype}`);
        // the checkpoint's projections, in memory, and its table as the file's F16 / Q6_K holds it, as float32
        const source = await openModel(files[from]);
        const original = await openModel(join(dir, `src-${from}`));
        for (const name of ["model.embed_tokens.weight", "lm_head.weight"]) {
          const table = source.weights.get(name) as QuantizedTable | undefined;
          if (table) original.weights.set(name, tableToF32(table));
        }
        await convertModel(original, want, { to, denseDtype });
        await convertModel(await openedWithoutData(files[from]), got, { to, denseDtype });
        const a = readFileSync(join(want, "model.safetensors"));
        const b = readFileSync(join(got, "model.safetensors"));
        expect(Buffer.compare(a, b), `${from} → ${to} ${denseDtype ?? ""}`).toBe(0);
      }
    }
  });

  it("a source file changed since it was opened fails the conversion, naming it, and leaves no output", async () => {
    const m = await openedThenTouched(files.tq2_0, "changed-before-convert.gguf");
    const out = join(dir, "never-written.gguf");
    await expect(convertModel(m, out, { to: "gguf", type: "i2_s" })).rejects.toThrow(/changed-before-convert\.gguf: tensor "[a-z_.0-9]+": .*changed on disk since it was opened/);
    expect(readdirSync(dir).filter((n) => n.startsWith("never-written"))).toEqual([]);
  });
});
