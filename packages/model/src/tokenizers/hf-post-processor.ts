/**
 * Which special tokens a tokenizer.json's post_processor puts around a single sequence: BOS first, EOS last
 * (LLaMA-3's TemplateProcessing puts <|begin_of_text|> first). HF tokenizers src/processors/template.rs; the
 * same "crude parsing" as gguf-py vocab.py SpecialVocab._try_load_from_tokenizer_json, which decides
 * tokenizer.ggml.add_bos_token / add_eos_token from the first and last SpecialToken of `single`. Shared by
 * hf-tokenizer.ts (reading) and hf-to-gguf-tokenizer.ts (converting), so both agree on a file.
 */
import { ModelFileError } from "../weights/weight-source";

/** BOS/EOS as the post-processor adds them, by id. */
export interface PostProcessorTemplate {
  bos?: number;
  eos?: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function postProcessorTemplate(pp: unknown, file: string, field: string): PostProcessorTemplate {
  if (pp === null || pp === undefined) return {};
  if (!isObject(pp)) throw new ModelFileError(file, field, `expected an object or null, found ${typeof pp}`);
  switch (pp.type) {
    case "ByteLevel":
      return {};
    case "Sequence": {
      const list = pp.processors;
      if (!Array.isArray(list)) throw new ModelFileError(file, `${field}.processors`, "expected an array");
      const found = list.map((p, i) => postProcessorTemplate(p, file, `${field}.processors[${i}]`)).filter((t) => t.bos !== undefined || t.eos !== undefined);
      if (found.length > 1) throw new ModelFileError(file, `${field}.processors`, "expected at most one processor that adds special tokens, found several");
      return found[0] ?? {};
    }
    case "TemplateProcessing": {
      const single = pp.single;
      const specials = pp.special_tokens;
      if (!Array.isArray(single) || !isObject(specials)) throw new ModelFileError(file, field, "expected TemplateProcessing with a single template and special_tokens");
      // every template item is {SpecialToken: {id, type_id}} or {Sequence: {id, type_id}} (tokenizers
      // src/processors/template.rs Piece); anything else would only fail at the first encode, deep in the library
      for (const key of ["single", "pair"] as const) {
        const items = pp[key];
        if (items === undefined && key === "pair") continue;
        if (!Array.isArray(items)) throw new ModelFileError(file, `${field}.${key}`, `expected an array of template pieces, found ${JSON.stringify(items)?.slice(0, 60)}`);
        items.forEach((item, i) => {
          const piece = isObject(item) ? (item.SpecialToken ?? item.Sequence) : undefined;
          if (!isObject(item) || Object.keys(item).length !== 1 || !isObject(piece) || typeof piece.id !== "string" || (piece.type_id !== undefined && !Number.isInteger(piece.type_id)))
            throw new ModelFileError(file, `${field}.${key}[${i}]`, `expected {SpecialToken: {id, type_id}} or {Sequence: {id, type_id}}, found ${JSON.stringify(item)?.slice(0, 60)}`);
        });
      }
      const idOf = (item: unknown, where: string): number | undefined => {
        if (!isObject(item) || !isObject(item.SpecialToken)) return undefined;
        const name = item.SpecialToken.id;
        const entry = typeof name === "string" ? specials[name] : undefined;
        const ids = isObject(entry) ? entry.ids : undefined;
        if (!Array.isArray(ids) || ids.length !== 1 || !Number.isInteger(ids[0]))
          throw new ModelFileError(file, `${field}.${where}`, `expected a special token with one id in special_tokens, found ${JSON.stringify(name)}`);
        return ids[0] as number;
      };
      const t: PostProcessorTemplate = {};
      const bos = idOf(single[0], "single[0]");
      const eos = single.length > 1 ? idOf(single[single.length - 1], `single[${single.length - 1}]`) : undefined;
      if (bos !== undefined) t.bos = bos;
      if (eos !== undefined) t.eos = eos;
      return t;
    }
    default:
      throw new ModelFileError(file, `${field}.type`, `expected ByteLevel, Sequence or TemplateProcessing, found ${JSON.stringify(pp.type)}`);
  }
}
