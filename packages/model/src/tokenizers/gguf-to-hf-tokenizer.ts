/**
 * A GGUF byte-level BPE vocabulary (tokenizer.ggml.model "gpt2") as a Hugging Face tokenizer.json +
 * tokenizer_config.json: the inverse of hf-to-gguf-tokenizer.ts, so that HF tokenizers (transformers'
 * PreTrainedTokenizerFast), tokenizers.js and llama.cpp's convert_hf_to_gguf.py read it as llama.cpp reads the
 * GGUF (src/llama-vocab.cpp):
 *
 *   model: BPE over the GPT-2 byte characters, merges "left right" in rank order, ignore_merges as the pre name
 *     sets it in llama.cpp (the llama3 group); pre_tokenizer: the regex of tokenizer.ggml.pre
 *     (hf-pre-tokenizer-names.ts); decoder: ByteLevel
 *   added_tokens: control (and unknown) tokens, and end-of-turn texts llama.cpp makes control whatever their type
 *     (end-of-generation.ts), with "special": true — matched in text only when special tokens
 *     are parsed, as llama.cpp's parse_special — user-defined tokens with "special": false, always matched. They
 *     are also in model.vocab under their own ids, as GPT-2's <|endoftext|> is: HF tokenizers' AddedVocabulary
 *     keeps the id of a token the model has and numbers any other from the model's size, which a vocabulary with
 *     control tokens between normal ones (or unused ids) would break
 *   unused tokens (type 5: convert_hf_to_gguf.py's "[PAD{id}]" fill up to vocab_size) are left out; their ids
 *     stay gaps, as in the tokenizer.json the GGUF was made from
 *   post_processor: ByteLevel, then a TemplateProcessing putting BOS first / EOS last when tokenizer.ggml.add_bos_token
 *     / add_eos_token say so (absent: llama.cpp's default for the pre name), LLaMA-3's layout
 *   tokenizer_config.json: add_bos_token / add_eos_token, the bos/eos/unk/pad/sep/cls/mask token texts, the chat
 *     template (named ones as a list of {name, template}), added_tokens_decoder
 *
 * Refused by file and key: another tokenizer model, a missing or unreproduced tokenizer.ggml.pre (llama.cpp's
 * "default" fallback has no tokenizer.json form; `pre` overrides it as GgufVocabOptions does), token types 0 and 6,
 * normal tokens that are not GPT-2 byte characters, duplicate tokens, malformed merges, special ids naming an
 * unused token, and BOS/EOS to be added without an id. What tokenizer.json cannot hold (an EOT/EOM id whose text
 * llama.cpp would not recognise as end of turn, other tokenizer.* keys) is listed in `notes`.
 */
import { ModelFileError } from "../weights/weight-source";
import { firstNonByteChar } from "./bytes-to-unicode";
import { END_OF_GENERATION_TEXTS } from "./end-of-generation";
import { type GgufMetadata, metaBool, metaIntArray, metaString, metaStringArray, metaTokenId } from "./gguf-metadata-values";
import { GGUF_PRE_TOKENIZERS } from "./gguf-pre-tokenizers";
import { chatTemplateKey, GGUF_TOKEN_TYPE, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { hfPreTokenizerForGguf } from "./hf-pre-tokenizer-names";

export interface GgufToHfOptions {
  /** Use this tokenizer.ggml.pre instead of the file's (GgufVocabOptions.pre, llama.cpp's --override-kv). */
  pre?: string;
}

export interface GgufToHfResult {
  /** tokenizer.json */
  tokenizer: Record<string, unknown>;
  /** tokenizer_config.json */
  tokenizerConfig: Record<string, unknown>;
  /** What the GGUF holds that the two files do not, for the user; empty when nothing. */
  notes: string[];
}

interface AddedToken {
  id: number;
  content: string;
  single_word: false;
  lstrip: false;
  rstrip: false;
  normalized: false;
  special: boolean;
}

const ID_KEYS = {
  bos_token: K.bosId,
  eos_token: K.eosId,
  unk_token: K.unknownId,
  pad_token: K.paddingId,
  sep_token: K.sepId,
  cls_token: K.clsId,
  mask_token: K.maskId,
} as const;

export function ggufTokenizerToHf(meta: GgufMetadata, file: string, options: GgufToHfOptions = {}): GgufToHfResult {
  const model = metaString(meta, K.model, file);
  if (model === undefined) throw new ModelFileError(file, K.model, "missing: the file has no tokenizer");
  if (model !== "gpt2") throw new ModelFileError(file, K.model, `expected "gpt2" (byte-level BPE), found ${JSON.stringify(model)}`);
  const pre = options.pre ?? metaString(meta, K.pre, file);
  const preField = options.pre !== undefined ? `${K.pre} (override)` : K.pre;
  if (pre === undefined)
    throw new ModelFileError(
      file,
      K.pre,
      `missing: llama.cpp then falls back to its "default" pre-tokenizer, which has no tokenizer.json form; name the vocabulary's pre-tokenizer (e.g. "llama-bpe" for a LLaMA-3 vocabulary such as BitNet-2B4T's)`,
    );
  const { preTokenizer, ignoreMerges } = hfPreTokenizerForGguf(pre, file, preField);

  const tokens = metaStringArray(meta, K.tokens, file);
  if (tokens === undefined) throw new ModelFileError(file, K.tokens, "missing");
  const n = tokens.length;
  const types = metaIntArray(meta, K.tokenType, file);
  if (types === undefined) throw new ModelFileError(file, K.tokenType, "missing (one type per token is required)");
  if (types.length !== n) throw new ModelFileError(file, K.tokenType, `expected ${n} types (one per token of ${K.tokens}), found ${types.length}`);

  const vocab = new Map<string, number>();
  const added: AddedToken[] = [];
  let unusedNotPadding = 0;
  for (let id = 0; id < n; id++) {
    const text = tokens[id]!;
    const type = types[id]!;
    if (text.length === 0) throw new ModelFileError(file, `${K.tokens}[${id}]`, "expected a token, found the empty string");
    if (type === GGUF_TOKEN_TYPE.unused) {
      if (text !== `[PAD${id}]`) unusedNotPadding++;
      continue;
    }
    if (type === GGUF_TOKEN_TYPE.normal && END_OF_GENERATION_TEXTS.has(text))
      // llama.cpp overrides an end-of-turn text's type to control (llama-vocab.cpp, "control-looking token")
      added.push({ id, content: text, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    else if (type === GGUF_TOKEN_TYPE.normal) {
      const bad = firstNonByteChar(text);
      if (bad >= 0)
        throw new ModelFileError(
          file,
          `${K.tokens}[${id}]`,
          `a normal token of a byte-level vocabulary must be GPT-2 byte characters; found ${JSON.stringify(text)} (U+${text.codePointAt(bad)!.toString(16).toUpperCase().padStart(4, "0")} at index ${bad})`,
        );
    } else if (type === GGUF_TOKEN_TYPE.control || type === GGUF_TOKEN_TYPE.unknown || type === GGUF_TOKEN_TYPE.userDefined)
      added.push({ id, content: text, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type !== GGUF_TOKEN_TYPE.userDefined });
    else
      throw new ModelFileError(
        file,
        `${K.tokenType}[${id}]`,
        `expected normal, unknown, control, user-defined or unused (1…5) in a byte-level vocabulary, found ${type} for ${JSON.stringify(text)}`,
      );
    const other = vocab.get(text);
    if (other !== undefined) throw new ModelFileError(file, `${K.tokens}[${id}]`, `duplicate token ${JSON.stringify(text)} (also id ${other}); tokenizer.json maps a token to one id`);
    vocab.set(text, id);
  }

  const merges = metaStringArray(meta, K.merges, file);
  if (merges === undefined) throw new ModelFileError(file, K.merges, `missing (a "gpt2" vocabulary needs its merges)`);
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i]!;
    const cut = m.indexOf(" ");
    const left = m.slice(0, cut);
    const right = m.slice(cut + 1);
    if (cut <= 0 || !right || right.includes(" ")) throw new ModelFileError(file, `${K.merges}[${i}]`, `expected "left right", found ${JSON.stringify(m)}`);
    if (!vocab.has(left) || !vocab.has(right) || !vocab.has(left + right)) {
      const [what, t] = !vocab.has(left) ? ["left", left] : !vocab.has(right) ? ["right", right] : ["merged", left + right];
      throw new ModelFileError(file, `${K.merges}[${i}]`, `${JSON.stringify(m)}: the ${what} token ${JSON.stringify(t)} is not a kept token of ${K.tokens}`);
    }
  }

  const ids: Partial<Record<keyof typeof ID_KEYS, number>> = {};
  for (const [field, key] of Object.entries(ID_KEYS) as [keyof typeof ID_KEYS, string][]) {
    const id = metaTokenId(meta, key, file, n);
    if (id === undefined) continue;
    if (types[id] === GGUF_TOKEN_TYPE.unused) throw new ModelFileError(file, key, `id ${id} is an unused token (type 5), which tokenizer.json leaves out`);
    ids[field] = id;
  }
  const preInfo = GGUF_PRE_TOKENIZERS.get(pre)!;
  const addBos = metaBool(meta, K.addBos, file) ?? preInfo.addBos;
  const addEos = metaBool(meta, K.addEos, file) ?? false;
  if (addBos && ids.bos_token === undefined)
    throw new ModelFileError(file, K.bosId, `missing, but BOS is to be added (${meta.has(K.addBos) ? `${K.addBos} is true` : `pre-tokenizer "${pre}" adds it by default`})`);
  if (addEos && ids.eos_token === undefined) throw new ModelFileError(file, K.eosId, `missing, but ${K.addEos} is true`);

  const notes: string[] = [];
  for (const key of [K.eotId, K.eomId]) {
    const id = metaTokenId(meta, key, file, n);
    if (id !== undefined && id !== ids.eos_token && !END_OF_GENERATION_TEXTS.has(tokens[id]!))
      notes.push(`${file}: ${key} ${id} (${JSON.stringify(tokens[id])}) has no place in tokenizer_config.json: llama.cpp stops generating at it, a reader of the tokenizer.json will not`);
  }
  if (unusedNotPadding > 0) notes.push(`${file}: ${unusedNotPadding} unused token(s) (type 5) other than convert_hf_to_gguf.py's "[PAD{id}]" are left out of tokenizer.json`);

  // tokenizer.chat_template, and named ones as gguf_writer.add_chat_template stores them
  const chatTemplate = metaString(meta, K.chatTemplate, file);
  const named: { name: string; template: string }[] = [];
  const prefix = chatTemplateKey("");
  for (const key of meta.keys())
    if (key.startsWith(prefix)) {
      const template = metaString(meta, key, file)!;
      named.push({ name: key.slice(prefix.length), template });
    }
  const known = new Set<string>([...Object.values(K), ...named.map((t) => chatTemplateKey(t.name))]);
  const other = [...meta.keys()].filter((k) => k.startsWith("tokenizer.") && !known.has(k));
  if (other.length > 0) notes.push(`${file}: not carried to tokenizer.json: ${other.join(", ")}`);

  const text = (id: number | undefined) => (id === undefined ? undefined : tokens[id]!);
  const bos = text(ids.bos_token);
  const eos = text(ids.eos_token);
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor(addBos ? [bos!, ids.bos_token!] : undefined, addEos ? [eos!, ids.eos_token!] : undefined),
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: text(ids.unk_token) ?? null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: ignoreMerges,
      vocab: Object.fromEntries(vocab), // fromEntries defines keys, so a "__proto__" token stays a token
      merges: [...merges],
    },
  };
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: "PreTrainedTokenizerFast",
    add_bos_token: addBos,
    add_eos_token: addEos,
  };
  for (const field of Object.keys(ID_KEYS) as (keyof typeof ID_KEYS)[]) {
    const t = text(ids[field]);
    if (t !== undefined || field === "bos_token" || field === "eos_token" || field === "unk_token") tokenizerConfig[field] = t ?? null;
  }
  tokenizerConfig.clean_up_tokenization_spaces = false;
  tokenizerConfig.added_tokens_decoder = Object.fromEntries(added.map(({ id, ...rest }) => [String(id), { ...rest }]));
  if (named.length > 0) tokenizerConfig.chat_template = [...(chatTemplate !== undefined ? [{ name: "default", template: chatTemplate }] : []), ...named];
  else if (chatTemplate !== undefined) tokenizerConfig.chat_template = chatTemplate;
  return { tokenizer, tokenizerConfig, notes };
}

/** LLaMA-3's layout: ByteLevel (offsets only), then BOS … EOS around each sequence as the GGUF adds them. */
function postProcessor(bos: [string, number] | undefined, eos: [string, number] | undefined): Record<string, unknown> {
  const byteLevel = { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true };
  if (!bos && !eos) return byteLevel;
  const around = (sequence: "A" | "B", typeId: number) => [
    ...(bos ? [{ SpecialToken: { id: bos[0], type_id: typeId } }] : []),
    { Sequence: { id: sequence, type_id: typeId } },
    ...(eos ? [{ SpecialToken: { id: eos[0], type_id: typeId } }] : []),
  ];
  const specials = [bos, eos].filter((s): s is [string, number] => s !== undefined);
  return {
    type: "Sequence",
    processors: [
      byteLevel,
      {
        type: "TemplateProcessing",
        single: around("A", 0),
        pair: [...around("A", 0), ...around("B", 1)],
        special_tokens: Object.fromEntries(specials.map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }])),
      },
    ],
  };
}
