import { describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { onebitBpeToGguf } from "./gguf-vocab-export";
import { GgufVocab } from "./gguf-vocab";
import { onebitBpeToHf } from "./hf-tokenizer-export";
import { HfTokenizer } from "./hf-tokenizer";
import { tokenizerFromGguf, tokenizerFromJson } from "./load-tokenizer";
import { OnebitBpeTokenizer } from "./onebit-bpe-adapter";

describe("loading a tokenizer file", () => {
  const bpe = trainBpeTokenizer("one two three, one two three; one two", { vocabSize: 270 });

  it("tells onebit's BPE JSON from a Hugging Face tokenizer.json by shape", () => {
    const own = tokenizerFromJson(bpe.toJSON(), "ckpt/tokenizer.json");
    expect(own).toBeInstanceOf(OnebitBpeTokenizer);
    const hfFiles = onebitBpeToHf(bpe);
    const hf = tokenizerFromJson(hfFiles.tokenizer, "hf/tokenizer.json", hfFiles.tokenizerConfig);
    expect(hf).toBeInstanceOf(HfTokenizer);
    expect(hf.encode("one two three")).toEqual(own.encode("one two three"));
  });

  it("reads a GGUF tokenizer from metadata", () => {
    const meta = new Map(onebitBpeToGguf(bpe, 300).map((f) => [f.key, f.value]));
    const gguf = tokenizerFromGguf(meta, "m.gguf");
    expect(gguf).toBeInstanceOf(GgufVocab);
    expect(gguf.encode("one two three")).toEqual(bpe.encode("one two three", { bos: true }));
  });

  it("refuses other JSON, naming the file", () => {
    expect(() => tokenizerFromJson([1, 2], "x.json")).toThrow(/^x\.json: \(top level\): expected a tokenizer object, found an array/);
    expect(() => tokenizerFromJson({ vocab: {} }, "x.json")).toThrow(/^x\.json: \(top level\): expected onebit's BPE .* or a Hugging Face tokenizer\.json .*, found keys \["vocab"\]/);
    expect(() => tokenizerFromJson({ type: "onebit-bpe", version: 2 }, "x.json")).toThrow(/x\.json: not an onebit BPE tokenizer/);
    expect(() => tokenizerFromJson(bpe.toJSON(), "x.json", {})).toThrow(/x\.json: type: "onebit-bpe" tokenizers take no tokenizer_config\.json/);
  });
});
