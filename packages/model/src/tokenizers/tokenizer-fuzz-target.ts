/**
 * Fuzz target (run by tokenizer-fuzz.test.ts in a capped worker): structurally mutated tokenizer files through
 * their loaders — onebit's BPE JSON and a Hugging Face tokenizer.json through tokenizerFromJson, GGUF tokenizer
 * metadata through tokenizerFromGguf. A tokenizer that loads must then encode and decode a sample text with ids
 * inside its vocabulary. Expected refusal: ModelFileError naming the file
 * (onebit BPE JSON: ModelInputError naming the file).
 */
import { ModelInputError } from "../model-input-error";
import type { FuzzTarget } from "../testing/fuzz-harness";
import { mutateJson } from "../testing/json-mutator";
import { ModelFileError } from "../weights/weight-source";
import { hfTokenizerToGguf } from "./hf-to-gguf-tokenizer";
import { onebitBpeToHf } from "./hf-tokenizer-export";
import { tokenizerFromGguf, tokenizerFromJson } from "./load-tokenizer";
import type { Tokenizer } from "./tokenizer";
import { trainedBpe } from "./tokenizer-test-fixtures";

const SAMPLE = "The jury said, in term-end presentments: 日本 <s> </s> \u0000 ok!";
const FILES = ["bpe.json", "tokenizer.json", "fuzz.gguf"] as const;

function use(tok: Tokenizer): void {
  const ids = tok.encode(SAMPLE);
  for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize) throw new Error(`accepted tokenizer encoded to id ${id} outside [0, ${tok.vocabSize})`);
  tok.decode(ids);
}

export function fuzzTarget(): FuzzTarget {
  const bpe = trainedBpe();
  const onebit = bpe.toJSON();
  const hf = onebitBpeToHf(bpe);
  const ggufFields = hfTokenizerToGguf(hf.tokenizer, "tokenizer.json").fields;
  const typed = new Set(ggufFields.filter((f) => f.value instanceof Int32Array).map((f) => f.key));
  const ggufPlain = Object.fromEntries(ggufFields.map((f) => [f.key, f.value instanceof Int32Array ? [...f.value] : f.value]));
  return {
    next(rand, i) {
      const kind = i % 3;
      if (kind === 0) {
        const { value, what } = mutateJson(onebit, rand);
        return { what: `${FILES[0]}: ${what}`, run: () => use(tokenizerFromJson(value, FILES[0])) };
      }
      if (kind === 1) {
        const { value, what } = mutateJson(hf.tokenizer, rand);
        return { what: `${FILES[1]}: ${what}`, run: () => use(tokenizerFromJson(value, FILES[1])) };
      }
      const { value, what } = mutateJson(ggufPlain, rand);
      const metadata = new Map(
        value !== null && typeof value === "object" && !Array.isArray(value)
          ? Object.entries(value).map(([k, v]) => [k, typed.has(k) && Array.isArray(v) && v.every((x) => typeof x === "number") ? Int32Array.from(v) : v])
          : [],
      );
      return { what: `${FILES[2]}: ${what}`, run: () => use(tokenizerFromGguf(metadata, FILES[2])) };
    },
    refusal(err) {
      // BpeTokenizer.fromJSON refuses with a ModelInputError naming the file, by design
      if (!(err instanceof ModelFileError || (err instanceof ModelInputError && err.message.startsWith(`${FILES[0]}: `)))) return "not a ModelFileError";
      return FILES.some((f) => err.message.startsWith(`${f}: `)) ? undefined : "message does not name the file";
    },
  };
}
