/**
 * Which tokenizer.json pre-tokenizer is which tokenizer.ggml.pre name, both ways.
 *
 * llama.cpp's convert_hf_to_gguf.py get_vocab_base_pre names a pre-tokenizer by hashing the ids the tokenizer
 * gives for a check text; onebit has no transformers to run, so it reads the pre-tokenizer's structure instead
 * and knows the two regexes whose llama.cpp pre-types it reproduces (gguf-pre-tokenizers.ts):
 *
 *   ByteLevel { use_regex: true }                       GPT-2's regex (HF tokenizers byte_level.rs) → "gpt-2"
 *   Sequence [ Split { Regex: LLaMA-3's, Isolated },     → "llama-bpe" with model.ignore_merges true
 *              ByteLevel { use_regex: false } ]            (meta-llama/Meta-Llama-3-8B), "smaug-bpe" without it
 *                                                          (llama.cpp runs the same regex without ignore_merges)
 *
 * A Split + ByteLevel sequence with GPT-2's regex is GPT-2's pre-tokenizer too. Any other regex (Qwen2's,
 * DeepSeek's, …), a ByteLevel that adds a prefix space, or any other pre-tokenizer is refused by name: llama.cpp
 * would need a pre name onebit cannot vouch for.
 */
import { ModelFileError } from "../weights/weight-source";
import { GGUF_PRE_TOKENIZERS } from "./gguf-pre-tokenizers";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** HF tokenizers src/pre_tokenizers/byte_level.rs: the regex ByteLevel { use_regex: true } splits by. */
export const GPT2_SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** meta-llama/Meta-Llama-3-8B tokenizer.json pre_tokenizer.pretokenizers[0].pattern.Regex (llama-vocab.cpp LLAMA3). */
export const LLAMA3_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
};

function checkByteLevel(bl: unknown, file: string, field: string, useRegex: boolean): void {
  if (!isObject(bl) || bl.type !== "ByteLevel") throw new ModelFileError(file, field, `expected a ByteLevel pre-tokenizer, found ${show(bl)}`);
  // llama.cpp's byte-level BPE never prepends a space to the text
  if (bl.add_prefix_space !== false) throw new ModelFileError(file, `${field}.add_prefix_space`, `expected false (llama.cpp adds no prefix space), found ${show(bl.add_prefix_space)}`);
  const found = bl.use_regex ?? true; // byte_level.rs: #[serde(default = "default_true")]
  if (found !== useRegex)
    throw new ModelFileError(
      file,
      `${field}.use_regex`,
      `expected ${useRegex} (${useRegex ? "a ByteLevel alone splits by GPT-2's regex" : "after a Split, ByteLevel must not split again"}), found ${show(bl.use_regex)}`,
    );
}

/** The regex a tokenizer.json's pre_tokenizer splits text by before its bytes become GPT-2 characters. */
function splitRegex(pre: unknown, file: string): string {
  if (!isObject(pre)) throw new ModelFileError(file, "pre_tokenizer", `expected a ByteLevel pre-tokenizer or a Split + ByteLevel sequence, found ${show(pre)}`);
  if (pre.type === "ByteLevel") {
    checkByteLevel(pre, file, "pre_tokenizer", true);
    return GPT2_SPLIT_REGEX;
  }
  if (pre.type !== "Sequence") throw new ModelFileError(file, "pre_tokenizer.type", `expected "ByteLevel" or "Sequence" (Split + ByteLevel), found ${show(pre.type)}`);
  const list = pre.pretokenizers;
  if (!Array.isArray(list) || list.length !== 2)
    throw new ModelFileError(file, "pre_tokenizer.pretokenizers", `expected [Split, ByteLevel], found ${Array.isArray(list) ? `${list.length} pre-tokenizers (${list.map((p) => (isObject(p) ? p.type : p)).join(", ")})` : show(list)}`);
  const [split, bl] = list as unknown[];
  const f = "pre_tokenizer.pretokenizers[0]";
  if (!isObject(split) || split.type !== "Split") throw new ModelFileError(file, f, `expected a Split, found ${show(split)}`);
  const regex = isObject(split.pattern) ? split.pattern.Regex : undefined;
  if (typeof regex !== "string") throw new ModelFileError(file, `${f}.pattern`, `expected {"Regex": "…"}, found ${show(split.pattern)}`);
  if (split.behavior !== "Isolated") throw new ModelFileError(file, `${f}.behavior`, `expected "Isolated" (each match a piece, as llama.cpp splits), found ${show(split.behavior)}`);
  if (split.invert !== false && split.invert !== undefined) throw new ModelFileError(file, `${f}.invert`, `expected false, found ${show(split.invert)}`);
  checkByteLevel(bl, file, "pre_tokenizer.pretokenizers[1]", false);
  return regex;
}

/** The tokenizer.ggml.pre name for a tokenizer.json (its pre_tokenizer and model.ignore_merges). */
export function ggufPreForHfTokenizer(json: Json, file: string): string {
  const regex = splitRegex(json.pre_tokenizer, file);
  const model = json.model as Json;
  const ignore = model.ignore_merges ?? false;
  if (typeof ignore !== "boolean") throw new ModelFileError(file, "model.ignore_merges", `expected a bool, found ${show(ignore)}`);
  if (regex === GPT2_SPLIT_REGEX) {
    if (ignore)
      throw new ModelFileError(file, "model.ignore_merges", `expected false with GPT-2's regex: no llama.cpp pre-tokenizer runs GPT-2's regex with ignore_merges, found true`);
    return "gpt-2";
  }
  if (regex === LLAMA3_SPLIT_REGEX) return ignore ? "llama-bpe" : "smaug-bpe";
  throw new ModelFileError(
    file,
    "pre_tokenizer",
    `splits by ${show(regex)}, which has no llama.cpp pre-tokenizer name onebit reproduces: expected GPT-2's regex ("gpt-2") or LLaMA-3's ("llama-bpe"); llama.cpp's convert_hf_to_gguf.py names others by a hash of their output`,
  );
}

/** The tokenizer.json pre_tokenizer and model.ignore_merges that tokenize as tokenizer.ggml.pre `name` does. */
export function hfPreTokenizerForGguf(name: string, file: string, field: string): { preTokenizer: Json; ignoreMerges: boolean } {
  const pre = GGUF_PRE_TOKENIZERS.get(name);
  if (!pre) throw new ModelFileError(file, field, `expected a pre-tokenizer onebit reproduces (${[...GGUF_PRE_TOKENIZERS.keys()].join(", ")}), found ${JSON.stringify(name)}`);
  if (pre.type === "gpt2") return { preTokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }, ignoreMerges: pre.ignoreMerges };
  if (pre.type === "llama3")
    return {
      preTokenizer: {
        type: "Sequence",
        pretokenizers: [
          { type: "Split", pattern: { Regex: LLAMA3_SPLIT_REGEX }, behavior: "Isolated", invert: false },
          { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      },
      ignoreMerges: pre.ignoreMerges,
    };
  throw new ModelFileError(
    file,
    field,
    `${JSON.stringify(name)} is llama.cpp's fallback pre-tokenizer (several regexes in turn, for a missing or unknown name); onebit writes no tokenizer.json for it: name the vocabulary's real pre-tokenizer (e.g. "llama-bpe" for a LLaMA-3 vocabulary)`,
  );
}
