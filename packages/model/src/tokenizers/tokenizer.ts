/**
 * What every model tokenizer onebit reads offers the generator, the trainer and the CLI: onebit's own byte-level
 * BPE (onebit-bpe-adapter.ts), a GGUF file's vocabulary (gguf-vocab.ts) and a Hugging Face tokenizer.json
 * (hf-tokenizer.ts).
 */
import { ModelInputError } from "../model-input-error";

export interface EncodeOptions {
  /** Prepend the BOS token. Defaults to `addBos`, what the tokenizer file asks for. */
  bos?: boolean;
  /** Append the EOS token. Defaults to `addEos`. */
  eos?: boolean;
  /**
   * Turn control-token text in the input (e.g. "<|eot_id|>") into the control token. Default false: user text
   * cannot forge control tokens, as llama.cpp's llama_tokenize(..., parse_special = false) and common_tokenize's
   * default (what llama-perplexity uses). A rendered chat template needs true. User-defined tokens (GGUF type 4,
   * tokenizer.json added tokens with special: false) are always matched, as in llama.cpp and HF tokenizers.
   */
  parseSpecial?: boolean;
}

export interface Tokenizer {
  /** Which implementation: "onebit-bpe", "gguf-bpe" or "hf-tokenizer-json". */
  readonly kind: string;
  /** One more than the largest token id (the model's embedding may have more rows than this). */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** Every id that ends generation: EOS and the end-of-turn tokens the vocabulary has (e.g. <|eot_id|>). */
  readonly eosIds: readonly number[];
  /** Whether encode() prepends BOS when not told otherwise, as the tokenizer file says. */
  readonly addBos: boolean;
  /** Whether encode() appends EOS when not told otherwise, as the tokenizer file says. */
  readonly addEos: boolean;
  /** The Jinja chat template the file carries, if any. */
  readonly chatTemplate?: string;
  encode(text: string, options?: EncodeOptions): number[];
  /** Token ids → text. Control tokens (BOS, EOS, <|eot_id|>, …) decode to nothing; bytes join before UTF-8 decoding. */
  decode(ids: ArrayLike<number>): string;
  /** A token as its vocabulary stores it ("Ġthe", "<|eot_id|>"), for display and chat-template variables. */
  tokenToString?(id: number): string;
}

/** Throws unless every id is an integer in [0, vocabSize): the message names the position and the value. */
export function checkTokenIds(ids: ArrayLike<number>, vocabSize: number, what = "decode ids"): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new ModelInputError(`${what}[${i}]: expected a token id in [0, ${vocabSize}), found ${id}`);
  }
}
