import { CliError } from "../util/cli-error";
import type { CommandDef } from "./command";

/** `onebit tokenize <model> --text T`: the model's own tokenizer's ids as JSON (compare with llama-tokenize --ids). */
export const tokenizeCommand: CommandDef = {
  name: "tokenize",
  description: "print the token ids of a text under a model's own tokenizer, as JSON (BOS as the file says)",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder", required: true }],
  options: [
    { key: "text", kind: "string", arg: "<text>", description: "the text to tokenize (or --text-file)" },
    { key: "textFile", kind: "string", arg: "<file>", description: "read the text from a file" },
    { key: "bos", kind: "boolean", description: "prepend BOS (default: as the tokenizer file says; --no-bos to omit)" },
    { key: "parseSpecial", kind: "boolean", default: true, description: "turn control-token text such as <|eot_id|> into its token, as llama-tokenize does (--no-parse-special)" },
    { key: "pieces", kind: "boolean", default: false, description: "print [id, piece] pairs instead of ids" },
  ],
  async run({ args, options }) {
    const { readFileSync } = await import("node:fs");
    if ((options.text === undefined) === (options.textFile === undefined)) throw new CliError("give exactly one of --text and --text-file", 2);
    let text = options.text as string | undefined;
    if (text === undefined) {
      try {
        text = readFileSync(options.textFile as string, "utf8");
      } catch (e) {
        throw new CliError(`--text-file ${options.textFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2);
      }
    }
    const { openTokenizer } = await import("@onebit/model");
    let tokenizer: Awaited<ReturnType<typeof openTokenizer>>;
    try {
      tokenizer = await openTokenizer(args[0]!);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const ids = tokenizer.encode(text, { bos: options.bos as boolean | undefined, parseSpecial: options.parseSpecial as boolean });
    const out = options.pieces ? ids.map((id) => [id, tokenizer.tokenToString?.(id) ?? tokenizer.decode([id])]) : ids;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  },
};
