/**
 * onebit's own byte-level BPE (../bpe-tokenizer.ts) seen through the Tokenizer interface.
 *
 * addBos is true although BpeTokenizer.encode adds BOS only when asked: every onebit caller asks. Training
 * encodes each document as BOS … EOS (packages/train/src/token-rows.ts), and `generate`, `eval`, `inspect`
 * and `demo` encode with { bos: true } (`chat` prepends the BOS id itself). So a onebit model has always seen
 * BOS first, and the default here — like add_bos_token in the GGUF and tokenizer.json onebit writes — says so.
 */
import { type BpeTokenizer, SPECIAL_TOKENS } from "../bpe-tokenizer";
import { bytesToUnicode } from "./bytes-to-unicode";
import { onebitTokenBytes } from "./onebit-vocabulary";
import type { EncodeOptions, Tokenizer } from "./tokenizer";
import { ModelInputError } from "../model-input-error";

export class OnebitBpeTokenizer implements Tokenizer {
  readonly kind = "onebit-bpe";
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly eosIds: readonly number[];
  readonly addBos = true;
  readonly addEos = false;
  readonly chatTemplate = undefined;
  private tokenBytes?: Uint8Array[];

  constructor(readonly bpe: BpeTokenizer) {
    this.vocabSize = bpe.vocabSize;
    this.bosId = bpe.bosId;
    this.eosId = bpe.eosId;
    this.padId = bpe.padId;
    this.eosIds = [bpe.eosId];
  }

  /**
   * parseSpecial is accepted and has no effect: onebit's BPE never reads "<bos>" in text as a token (its
   * pre-tokenizer splits "<", "bos", ">" apart), so a onebit model has never seen a special token mid-text.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.bpe.encode(text, { bos: options.bos ?? this.addBos, eos: options.eos ?? this.addEos });
  }

  decode(ids: ArrayLike<number>): string {
    return this.bpe.decode(ids);
  }

  /** Special tokens by name; the others as byte-level characters, the form the GGUF and tokenizer.json exports store. */
  tokenToString(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new ModelInputError(`tokenToString: expected a token id in [0, ${this.vocabSize}), found ${id}`);
    if (id < SPECIAL_TOKENS.length) return SPECIAL_TOKENS[id]!;
    this.tokenBytes ??= onebitTokenBytes(this.bpe);
    return bytesToUnicode(this.tokenBytes[id]!);
  }
}
