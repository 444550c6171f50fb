import { createInterface } from "node:readline";
import type { GenerationStats } from "@onebit/model";
import { CliError } from "../util/cli-error";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import { defineOptions } from "../util/options";
import { defineCommand } from "./command";
import { describeStats, samplingFrom, samplingOptions } from "./generate";

/**
 * An interactive loop. A model whose tokenizer carries a chat template (a GGUF's tokenizer.chat_template, an HF
 * folder's tokenizer_config.json) is chatted with through it: each line is a user message, the template renders
 * the conversation (with @huggingface/jinja), and the reply runs to an end-of-turn token. A model without one
 * (onebit's small models are not instruction-tuned) is a continuation playground: each line is appended to the
 * transcript and the model continues it until it ends a line. `/reset` clears, `/exit` (or end of input) quits.
 */
export const chatCommand = defineCommand({
  name: "chat",
  description: "an interactive loop: type text, the model continues it (/reset, /exit)",
  args: [{ name: "model", description: ".gguf file, Hugging Face folder or onebit checkpoint folder", required: true }],
  // a chat reply is shorter than generate's default; the override keeps maxTokens's place in --help
  options: defineOptions({ ...samplingOptions, maxTokens: { ...samplingOptions.maxTokens, default: 48 }, ...runOptions }),
  async run({ args, options }) {
    const { generate, TextStreamer } = await import("@onebit/model");
    const m = await loadModelSource(args[0]);
    const tokenizer = requireTokenizer(m);
    const backend = await openBackend(options.backend, options.threads);
    const model = await buildTransformer(m, backend, options.lmHead, { releaseWeights: true });
    const maxContext = model.spec.max_position_embeddings;
    const sampling = samplingFrom(options);
    // a reply must leave room for at least one prompt token (BOS or the message)
    if (sampling.maxTokens >= maxContext) {
      backend.dispose();
      throw new CliError(`--max-tokens ${sampling.maxTokens}: replies of ${sampling.maxTokens} tokens leave no room for a message in the model's context of ${maxContext} tokens (at most ${maxContext - 1})`, 2);
    }
    let transcript = "";
    let turn = 0;
    const templated = tokenizer.chatTemplate !== undefined;
    const messages: Array<{ role: string; content: string }> = [];
    const { renderChat, encodeChat } = await import("@onebit/model");
    const rl = createInterface({ input: process.stdin, terminal: Boolean(process.stdin.isTTY) });
    const ask = () => process.stdout.write("you> ");
    process.stdout.write(
      `onebit chat — ${m.spec.onebit.variant} model from ${m.source}; ${templated ? "its chat template" : "no chat template: the model continues your text"}; /reset clears, /exit quits\n`,
    );
    ask();
    try {
      for await (const line of rl) {
        const text = line.trim();
        if (text === "/exit") break;
        if (text === "/reset") {
          transcript = "";
          messages.length = 0;
          process.stdout.write("(transcript cleared)\n");
          ask();
          continue;
        }
        if (!text) {
          ask();
          continue;
        }
        let prompt: number[];
        const room = Math.max(1, maxContext - sampling.maxTokens - 1);
        if (templated) {
          messages.push({ role: "user", content: text });
          prompt = encodeChat(tokenizer, renderChat(tokenizer, messages, { addGenerationPrompt: true }).text);
          // drop the oldest turns until the conversation leaves room for the reply
          while (prompt.length > room && messages.length > 1) {
            messages.splice(0, 2);
            prompt = encodeChat(tokenizer, renderChat(tokenizer, messages, { addGenerationPrompt: true }).text);
          }
          if (prompt.length > room) throw new CliError(`the message is ${prompt.length} tokens; the model's context of ${maxContext} leaves ${room} for it with --max-tokens ${sampling.maxTokens}`);
        } else {
          transcript += `${text}\n`;
          prompt = tokenizer.encode(transcript, { bos: false });
          // keep the most recent tokens that leave room for the reply
          if (prompt.length > room) prompt = prompt.slice(prompt.length - room);
          if (tokenizer.addBos && tokenizer.bosId !== undefined) prompt = [tokenizer.bosId, ...prompt];
        }
        const ac = new AbortController();
        const streamer = new TextStreamer(tokenizer);
        const stats = {} as GenerationStats;
        process.stdout.write("model> ");
        let reply = "";
        const stopTokens = tokenizer.eosIds.length > 0 ? [...tokenizer.eosIds] : undefined;
        for await (const t of generate(model, prompt, { ...sampling, seed: sampling.seed + turn, vocabLimit: tokenizer.vocabSize, signal: ac.signal, stopTokens }, stats)) {
          let piece = streamer.push(t.id);
          const nl = templated ? -1 : piece.indexOf("\n");
          if (nl >= 0) {
            piece = piece.slice(0, nl);
            ac.abort(); // the model ended its line
          }
          reply += piece;
          process.stdout.write(piece);
        }
        if (!ac.signal.aborted) {
          const rest = templated ? streamer.flush() : streamer.flush().split("\n")[0]!;
          reply += rest;
          process.stdout.write(rest);
        }
        if (templated) messages.push({ role: "assistant", content: reply });
        else transcript += `${reply}\n`;
        process.stdout.write(`\n  (${describeStats(stats)})\n`);
        turn++;
        ask();
      }
    } finally {
      rl.close();
      backend.dispose();
      process.stdout.write("\n");
    }
  },
});
