import { createInterface } from "node:readline";
import type { GenerationStats } from "@onebit/model";
import { buildTransformer, loadModelSource, openBackend, requireTokenizer, runOptions } from "../util/load-model";
import { TextStreamer } from "../util/text-streamer";
import type { CommandDef } from "./command";
import { describeStats, samplingFrom, samplingOptions } from "./generate";

/**
 * An interactive loop: each line you type is appended to the running transcript and the model continues it
 * until it ends a line (or --max-tokens). Small models trained here are not instruction-tuned: this is a
 * continuation playground. `/reset` clears the transcript, `/exit` (or end of input) quits.
 */
export const chatCommand: CommandDef = {
  name: "chat",
  description: "an interactive loop: type text, the model continues it (/reset, /exit)",
  args: [{ name: "model", description: "checkpoint directory", required: true }],
  options: [...samplingOptions.map((o) => (o.key === "maxTokens" ? { ...o, default: 48 } : o)), ...runOptions],
  async run({ args, options }) {
    const { generate } = await import("@onebit/model");
    const m = await loadModelSource(args[0]!);
    const tokenizer = requireTokenizer(m);
    const backend = await openBackend(options.backend as string, options.threads as number | undefined);
    const model = await buildTransformer(m, backend, options.lmHead as string);
    const maxContext = model.spec.max_position_embeddings;
    const sampling = samplingFrom(options);
    let transcript = "";
    let turn = 0;
    const rl = createInterface({ input: process.stdin, terminal: Boolean(process.stdin.isTTY) });
    const ask = () => process.stdout.write("you> ");
    process.stdout.write(`onebit chat — ${m.spec.onebit.variant} model from ${m.source}; /reset clears, /exit quits\n`);
    ask();
    try {
      for await (const line of rl) {
        const text = line.trim();
        if (text === "/exit") break;
        if (text === "/reset") {
          transcript = "";
          process.stdout.write("(transcript cleared)\n");
          ask();
          continue;
        }
        if (!text) {
          ask();
          continue;
        }
        transcript += `${text}\n`;
        let prompt = tokenizer.encode(transcript);
        // keep the most recent tokens that leave room for the reply
        const room = Math.max(1, maxContext - sampling.maxTokens - 1);
        if (prompt.length > room) prompt = prompt.slice(prompt.length - room);
        prompt = [model.spec.bos_token_id, ...prompt];
        const ac = new AbortController();
        const streamer = new TextStreamer(tokenizer);
        const stats = {} as GenerationStats;
        process.stdout.write("model> ");
        let reply = "";
        for await (const t of generate(model, prompt, { ...sampling, seed: sampling.seed + turn, vocabLimit: tokenizer.vocabSize, signal: ac.signal }, stats)) {
          let piece = streamer.push(t.id);
          const nl = piece.indexOf("\n");
          if (nl >= 0) {
            piece = piece.slice(0, nl);
            ac.abort(); // the model ended its line
          }
          reply += piece;
          process.stdout.write(piece);
        }
        if (!ac.signal.aborted) {
          const rest = streamer.flush().split("\n")[0]!;
          reply += rest;
          process.stdout.write(rest);
        }
        transcript += `${reply}\n`;
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
};
