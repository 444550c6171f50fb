/**
 * A Hugging Face byte-level BPE tokenizer.json (with its tokenizer_config.json) as GGUF tokenizer metadata: the
 * keys llama.cpp's convert_hf_to_gguf.py writes for it (_set_vocab_gpt2 → get_vocab_base, then gguf-py vocab.py
 * SpecialVocab.add_to_gguf), read back by src/llama-vocab.cpp:
 *
 *   tokenizer.ggml.model "gpt2"; tokenizer.ggml.pre named from the pre-tokenizer (hf-pre-tokenizer-names.ts)
 *   tokenizer.ggml.tokens by id from model.vocab and added_tokens; ids the tokenizer lacks, up to the model's
 *     vocab_size, are "[PAD{id}]" (get_vocab_base's padding)
 *   tokenizer.ggml.token_type normal for the BPE vocabulary, unused for the padding; an added token is control
 *     when "special" or when does_token_look_special says its text looks special ("<|…|>", "<｜…｜>",
 *     "<unused…>", "<pad>", "<mask>", "<2mass>", "[@BOS@]"), user-defined otherwise
 *   tokenizer.ggml.merges "left right" in rank order (transformers ≥ 4.45's [left, right] pairs joined)
 *   bos/eos/unk/seperator/padding/cls/mask ids: tokenizer_config.json's "<kind>_token"; BOS and EOS also from
 *     the post-processor's template (SpecialVocab's "crude parsing of TemplateProcessing")
 *   tokenizer.ggml.add_bos_token / add_eos_token: whether the post-processor adds them. Always written: SpecialVocab
 *     writes them only when it finds a template or a config flag, and without the key llama.cpp defaults by pre
 *     name ("llama-bpe" adds BOS), which need not be what the tokenizer.json does
 *   tokenizer.chat_template from tokenizer_config.json; a list of named templates as gguf_writer.add_chat_template
 *     stores it ("default" under tokenizer.chat_template, each other under tokenizer.chat_template.<name>, the
 *     names in tokenizer.chat_templates)
 *
 * What llama.cpp would tokenize differently from the tokenizer.json is refused, naming the file and field:
 * anything but byte-level BPE (byte_fallback, subword prefixes, dropout, a normalizer, a non-ByteLevel decoder), a
 * pre-tokenizer without a name onebit reproduces, added tokens with lstrip/rstrip/single_word (llama.cpp honours
 * them only for a few models it names), a user-defined token holding "▁" (get_vocab_base turns it into a space),
 * ids at or past vocab_size, one id with two texts or one text with two ids, normal tokens that are not GPT-2 byte
 * characters, merges of missing tokens, and a tokenizer_config.json whose add_*_token, bos_token or eos_token
 * contradicts the post-processor (SpecialVocab then drops add_bos or moves EOS to EOT; HfTokenizer reads such a
 * file otherwise, so the two would disagree).
 *
 * Two differences are kept, as convert_hf_to_gguf.py and llama.cpp keep them, and reported in `notes`: an added
 * token marked "special": false whose text looks special becomes a control token, which llama.cpp matches in text
 * only when parsing special tokens, while HF tokenizers always match it; and a normal token whose text is an
 * end-of-turn text (end-of-generation.ts, e.g. "</s>") is made a control token by llama.cpp when it loads the file.
 */
import { ModelFileError } from "../weights/weight-source";
import { firstNonByteChar } from "./bytes-to-unicode";
import { END_OF_GENERATION_TEXTS } from "./end-of-generation";
import { chatTemplateKey, GGUF_TOKEN_TYPE, GGUF_TOKENIZER_KEYS as K } from "./gguf-tokenizer-keys";
import { postProcessorTemplate } from "./hf-post-processor";
import { ggufPreForHfTokenizer } from "./hf-pre-tokenizer-names";
import { configChatTemplates, configFlag, configTokenText } from "./hf-tokenizer-config";
import { ModelInputError } from "../model-input-error";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

export interface HfToGgufOptions {
  /** tokenizer_config.json, parsed. */
  config?: unknown;
  /** Its name, for errors (default "tokenizer_config.json"). */
  configFile?: string;
  /** The model's embedding rows (config.json vocab_size); default: one more than the largest token id. */
  vocabSize?: number;
}

/** A GGUF key with its on-disk type; structurally a GgufKv of the GGUF writer. */
export interface GgufTokenizerField {
  key: string;
  type: "string" | "u32" | "bool" | "string[]" | "i32[]";
  value: string | number | boolean | string[] | Int32Array;
}

export interface HfToGgufResult {
  fields: GgufTokenizerField[];
  /** What llama.cpp will do differently from the tokenizer.json, for the user; empty when nothing. */
  notes: string[];
}

/** convert_hf_to_gguf.py does_token_look_special. */
export function doesTokenLookSpecial(text: string): boolean {
  return (
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(text) ||
    (text.startsWith("<|") && text.endsWith("|>")) ||
    (text.startsWith("<｜") && text.endsWith("｜>")) ||
    (text.startsWith("<unused") && text.endsWith(">"))
  );
}

const SPECIAL_ID_FIELDS = [
  ["unk_token", K.unknownId],
  ["sep_token", K.sepId],
  ["pad_token", K.paddingId],
  ["cls_token", K.clsId],
  ["mask_token", K.maskId],
] as const;

export function hfTokenizerToGguf(json: unknown, file: string, options: HfToGgufOptions = {}): HfToGgufResult {
  if (!isObject(json)) throw new ModelFileError(file, "(top level)", `expected a tokenizer.json object, found ${show(json)}`);
  const model = json.model;
  if (!isObject(model)) throw new ModelFileError(file, "model", `expected an object, found ${show(model)}`);
  if (model.type !== "BPE") throw new ModelFileError(file, "model.type", `expected "BPE" (byte-level BPE, tokenizer.ggml.model "gpt2"), found ${show(model.type)}`);
  if (model.byte_fallback !== undefined && model.byte_fallback !== null && model.byte_fallback !== false)
    throw new ModelFileError(file, "model.byte_fallback", `expected false (byte fallback is SentencePiece-style BPE, GGUF "llama", which onebit does not write), found ${show(model.byte_fallback)}`);
  for (const f of ["continuing_subword_prefix", "end_of_word_suffix"] as const)
    if (model[f] !== undefined && model[f] !== null && model[f] !== "") throw new ModelFileError(file, `model.${f}`, `expected null (llama.cpp's BPE has none), found ${show(model[f])}`);
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0)
    throw new ModelFileError(file, "model.dropout", `expected null (BPE dropout samples merges; llama.cpp applies every merge), found ${show(model.dropout)}`);
  if (json.normalizer !== undefined && json.normalizer !== null)
    throw new ModelFileError(file, "normalizer", `expected null (llama.cpp's byte-level BPE normalizes nothing), found ${show(isObject(json.normalizer) ? json.normalizer.type : json.normalizer)}`);
  if (!isObject(json.decoder) || json.decoder.type !== "ByteLevel")
    throw new ModelFileError(file, "decoder", `expected a ByteLevel decoder (byte-level BPE), found ${show(isObject(json.decoder) ? json.decoder.type : json.decoder)}`);
  const pre = ggufPreForHfTokenizer(json, file);

  // id → text and type: the BPE vocabulary first, then added tokens (get_vocab_base: tokenizer.vocab, typed by get_added_vocab)
  const byId: (string | undefined)[] = [];
  const typeOf: number[] = [];
  const vocab = model.vocab;
  if (!isObject(vocab)) throw new ModelFileError(file, "model.vocab", `expected an object of token → id, found ${show(vocab)}`);
  for (const [text, id] of Object.entries(vocab)) {
    const field = `model.vocab[${JSON.stringify(text)}]`;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new ModelFileError(file, field, `expected a token id ≥ 0, found ${show(id)}`);
    if (byId[id] !== undefined) throw new ModelFileError(file, field, `id ${id} is also ${JSON.stringify(byId[id])}; GGUF holds one text per id`);
    byId[id] = text;
    typeOf[id] = GGUF_TOKEN_TYPE.normal;
  }
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new ModelFileError(file, "added_tokens", `expected an array, found ${show(added)}`);
  const promoted: string[] = [];
  added.forEach((t: unknown, i) => {
    const field = `added_tokens[${i}]`;
    if (!isObject(t) || typeof t.id !== "number" || !Number.isInteger(t.id) || t.id < 0 || typeof t.content !== "string")
      throw new ModelFileError(file, field, `expected {id, content, special, …}, found ${show(t)}`);
    if (t.special !== undefined && typeof t.special !== "boolean") throw new ModelFileError(file, `${field}.special`, `expected a bool, found ${show(t.special)}`);
    for (const flag of ["lstrip", "rstrip", "single_word"] as const)
      if (t[flag] === true)
        throw new ModelFileError(
          file,
          `${field}.${flag}`,
          `${JSON.stringify(t.content)}: expected false; HF tokenizers honours it, llama.cpp does not (it sets lstrip/rstrip only for a few models it names), so the GGUF would tokenize differently`,
        );
    const id = t.id;
    const content = t.content;
    if (byId[id] !== undefined && byId[id] !== content)
      throw new ModelFileError(file, field, `id ${id} is ${JSON.stringify(content)} here but ${JSON.stringify(byId[id])} in model.vocab; GGUF holds one text per id`);
    const control = t.special === true || doesTokenLookSpecial(content);
    if (!control && content.includes("\u2581"))
      throw new ModelFileError(
        file,
        field,
        `${JSON.stringify(content)}: a user-defined token holding "▁" (U+2581); convert_hf_to_gguf.py turns it into a space, a token HF tokenizers would not match, and onebit will not write either`,
      );
    if (control && t.special !== true && typeOf[id] !== GGUF_TOKEN_TYPE.control) promoted.push(content);
    byId[id] = content;
    typeOf[id] = control ? GGUF_TOKEN_TYPE.control : GGUF_TOKEN_TYPE.userDefined;
  });

  const n = options.vocabSize ?? byId.length;
  if (!Number.isInteger(n) || n <= 0) throw new ModelInputError(`hfTokenizerToGguf: vocabSize: expected a positive integer, found ${n}`);
  if (byId.length > n)
    throw new ModelFileError(file, "model.vocab", `token id ${byId.length - 1} (${JSON.stringify(byId[byId.length - 1])}) is past the model's vocab_size ${n}; llama.cpp's converter requires every id below it`);
  const tokens = new Array<string>(n);
  const types = new Int32Array(n);
  const idOf = new Map<string, number>();
  for (let id = 0; id < n; id++) {
    let text = byId[id];
    let type = typeOf[id]!;
    if (text === undefined) {
      text = `[PAD${id}]`;
      type = GGUF_TOKEN_TYPE.unused;
    } else if (text.length === 0) throw new ModelFileError(file, `model.vocab (id ${id})`, "expected a token, found the empty string (llama.cpp refuses it)");
    else if (type === GGUF_TOKEN_TYPE.normal) {
      const bad = firstNonByteChar(text);
      if (bad >= 0)
        throw new ModelFileError(
          file,
          `model.vocab[${JSON.stringify(text)}]`,
          `a byte-level vocabulary's token must be GPT-2 byte characters; found U+${text.codePointAt(bad)!.toString(16).toUpperCase().padStart(4, "0")} at index ${bad}`,
        );
    }
    const other = idOf.get(text);
    if (other !== undefined) throw new ModelFileError(file, `token ${JSON.stringify(text)}`, `has ids ${other} and ${id}; llama.cpp refuses a vocabulary with a duplicate token`);
    idOf.set(text, id);
    tokens[id] = text;
    types[id] = type;
  }

  const merges = model.merges;
  if (!Array.isArray(merges)) throw new ModelFileError(file, "model.merges", `expected an array, found ${show(merges)}`);
  const mergeStrings = new Array<string>(merges.length);
  for (let i = 0; i < merges.length; i++) {
    const m: unknown = merges[i];
    let left: string | undefined;
    let right: string | undefined;
    if (typeof m === "string") {
      const cut = m.indexOf(" ");
      if (cut >= 0 && m.indexOf(" ", cut + 1) < 0) {
        left = m.slice(0, cut);
        right = m.slice(cut + 1);
      }
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string" && !m[0].includes(" ") && !m[1].includes(" ")) [left, right] = m;
    if (!left || !right) throw new ModelFileError(file, `model.merges[${i}]`, `expected "left right" or [left, right] of space-free tokens, found ${show(m)}`);
    if (!idOf.has(left) || !idOf.has(right) || !idOf.has(left + right)) {
      const [what, t] = !idOf.has(left) ? ["left", left] : !idOf.has(right) ? ["right", right] : ["merged", left + right];
      throw new ModelFileError(file, `model.merges[${i}]`, `${show(m)}: the ${what} token ${JSON.stringify(t)} is not in the vocabulary`);
    }
    mergeStrings[i] = typeof m === "string" ? m : `${left} ${right}`;
  }

  const configFile = options.configFile ?? "tokenizer_config.json";
  const config = options.config ?? {};
  if (!isObject(config)) throw new ModelFileError(configFile, "(top level)", `expected a tokenizer_config.json object, found ${show(config)}`);
  const template = postProcessorTemplate(json.post_processor, file, "post_processor");
  for (const [what, id] of [
    ["first", template.bos],
    ["last", template.eos],
  ] as const)
    if (id !== undefined && byId[id] === undefined) throw new ModelFileError(file, "post_processor", `its ${what} special token is id ${id}, which is not a token of the vocabulary`);
  for (const [field, adds] of [
    ["add_bos_token", template.bos !== undefined],
    ["add_eos_token", template.eos !== undefined],
  ] as const) {
    const said = configFlag(config, field, configFile);
    if (said !== undefined && said !== adds)
      throw new ModelFileError(configFile, field, `says ${said}, but ${file}'s post_processor ${adds ? "adds" : "does not add"} the token; onebit will not guess which the GGUF should do`);
  }
  const tokenId = (field: string): number | undefined => {
    const text = configTokenText(config, field, configFile);
    if (text === undefined) return undefined;
    const id = idOf.get(text);
    if (id === undefined || byId[id] === undefined) throw new ModelFileError(configFile, field, `${JSON.stringify(text)} is not a token of ${file}`);
    return id;
  };
  const configBos = tokenId("bos_token");
  if (template.bos !== undefined && configBos !== undefined && configBos !== template.bos)
    throw new ModelFileError(
      configFile,
      "bos_token",
      `is id ${configBos}, but ${file}'s post_processor puts id ${template.bos} first; SpecialVocab would then write add_bos_token false, onebit will not guess`,
    );
  const configEos = tokenId("eos_token");
  if (template.eos !== undefined && configEos !== undefined && configEos !== template.eos)
    throw new ModelFileError(
      configFile,
      "eos_token",
      `is id ${configEos}, but ${file}'s post_processor appends id ${template.eos}; SpecialVocab would make the appended one EOS and this one EOT, onebit will not guess`,
    );
  const bos = template.bos ?? configBos;
  const eos = configEos ?? template.eos;

  const fields: GgufTokenizerField[] = [
    { key: K.model, type: "string", value: "gpt2" },
    { key: K.pre, type: "string", value: pre },
    { key: K.tokens, type: "string[]", value: tokens },
    { key: K.tokenType, type: "i32[]", value: types },
    { key: K.merges, type: "string[]", value: mergeStrings },
  ];
  if (bos !== undefined) fields.push({ key: K.bosId, type: "u32", value: bos });
  if (eos !== undefined) fields.push({ key: K.eosId, type: "u32", value: eos });
  for (const [field, key] of SPECIAL_ID_FIELDS) {
    const id = tokenId(field);
    if (id !== undefined) fields.push({ key, type: "u32", value: id });
  }
  fields.push({ key: K.addBos, type: "bool", value: template.bos !== undefined }, { key: K.addEos, type: "bool", value: template.eos !== undefined });

  const templates = configChatTemplates(config, configFile);
  if (typeof templates === "string") fields.push({ key: K.chatTemplate, type: "string", value: templates });
  else if (templates) {
    // gguf_writer.add_chat_template: names keep [A-Za-z0-9], anything else becomes "_"
    const names: string[] = [];
    let defaultTemplate: string | undefined;
    templates.forEach(({ name, template: text }, i) => {
      const safe = name.replace(/[^A-Za-z0-9]/g, "_");
      if (!safe) throw new ModelFileError(configFile, `chat_template[${i}].name`, "expected a name, found the empty string");
      if (safe === "default") defaultTemplate = text;
      else if (names.includes(safe)) throw new ModelFileError(configFile, `chat_template[${i}].name`, `${JSON.stringify(name)} names a template twice (as ${JSON.stringify(safe)})`);
      else {
        names.push(safe);
        fields.push({ key: chatTemplateKey(safe), type: "string", value: text });
      }
    });
    if (names.length > 0) fields.push({ key: K.chatTemplates, type: "string[]", value: names });
    if (defaultTemplate !== undefined) fields.push({ key: K.chatTemplate, type: "string", value: defaultTemplate });
  }

  const notes: string[] = [];
  if (promoted.length > 0)
    notes.push(
      `${file}: ${promoted.length} added token(s) marked "special": false are written as control tokens, as convert_hf_to_gguf.py's does_token_look_special decides (${promoted
        .slice(0, 5)
        .map((t) => JSON.stringify(t))
        .join(", ")}${promoted.length > 5 ? ", …" : ""}): llama.cpp matches them in text only when parsing special tokens, HF tokenizers always`,
    );
  const endOfTurn = [...END_OF_GENERATION_TEXTS].filter((t) => types[idOf.get(t) ?? -1] === GGUF_TOKEN_TYPE.normal);
  if (endOfTurn.length > 0)
    notes.push(
      `${file}: ${endOfTurn.map((t) => JSON.stringify(t)).join(", ")} ${endOfTurn.length > 1 ? "are normal tokens" : "is a normal token"} of the BPE vocabulary, which llama.cpp makes control tokens by their text (ending generation, never read from text unless parsing special tokens, decoding to nothing)`,
    );
  return { fields, notes };
}
