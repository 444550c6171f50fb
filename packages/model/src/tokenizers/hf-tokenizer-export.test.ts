import { Tokenizer as TokenizersJs } from "@huggingface/tokenizers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { onebitBpeToHf } from "./hf-tokenizer-export";
import { HfTokenizer } from "./hf-tokenizer";
import { OnebitBpeTokenizer } from "./onebit-bpe-adapter";
import { textArbitrary, trainedBpe } from "./tokenizer-test-fixtures";

describe("onebit BPE → tokenizer.json + tokenizer_config.json", () => {
  const bpe = trainedBpe();
  const onebit = new OnebitBpeTokenizer(bpe);
  // written and read back as files would be
  const files = JSON.parse(JSON.stringify(onebitBpeToHf(bpe))) as ReturnType<typeof onebitBpeToHf>;
  const hf = HfTokenizer.fromJson(files.tokenizer, "tokenizer.json", { config: files.tokenizerConfig });

  it("writes GPT-2's layout: byte-level BPE, the specials as added tokens, BOS in the post-processor", () => {
    const t = files.tokenizer as {
      model: { type: string; vocab: Record<string, number>; merges: string[] };
      pre_tokenizer: unknown;
      decoder: { type: string };
      added_tokens: { content: string; special: boolean }[];
    };
    expect(t.model.type).toBe("BPE");
    expect(Object.keys(t.model.vocab)).toHaveLength(bpe.vocabSize);
    expect(t.model.vocab).toMatchObject({ "<pad>": 0, "<bos>": 1, "<eos>": 2, Ġ: 3 + 0x20, A: 3 + 0x41 });
    expect(t.model.merges).toHaveLength(bpe.merges.length);
    expect(t.pre_tokenizer).toEqual({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(t.decoder.type).toBe("ByteLevel");
    expect(t.added_tokens.map((a) => [a.content, a.special])).toEqual([
      ["<pad>", true],
      ["<bos>", true],
      ["<eos>", true],
    ]);
    expect(files.tokenizerConfig).toMatchObject({ add_bos_token: true, add_eos_token: false, bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>" });
  });

  it("reads back with onebit's ids, BOS default and stop id", () => {
    expect([hf.vocabSize, hf.bosId, hf.eosId, hf.addBos, hf.addEos, hf.chatTemplate]).toEqual([bpe.vocabSize, 1, 2, true, false, undefined]);
    expect(hf.eosIds).toEqual([2]);
  });

  it("encodes every text as onebit does, through @huggingface/tokenizers", () => {
    const lib = new TokenizersJs(files.tokenizer, files.tokenizerConfig);
    fc.assert(
      fc.property(textArbitrary(), (text) => {
        const ids = onebit.encode(text);
        expect(hf.encode(text)).toEqual(ids);
        // the library itself, BOS from the post-processor
        expect(lib.encode(text).ids).toEqual(ids);
        expect(hf.decode(ids)).toBe(onebit.decode(ids));
      }),
      { numRuns: 400 },
    );
  });

  it("reads onebit's special-token names in text only when asked (the library alone always does)", () => {
    expect(hf.encode("a<eos>b", { bos: false })).toEqual(onebit.encode("a<eos>b", { bos: false }));
    expect(hf.encode("a<eos>b", { bos: false, parseSpecial: true })).toEqual([...onebit.encode("a", { bos: false }), 2, ...onebit.encode("b", { bos: false })]);
  });
});
