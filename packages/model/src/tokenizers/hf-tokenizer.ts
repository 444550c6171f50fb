/**
 * A Hugging Face tokenizer.json (with its tokenizer_config.json, when given) through @huggingface/tokenizers
 * (tokenizers.js, the tokenizer of transformers.js), behind the Tokenizer interface.
 *
 * BOS/EOS: tokenizers add them in the post-processor (TemplateProcessing: LLaMA-3's puts <|begin_of_text|>
 * first). encode() asks the library for the bare ids and adds BOS/EOS itself, so that { bos, eos } can override
 * the file; addBos/addEos say what the post-processor does. transformers' LlamaTokenizerFast lets
 * tokenizer_config.json's add_bos_token rewrite the post-processor and PreTrainedTokenizerFast ignores it, so a
 * file where the two disagree is refused rather than guessed at.
 *
 * Special tokens in text: the library, like HF tokenizers, always matches added tokens in the input. For
 * parseSpecial: false (the default, see tokenizer.ts) a second library tokenizer is kept whose added tokens
 * are only the non-special ones ("special": false, matched always, as llama.cpp matches user-defined tokens);
 * it shares the first one's model, so the vocabulary and merges are held once.
 *
 * decode() skips special tokens and does not "clean up tokenization spaces" (" ." stays " ."), so decoding is
 * lossless and the CLI can stream text.
 */
import { Tokenizer as TokenizersJs } from "@huggingface/tokenizers";
import { ModelFileError } from "../weights/weight-source";
import { endOfGenerationIds } from "./end-of-generation";
import { postProcessorTemplate } from "./hf-post-processor";
import { configChatTemplates, configFlag, configTokenText, defaultChatTemplate } from "./hf-tokenizer-config";
import { checkTokenIds, type EncodeOptions, type Tokenizer } from "./tokenizer";
import { ModelInputError } from "../model-input-error";

export interface HfTokenizerOptions {
  /** tokenizer_config.json, parsed. */
  config?: unknown;
  /** Its file name, for errors (default "tokenizer_config.json"). */
  configFile?: string;
  /** A chat template given apart (newer Hub repositories keep it in chat_template.jinja); wins over the config's. */
  chatTemplate?: string;
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export class HfTokenizer implements Tokenizer {
  readonly kind = "hf-tokenizer-json";
  readonly vocabSize: number;
  readonly eosIds: readonly number[];

  private constructor(
    readonly file: string,
    private readonly parsing: TokenizersJs,
    private readonly plain: TokenizersJs,
    readonly bosId: number | undefined,
    readonly eosId: number | undefined,
    readonly addBos: boolean,
    readonly addEos: boolean,
    readonly chatTemplate: string | undefined,
  ) {
    const vocab = parsing.get_vocab(true);
    this.vocabSize = parsing.model!.vocab.length;
    this.eosIds = endOfGenerationIds([eosId], vocab);
  }

  /** `json` is tokenizer.json, parsed; `file` its name for errors. */
  static fromJson(json: unknown, file: string, options: HfTokenizerOptions = {}): HfTokenizer {
    if (!isObject(json)) throw new ModelFileError(file, "(top level)", "expected a tokenizer.json object");
    if (!isObject(json.model)) throw new ModelFileError(file, "model", `expected an object, found ${JSON.stringify(json.model)}`);
    const added = json.added_tokens ?? [];
    if (!Array.isArray(added)) throw new ModelFileError(file, "added_tokens", "expected an array");
    added.forEach((t, i) => {
      if (!isObject(t) || !Number.isInteger(t.id) || typeof t.content !== "string" || (t.special !== undefined && typeof t.special !== "boolean"))
        throw new ModelFileError(file, `added_tokens[${i}]`, `expected {id, content, special}, found ${JSON.stringify(t)}`);
    });
    const configFile = options.configFile ?? "tokenizer_config.json";
    const config = options.config ?? {};
    if (!isObject(config)) throw new ModelFileError(configFile, "(top level)", "expected a tokenizer_config.json object");

    const complete = { ...json, added_tokens: added };
    const parsing = libraryTokenizer(complete, config, file);
    const nonSpecial = (added as AddedTokenJson[]).filter((t) => !t.special);
    let plain = parsing;
    if (nonSpecial.length < added.length) {
      // same pipeline, fewer added tokens; a stand-in model (cheap to build), replaced by the real one
      plain = libraryTokenizer({ ...complete, added_tokens: nonSpecial, model: { type: "BPE", vocab: {}, merges: [] } }, config, file);
      plain.model = parsing.model;
    }

    const vocab = parsing.get_vocab(true);
    const tokenId = (field: string): number | undefined => {
      const text = configTokenText(config, field, configFile);
      if (text === undefined) return undefined;
      const id = vocab.get(text);
      if (id === undefined) throw new ModelFileError(configFile, field, `${JSON.stringify(text)} is not a token of ${file}`);
      return id;
    };
    const flag = (field: string): boolean | undefined => configFlag(config, field, configFile);

    const template = postProcessorTemplate(json.post_processor, file, "post_processor");
    const addBos = template.bos !== undefined;
    const addEos = template.eos !== undefined;
    for (const [field, fromTemplate] of [
      ["add_bos_token", addBos],
      ["add_eos_token", addEos],
    ] as const) {
      const said = flag(field);
      if (said !== undefined && said !== fromTemplate)
        throw new ModelFileError(
          configFile,
          field,
          `says ${said}, but ${file}'s post_processor ${fromTemplate ? "adds" : "does not add"} the token; transformers' tokenizer classes disagree on which wins, so onebit will not guess`,
        );
    }
    const bosId = template.bos ?? tokenId("bos_token");
    const eosId = tokenId("eos_token") ?? template.eos;

    const chatTemplate = options.chatTemplate ?? defaultChatTemplate(configChatTemplates(config, configFile), configFile);

    return new HfTokenizer(file, parsing, plain, bosId, eosId, addBos, addEos, chatTemplate);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const lib = options.parseSpecial ? this.parsing : this.plain;
    const ids = lib.encode(text, { add_special_tokens: false }).ids;
    for (let i = 0; i < ids.length; i++)
      if (!Number.isInteger(ids[i])) throw new ModelInputError(`${this.file}: encode: a piece of ${JSON.stringify(text.slice(0, 40))} is not in the vocabulary and there is no unk_token`);
    if (options.bos ?? this.addBos) {
      if (this.bosId === undefined) throw new ModelInputError(`${this.file}: encode: BOS asked for, but the tokenizer names no BOS token`);
      ids.unshift(this.bosId);
    }
    if (options.eos ?? this.addEos) {
      if (this.eosId === undefined) throw new ModelInputError(`${this.file}: encode: EOS asked for, but the tokenizer names no EOS token`);
      ids.push(this.eosId);
    }
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    checkTokenIds(ids, this.vocabSize);
    if (ids.length === 0) return "";
    const list = Array.from(ids);
    for (let i = 0; i < list.length; i++)
      if (this.parsing.id_to_token(list[i]!) === undefined) throw new ModelInputError(`decode ids[${i}]: ${list[i]} is not a token of ${this.file} (a gap in its ids)`);
    return this.parsing.decode(list, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  tokenToString(id: number): string {
    checkTokenIds([id], this.vocabSize, "tokenToString id");
    const t = this.parsing.id_to_token(id);
    if (t === undefined) throw new ModelInputError(`tokenToString: ${id} is not a token of ${this.file} (a gap in its ids)`);
    return t;
  }
}

function libraryTokenizer(json: Json, config: Json, file: string): TokenizersJs {
  try {
    return new TokenizersJs(json, config);
  } catch (e) {
    throw new ModelFileError(file, "(tokenizer.json)", `@huggingface/tokenizers cannot load it: ${(e as Error).message}`);
  }
}
