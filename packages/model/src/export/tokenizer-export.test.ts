import { describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import type { GgufTypedValue } from "../gguf/gguf-value-types";
import { GGUF_TOKENIZER_KEYS as K } from "../tokenizers/gguf-tokenizer-keys";
import { GgufVocab } from "../tokenizers/gguf-vocab";
import { onebitBpeToGguf } from "../tokenizers/gguf-vocab-export";
import { HfTokenizer } from "../tokenizers/hf-tokenizer";
import { onebitBpeToHf } from "../tokenizers/hf-tokenizer-export";
import { ggufTokenizerFields, hfTokenizerFiles } from "./tokenizer-export";

const bpe = trainBpeTokenizer("hello hello world, hello there! héllo wörld", { vocabSize: 270 });
type Json = Record<string, unknown>;
const hfFiles = () => JSON.parse(JSON.stringify(onebitBpeToHf(bpe))) as { tokenizer: Json; tokenizerConfig: Json };
/** A GGUF source's tokenizer keys as open-model.ts hands them over: [key, {type, value}]. */
function ggufKeys(edit: (m: Map<string, GgufTypedValue>) => void = () => {}): Array<[string, GgufTypedValue]> {
  const m = new Map<string, GgufTypedValue>(
    onebitBpeToGguf(bpe, 280).map((kv) => [kv.key, { type: kv.type === "array" ? (`${kv.itemType!}[]` as const) : kv.type, value: kv.value }]),
  );
  edit(m);
  return [...m];
}
const metadata = (keys: Array<[string, GgufTypedValue]>) => new Map(keys.map(([k, v]) => [k, v.value]));

describe("tokenizer export across formats", () => {
  it("writes a Hugging Face source's tokenizer.json as GGUF keys, padded to the model's vocab_size", () => {
    const f = hfFiles();
    const { fields, missing } = ggufTokenizerFields({ path: "/m", hfTokenizer: { tokenizer: f.tokenizer, tokenizerConfig: f.tokenizerConfig } }, 280);
    expect(missing).toBeUndefined();
    expect(fields.find((x) => x.key === K.tokens)).toMatchObject({ type: "string[]" });
    expect(fields.find((x) => x.key === K.tokenType)).toMatchObject({ type: "i32[]" });
    const gguf = GgufVocab.fromMetadata(new Map(fields.map((x) => [x.key, x.value])), "out.gguf");
    const hf = HfTokenizer.fromJson(f.tokenizer, "tokenizer.json", { config: f.tokenizerConfig });
    expect(gguf.vocabSize).toBe(280);
    expect(gguf.encode("hello wörld, there")).toEqual(hf.encode("hello wörld, there"));
  });

  it("says why a Hugging Face tokenizer cannot become GGUF keys, naming the source file", () => {
    const f = hfFiles();
    f.tokenizer.normalizer = { type: "NFC" };
    expect(ggufTokenizerFields({ path: "/m", hfTokenizer: { tokenizer: f.tokenizer } }, 280)).toEqual({
      fields: [],
      missing: `the tokenizer cannot be written as GGUF tokenizer keys (/m/tokenizer.json: normalizer: expected null (llama.cpp's byte-level BPE normalizes nothing), found "NFC"); the file has no tokenizer`,
    });
  });

  it("writes a GGUF source's vocabulary as tokenizer.json + tokenizer_config.json", () => {
    const keys = ggufKeys((m) => m.set(K.chatTemplate, { type: "string", value: "T" }));
    const files = hfTokenizerFiles({ path: "/m.gguf", ggufTokenizer: keys });
    expect(files.missing).toBeUndefined();
    const hf = HfTokenizer.fromJson(files.tokenizer, "tokenizer.json", { config: files.tokenizerConfig });
    const gguf = GgufVocab.fromMetadata(metadata(keys), "m.gguf");
    expect(hf.chatTemplate).toBe("T");
    expect(hf.encode("hello wörld, there")).toEqual(gguf.encode("hello wörld, there"));
  });

  it("uses the pre-tokenizer a GGUF source was opened with, and says so when the file names none", () => {
    const keys = ggufKeys((m) => m.delete(K.pre));
    const opened = GgufVocab.fromMetadata(metadata(keys), "/m.gguf", { pre: "gpt-2" });
    expect(hfTokenizerFiles({ path: "/m.gguf", ggufTokenizer: keys, tokenizer: opened }).missing).toBeUndefined();
    const fallback = GgufVocab.fromMetadata(metadata(keys), "/m.gguf");
    expect(hfTokenizerFiles({ path: "/m.gguf", ggufTokenizer: keys, tokenizer: fallback })).toEqual({
      missing: expect.stringMatching(/^the tokenizer cannot be written as tokenizer\.json \(\/m\.gguf: tokenizer\.ggml\.pre: missing: llama\.cpp then falls back/),
    });
  });

  it("still copies a source's tokenizer unchanged into its own format", () => {
    const f = hfFiles();
    expect(hfTokenizerFiles({ hfTokenizer: { tokenizer: f.tokenizer, tokenizerConfig: f.tokenizerConfig } })).toEqual({ tokenizer: f.tokenizer, tokenizerConfig: f.tokenizerConfig });
    const keys = ggufKeys();
    expect(ggufTokenizerFields({ ggufTokenizer: keys }, 999).fields).toEqual(keys.map(([key, v]) => ({ key, ...v })));
  });
});
