/**
 * A tokenizer built from a GGUF file's tokenizer metadata, encoding as llama.cpp does for byte-level BPE
 * vocabularies (tokenizer.ggml.model "gpt2"; src/llama-vocab.cpp llama_vocab::impl::load, tokenize,
 * token_to_piece):
 *
 *   1. special tokens are cut out of the text (special-token-split.ts): user-defined tokens always; control and
 *      unknown tokens only with parseSpecial (llama_tokenize's parse_special);
 *   2. each remaining fragment is pre-tokenized by the tokenizer.ggml.pre regexes (gguf-pre-tokenizers.ts);
 *   3. each piece's UTF-8 bytes become GPT-2 byte characters (bytes-to-unicode.ts) and are merged by rank
 *      (bpe-word-encoder.ts).
 *
 * parseSpecial defaults to false: the same text gives the same ids as llama.cpp's llama_tokenize(...,
 * parse_special = false), common_tokenize's default, which llama-perplexity uses. Note that the llama-tokenize
 * tool parses special tokens unless given --no-parse-special, and llama-server does for prompts; text holding
 * "<|eot_id|>" literally tokenizes differently there.
 *
 * Everything is validated when loading, with errors naming the file and key: the vocabulary type and
 * pre-tokenizer (unsupported ones are refused by name), array types and lengths, token types, duplicate tokens,
 * merges that name missing tokens, special-token ids out of range, and BOS being asked for but not named.
 */
import { ModelFileError } from "../weights/weight-source";
import { BpeWordEncoder } from "./bpe-word-encoder";
import { GgufStringArray, rawStringArray } from "../gguf/gguf-string-array";
import { BYTE_TO_CHAR, CODE_TO_BYTE, textToUnicode, unicodeToBytes } from "./bytes-to-unicode";
import { END_OF_GENERATION_TEXTS, endOfGenerationIds } from "./end-of-generation";
import { MergeTable } from "./merge-table";
import { TokenIdTable } from "./token-id-table";
import { type GgufMetadata, metaBool, metaIntArray, metaString, metaStringArray, metaTokenId } from "./gguf-metadata-values";
import { GGUF_PRE_TOKENIZERS, type GgufPreTokenizer } from "./gguf-pre-tokenizers";
import { GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { bySplitPriority, type SpecialToken, splitOnSpecialTokens } from "./special-token-split";
import { checkTokenIds, type EncodeOptions, type Tokenizer } from "./tokenizer";
import { ModelInputError } from "../model-input-error";

// llama.cpp's token attributes (include/llama.h llama_token_attr), as far as encoding and decoding read them
const ATTR_UNKNOWN = 1 << 1;
const ATTR_UNUSED = 1 << 2;
const ATTR_NORMAL = 1 << 3;
const ATTR_CONTROL = 1 << 4;
const ATTR_USER_DEFINED = 1 << 5;
const ATTR_BYTE = 1 << 6;
const ATTR_OF_TYPE = [0, ATTR_NORMAL, ATTR_UNKNOWN, ATTR_CONTROL, ATTR_USER_DEFINED, ATTR_UNUSED, ATTR_BYTE];

export interface GgufVocabOptions {
  /**
   * Use this tokenizer.ggml.pre instead of the file's, as llama.cpp's --override-kv tokenizer.ggml.pre=str:NAME
   * does. BitNet-2B4T's official GGUF has no tokenizer.ggml.pre although its vocabulary is LLaMA-3's: "llama-bpe"
   * tokenizes it as its tokenizer.json does.
   */
  pre?: string;
}

const utf8Decoder = new TextDecoder();

/** A string array's UTF-8 bytes: a GgufSource's as read, or a plain map's strings encoded; type errors as metaStringArray's. */
function stringArray(meta: GgufMetadata, key: string, file: string): GgufStringArray | undefined {
  const raw = rawStringArray(meta, key);
  if (raw) return raw;
  const strings = metaStringArray(meta, key, file);
  return strings === undefined ? undefined : GgufStringArray.fromStrings(strings);
}

/** The byte two ASCII hex digits spell, or -1. */
function hexByte(hi: number, lo: number): number {
  const d = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);
  const h = d(hi);
  const l = d(lo);
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

/**
 * The merges ("left right", rank = index) as (left id, right id) → (rank, merged id), every token checked to be in
 * the vocabulary in rank order (so the first bad merge is the one named), then put in the table at once
 * (MergeTable.addAll). A vocabulary built by its merges (GPT-2, LLaMA-3) lists each new token right after the
 * previous new one, so the token after the largest merged id so far is compared first (a sequential read, where the
 * hash lookup is a cache miss); any other merged token is looked up.
 */
function buildMergeTable(merges: GgufStringArray, ids: TokenIdTable, n: number, file: string): MergeTable {
  const { bytes: mb, starts: ms } = merges;
  const count = merges.length;
  const lefts = new Int32Array(count);
  const rights = new Int32Array(count);
  const mergedIds = new Int32Array(count);
  let next = 0;
  for (let i = 0; i < count; i++) {
    const s = ms[i]!;
    const e = ms[i + 1]!;
    // llama.cpp: word.find(' ', 1); a space is one byte and never part of another character's bytes
    let cut = s + 1;
    while (cut < e && mb[cut] !== 0x20) cut++;
    if (cut >= e) throw new ModelFileError(file, `${K.merges}[${i}]`, `expected "left right", found ${JSON.stringify(merges.get(i))}`);
    const a = ids.range(mb, s, cut);
    const b = ids.range(mb, cut + 1, e);
    const merged = a === undefined || b === undefined ? undefined : next < n && ids.matches(next, mb, s, cut, cut + 1, e) ? next : ids.concat(mb, s, cut, cut + 1, e);
    if (merged === undefined) {
      const m = merges.get(i);
      const c = m.indexOf(" ", 1);
      const left = m.slice(0, c);
      const right = m.slice(c + 1);
      const [what, t] = a === undefined ? ["left", left] : b === undefined ? ["right", right] : ["merged", left + right];
      throw new ModelFileError(file, `${K.merges}[${i}]`, `${JSON.stringify(m)}: the ${what} token ${JSON.stringify(t)} is not in ${K.tokens}`);
    }
    if (merged >= next) next = merged + 1;
    lefts[i] = a!;
    rights[i] = b!;
    mergedIds[i] = merged;
  }
  const table = new MergeTable(count);
  table.addAll(lefts, rights, mergedIds); // the first occurrence of a pair ranks, as bpe_ranks.emplace keeps it
  return table;
}

export class GgufVocab implements Tokenizer {
  readonly kind = "gguf-bpe";
  readonly vocabSize: number;
  /** The tokenizer.ggml.pre name used and llama.cpp's pre-type for it. */
  readonly pre: string;
  readonly preType: GgufPreTokenizer["type"];
  /** What was read but deserves a word to the user (a missing tokenizer.ggml.pre); empty when nothing. */
  readonly warnings: readonly string[];

  private constructor(
    readonly file: string,
    private readonly tokens: GgufStringArray,
    private readonly attrs: Uint8Array,
    /** Token i decodes to pieceBytes[pieceStarts[i], pieceStarts[i + 1]) (llama.cpp's token_to_piece). */
    private readonly pieceBytes: Uint8Array,
    private readonly pieceStarts: Int32Array,
    private readonly preTokenizer: GgufPreTokenizer,
    private readonly words: BpeWordEncoder,
    private readonly specialsAll: readonly SpecialToken[],
    private readonly specialsUserDefined: readonly SpecialToken[],
    readonly bosId: number | undefined,
    readonly eosId: number | undefined,
    readonly padId: number | undefined,
    readonly eosIds: readonly number[],
    readonly addBos: boolean,
    readonly addEos: boolean,
    readonly chatTemplate: string | undefined,
    pre: string,
    warnings: string[],
  ) {
    this.vocabSize = tokens.length;
    this.pre = pre;
    this.preType = preTokenizer.type;
    this.warnings = warnings;
  }

  static fromMetadata(meta: GgufMetadata, file: string, options: GgufVocabOptions = {}): GgufVocab {
    const model = metaString(meta, K.model, file);
    if (model === undefined) throw new ModelFileError(file, K.model, "missing: the file has no tokenizer");
    if (model === "llama")
      throw new ModelFileError(file, K.model, `expected "gpt2" (byte-level BPE), found "llama" (a SentencePiece vocabulary, which onebit does not read)`);
    if (model !== "gpt2") throw new ModelFileError(file, K.model, `expected "gpt2" (byte-level BPE), found ${JSON.stringify(model)}`);

    const warnings: string[] = [];
    let pre = options.pre ?? metaString(meta, K.pre, file);
    if (pre === undefined) {
      pre = "default";
      warnings.push(
        `${file}: ${K.pre} is missing; using llama.cpp's "default" pre-tokenizer as llama.cpp does ("GENERATION QUALITY WILL BE DEGRADED"); pass the right name (e.g. "llama-bpe" for a LLaMA-3 vocabulary) to override it`,
      );
    }
    const preTokenizer = GGUF_PRE_TOKENIZERS.get(pre);
    if (!preTokenizer)
      throw new ModelFileError(
        file,
        options.pre !== undefined ? `${K.pre} (override)` : K.pre,
        `expected a pre-tokenizer onebit reproduces (${[...GGUF_PRE_TOKENIZERS.keys()].join(", ")}), found ${JSON.stringify(pre)}`,
      );

    // the tokens and merges as UTF-8 bytes, not strings: straight from a GgufSource (no string is made for them), or
    // encoded from a plain map's arrays
    const tokens = stringArray(meta, K.tokens, file);
    if (tokens === undefined) throw new ModelFileError(file, K.tokens, "missing");
    if (tokens.length === 0) throw new ModelFileError(file, K.tokens, "expected at least one token, found an empty array");
    const n = tokens.length;
    const { bytes: tb, starts: ts } = tokens;
    const ids = new TokenIdTable(tokens); // lookups by byte range: no string per token or merge (token-id-table.ts)
    // the first empty or repeated token is refused, whichever comes first (as one pass over the tokens finds it)
    let empty = -1;
    for (let i = 0; i < n; i++)
      if (ts[i] === ts[i + 1]) {
        empty = i;
        break;
      }
    const repeat = ids.firstRepeat;
    if (empty >= 0 && (repeat === undefined || empty < repeat.id)) throw new ModelFileError(file, `${K.tokens}[${empty}]`, "expected a token, found the empty string");
    if (repeat !== undefined)
      throw new ModelFileError(file, `${K.tokens}[${repeat.id}]`, `duplicate token ${JSON.stringify(tokens.get(repeat.id))} (also id ${repeat.of}); llama.cpp refuses such a vocabulary`);

    const types = metaIntArray(meta, K.tokenType, file);
    if (types === undefined) throw new ModelFileError(file, K.tokenType, "missing (one type per token is required)");
    if (types.length !== n) throw new ModelFileError(file, K.tokenType, `expected ${n} types (one per token of ${K.tokens}), found ${types.length}`);
    const attrs = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const t = types[i]!;
      if (t < 0 || t >= ATTR_OF_TYPE.length) throw new ModelFileError(file, `${K.tokenType}[${i}]`, `expected a token type 0…6, found ${t}`);
      attrs[i] = ATTR_OF_TYPE[t]!;
    }
    // end-of-turn texts are control tokens whatever their stored type (llama-vocab.cpp's EOG detection)
    for (const text of END_OF_GENERATION_TEXTS) {
      const id = ids.get(text);
      if (id !== undefined) attrs[id] = attrs[id]! | ATTR_CONTROL;
    }

    // each token's bytes for decode, back to back: a byte-level token's characters mapped back to bytes (one per
    // character), a user-defined token's UTF-8 as stored, a byte token's byte, nothing for the others
    const pieceStarts = new Int32Array(n + 1);
    const pieceBytes = new Uint8Array(tb.length);
    let at = 0;
    for (let i = 0; i < n; i++) {
      pieceStarts[i] = at;
      const a = attrs[i]!;
      const s = ts[i]!;
      const e = ts[i + 1]!;
      if (a & (ATTR_UNKNOWN | ATTR_CONTROL)) continue;
      if (a & ATTR_USER_DEFINED) {
        for (let j = s; j < e; j++) pieceBytes[at++] = tb[j]!;
      } else if (a & ATTR_NORMAL) {
        // GPT-2 byte characters are U+0021 … U+0143: one or two UTF-8 bytes each
        for (let j = s; j < e; ) {
          const b0 = tb[j]!;
          let code = -1;
          if (b0 < 0x80) {
            code = b0;
            j++;
          } else if (b0 >= 0xc2 && b0 <= 0xc7) {
            code = ((b0 & 0x1f) << 6) | (tb[j + 1]! & 0x3f);
            j += 2;
          }
          const byte = code < 0 ? -1 : CODE_TO_BYTE[code]!;
          if (byte < 0) {
            const t = tokens.get(i);
            const bad = unicodeToBytes(t) as { badIndex: number };
            const cp = t.codePointAt(bad.badIndex)!;
            throw new ModelFileError(
              file,
              `${K.tokens}[${i}]`,
              `a normal token of a byte-level vocabulary must be GPT-2 byte characters; found ${JSON.stringify(t)} (U+${cp.toString(16).toUpperCase().padStart(4, "0")} at index ${bad.badIndex})`,
            );
          }
          pieceBytes[at++] = byte;
        }
      } else if (a & ATTR_BYTE) {
        const byte = e - s === 6 && tb[s] === 0x3c && tb[s + 1] === 0x30 && tb[s + 2] === 0x78 && tb[s + 5] === 0x3e ? hexByte(tb[s + 3]!, tb[s + 4]!) : -1;
        if (byte < 0) throw new ModelFileError(file, `${K.tokens}[${i}]`, `a byte token (type 6) must read <0xXX>, found ${JSON.stringify(tokens.get(i))}`);
        pieceBytes[at++] = byte;
      } // unused, undefined: llama.cpp's token_to_piece gives nothing
    }
    pieceStarts[n] = at;

    const merges = stringArray(meta, K.merges, file);
    if (merges === undefined) throw new ModelFileError(file, K.merges, `missing (a "gpt2" vocabulary needs its merges)`);
    const mergeTable = buildMergeTable(merges, ids, n, file);
    const charToId = new Map<string, number>();
    for (const c of BYTE_TO_CHAR) {
      const id = ids.get(c);
      if (id !== undefined) charToId.set(c, id);
    }

    const bosId = metaTokenId(meta, K.bosId, file, n);
    const eosId = metaTokenId(meta, K.eosId, file, n);
    const eotId = metaTokenId(meta, K.eotId, file, n);
    const eomId = metaTokenId(meta, K.eomId, file, n);
    const padId = metaTokenId(meta, K.paddingId, file, n);
    metaTokenId(meta, K.unknownId, file, n); // validated; a byte-level vocabulary needs no unknown token
    const addBos = metaBool(meta, K.addBos, file) ?? preTokenizer.addBos;
    const addEos = metaBool(meta, K.addEos, file) ?? false;
    if (addBos && bosId === undefined)
      throw new ModelFileError(
        file,
        K.bosId,
        `missing, but BOS is to be added (${meta.has(K.addBos) ? `${K.addBos} is true` : `pre-tokenizer "${pre}" adds it by default`}); llama.cpp would guess id 11`,
      );
    if (addEos && eosId === undefined) throw new ModelFileError(file, K.eosId, `missing, but ${K.addEos} is true`);
    const chatTemplate = metaString(meta, K.chatTemplate, file);

    const specialsAll: SpecialToken[] = [];
    for (let i = 0; i < n; i++) if (attrs[i]! & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) specialsAll.push({ id: i, text: tokens.get(i) });
    const sorted = bySplitPriority(specialsAll);
    const userDefined = sorted.filter((s) => !(attrs[s.id]! & (ATTR_CONTROL | ATTR_UNKNOWN)));

    return new GgufVocab(
      file,
      tokens,
      attrs,
      pieceBytes.slice(0, at),
      pieceStarts,
      preTokenizer,
      new BpeWordEncoder(ids, charToId, mergeTable, preTokenizer.ignoreMerges, `${file}: ${K.tokens}`),
      sorted,
      userDefined,
      bosId,
      eosId,
      padId,
      endOfGenerationIds([eosId, eotId, eomId], ids),
      addBos,
      addEos,
      chatTemplate,
      pre,
      warnings,
    );
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.bos ?? this.addBos) {
      if (this.bosId === undefined) throw new ModelInputError(`${this.file}: encode: BOS asked for, but ${K.bosId} is not set`);
      out.push(this.bosId);
    }
    for (const fragment of splitOnSpecialTokens(text, options.parseSpecial ? this.specialsAll : this.specialsUserDefined)) {
      if (typeof fragment === "number") out.push(fragment);
      else for (const piece of this.preTokenizer.split(fragment)) this.words.encodeWord(textToUnicode(piece), out);
    }
    if (options.eos ?? this.addEos) {
      if (this.eosId === undefined) throw new ModelInputError(`${this.file}: encode: EOS asked for, but ${K.eosId} is not set`);
      out.push(this.eosId);
    }
    return out;
  }

  /** As llama.cpp's token_to_piece(special = false) per token, bytes joined before one UTF-8 decode. */
  decode(ids: ArrayLike<number>): string {
    checkTokenIds(ids, this.vocabSize);
    const { pieceBytes, pieceStarts } = this;
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += pieceStarts[ids[i]! + 1]! - pieceStarts[ids[i]!]!;
    const all = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) for (let j = pieceStarts[ids[i]!]!, e = pieceStarts[ids[i]! + 1]!; j < e; j++) all[at++] = pieceBytes[j]!;
    return utf8Decoder.decode(all);
  }

  tokenToString(id: number): string {
    checkTokenIds([id], this.vocabSize, "tokenToString id");
    return this.tokens.get(id);
  }

  /** Whether llama.cpp treats the token as a control token (stored type 3, or an end-of-turn text). */
  isControl(id: number): boolean {
    return (this.attrs[id]! & ATTR_CONTROL) !== 0;
  }
}
