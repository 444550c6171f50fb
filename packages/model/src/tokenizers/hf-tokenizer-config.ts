/**
 * Typed reads of tokenizer_config.json, as transformers' PreTrainedTokenizerBase reads the fields and gguf-py
 * vocab.py SpecialVocab copies them to GGUF: "<kind>_token" is the token's text or an AddedToken object
 * ({"content": …}), "add_<kind>_token" a bool, "chat_template" one Jinja template or a list of {name, template}
 * (the one named "default" is used unless another is asked for). Each read fails with the file, the field,
 * what was expected and what was found.
 */
import { ModelFileError } from "../weights/weight-source";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export interface NamedChatTemplate {
  name: string;
  template: string;
}

/** "<kind>_token": its text, or undefined when absent or null. */
export function configTokenText(config: Json, field: string, configFile: string): string | undefined {
  const v = config[field];
  if (v === undefined || v === null) return undefined;
  const text = isObject(v) ? v.content : v;
  if (typeof text !== "string") throw new ModelFileError(configFile, field, `expected a token string, found ${JSON.stringify(v)}`);
  return text;
}

/** "add_<kind>_token" and other flags: undefined when absent or null. */
export function configFlag(config: Json, field: string, configFile: string): boolean | undefined {
  const v = config[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new ModelFileError(configFile, field, `expected a bool, found ${JSON.stringify(v)}`);
  return v;
}

/** "chat_template" as the file has it: one template, a list of named ones, or undefined. */
export function configChatTemplates(config: Json, configFile: string): string | NamedChatTemplate[] | undefined {
  const t = config.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === "string") return t;
  if (!Array.isArray(t)) throw new ModelFileError(configFile, "chat_template", `expected a string or a list of {name, template}, found ${typeof t}`);
  return t.map((x, i) => {
    if (!isObject(x) || typeof x.name !== "string" || typeof x.template !== "string")
      throw new ModelFileError(configFile, `chat_template[${i}]`, `expected {name, template} strings, found ${JSON.stringify(x).slice(0, 80)}`);
    return { name: x.name, template: x.template };
  });
}

/** The template a chat is rendered with: the only one, or the list's "default". */
export function defaultChatTemplate(templates: string | NamedChatTemplate[] | undefined, configFile: string): string | undefined {
  if (templates === undefined || typeof templates === "string") return templates;
  const named = templates.find((x) => x.name === "default");
  if (!named) throw new ModelFileError(configFile, "chat_template", `expected a "default" entry among ${JSON.stringify(templates.map((x) => x.name))}`);
  return named.template;
}
