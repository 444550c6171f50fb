import { CliError } from "../util/cli-error";
import { defineOptions } from "../util/options";
import { readTextFlag } from "../util/read-text-flag";
import { defineCommand } from "./command";

/** `onebit tokenize <model> --text T`: the model's own tokenizer's ids as JSON (compare with llama-tokenize --ids). */
export const tokenizeCommand = defineCommand({
  name: "tokenize",
  description: "print the token ids of a text under a model's own tokenizer, as JSON (BOS as the file says)",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder", required: true }],
  options: defineOptions({
    text: { kind: "string", arg: "<text>", description: "the text to tokenize (or --text-file)" },
    textFile: { kind: "string", arg: "<file>", description: "read the text from a file" },
    bos: { kind: "boolean", description: "prepend BOS (default: as the tokenizer file says; --no-bos to omit)" },
    parseSpecial: { kind: "boolean", default: true, description: "turn control-token text such as <|eot_id|> into its token, as llama-tokenize does (--no-parse-special)" },
    pieces: { kind: "boolean", default: false, description: "print [id, piece] pairs instead of ids" },
  }),
  async run({ args, options }) {
    const { text: given, textFile } = options;
    let text: string;
    if (given !== undefined && textFile === undefined) text = given;
    else if (given === undefined && textFile !== undefined) text = readTextFlag("--text-file", textFile);
    else throw new CliError("give exactly one of --text and --text-file", 2);
    const { openTokenizer } = await import("@onebit/model");
    let tokenizer: Awaited<ReturnType<typeof openTokenizer>>;
    try {
      tokenizer = await openTokenizer(args[0]);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const ids = tokenizer.encode(text, { bos: options.bos, parseSpecial: options.parseSpecial });
    const out = options.pieces ? ids.map((id) => [id, tokenizer.tokenToString?.(id) ?? tokenizer.decode([id])]) : ids;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  },
});
