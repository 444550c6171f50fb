/**
 * The tokenizer.ggml.pre names onebit reads, and what llama.cpp does for each (src/llama-vocab.cpp
 * llama_vocab::impl::load picks the pre-type and its flags; llm_tokenizer_bpe picks the regexes). Only names
 * whose every effect on encoding onebit reproduces are listed; any other name is refused by name rather than
 * tokenized almost right.
 *
 *   ignoreMerges — a pre-token that is itself a vocabulary token is emitted whole, without BPE (LLaMA-3's
 *                  tokenizer.json says "ignore_merges": true; llama.cpp sets it for the llama3 group).
 *   addBos       — llama.cpp's add_bos default, used when the file has no tokenizer.ggml.add_bos_token.
 */
import { splitDefault } from "./default-split";
import { splitGpt2 } from "./gpt2-split";
import { splitLlama3 } from "./llama3-split";

export interface GgufPreTokenizer {
  /** llama.cpp's pre-type this name maps to. */
  type: "gpt2" | "llama3" | "default";
  split: (fragment: string) => string[];
  ignoreMerges: boolean;
  addBos: boolean;
}

const gpt2: GgufPreTokenizer = { type: "gpt2", split: splitGpt2, ignoreMerges: false, addBos: false };
const llama3: GgufPreTokenizer = { type: "llama3", split: splitLlama3, ignoreMerges: true, addBos: true };
// dbrx and smaug-bpe use LLaMA-3's regex without LLaMA-3's ignore_merges and add_bos
const llama3Regex: GgufPreTokenizer = { type: "llama3", split: splitLlama3, ignoreMerges: false, addBos: false };
const fallback: GgufPreTokenizer = { type: "default", split: splitDefault, ignoreMerges: false, addBos: false };

export const GGUF_PRE_TOKENIZERS: ReadonlyMap<string, GgufPreTokenizer> = new Map([
  // LLAMA_VOCAB_PRE_TYPE_LLAMA3 with ignore_merges = true, add_bos = true
  ...["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"].map((n) => [n, llama3] as const),
  ["dbrx", llama3Regex],
  ["smaug-bpe", llama3Regex],
  // LLAMA_VOCAB_PRE_TYPE_GPT2 and the pre-types llm_tokenizer_bpe gives the same single GPT-2 regex
  // (mpt, olmo, jais, trillion, granite-docling); their other flags only change detokenize's space clean-up
  ...["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "a.x-4.0", "mellum", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling"].map(
    (n) => [n, gpt2] as const,
  ),
  ["default", fallback],
]);
