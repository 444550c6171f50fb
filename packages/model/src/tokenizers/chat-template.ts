/**
 * Chat prompts from a model's Jinja chat template (tokenizer_config.json "chat_template", GGUF
 * tokenizer.chat_template), rendered with @huggingface/jinja as transformers' apply_chat_template renders them:
 * variables messages, add_generation_prompt, bos_token and eos_token (the tokens' text); raise_exception and
 * strftime_now are the library's.
 *
 * A model without a template (onebit's own, base models) gets BUILT_IN_CHAT_TEMPLATE, and the result says so
 * (builtIn: true) so the CLI can tell the user the format is onebit's guess, not the model's.
 */
import { Template } from "@huggingface/jinja";
import type { Tokenizer } from "./tokenizer";
import { ModelInputError } from "../model-input-error";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface RenderedChat {
  text: string;
  /** True when the model has no chat template and BUILT_IN_CHAT_TEMPLATE was used. */
  builtIn: boolean;
}

/**
 * "Role: content" lines, then "Assistant:" for the reply. The prompt ends without a space: byte-level BPE
 * vocabularies spell a word with its leading space (" Hello"), so a trailing space would become a lone token
 * the model rarely saw before a word.
 */
export const BUILT_IN_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

type ChatTokenizer = Pick<Tokenizer, "chatTemplate" | "bosId" | "eosId" | "tokenToString">;

const compiled = new Map<string, Template>();

export function renderChat(tokenizer: ChatTokenizer, messages: readonly ChatMessage[], options: { addGenerationPrompt: boolean }): RenderedChat {
  messages.forEach((m, i) => {
    if (typeof m?.role !== "string" || typeof m.content !== "string")
      throw new TypeError(`renderChat: messages[${i}]: expected {role: string, content: string}, found ${JSON.stringify(m)}`);
  });
  const builtIn = tokenizer.chatTemplate === undefined;
  const source = tokenizer.chatTemplate ?? BUILT_IN_CHAT_TEMPLATE;
  const which = builtIn ? "the built-in chat template" : "the model's chat template";
  let template = compiled.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (e) {
      throw new ModelInputError(`${which} does not parse: ${(e as Error).message}`);
    }
    if (compiled.size > 16) compiled.clear();
    compiled.set(source, template);
  }
  const text = (id: number | undefined) => (id === undefined || !tokenizer.tokenToString ? "" : tokenizer.tokenToString(id));
  try {
    return {
      text: template.render({
        messages: messages.map((m) => ({ ...m })),
        add_generation_prompt: options.addGenerationPrompt,
        bos_token: text(tokenizer.bosId),
        eos_token: text(tokenizer.eosId),
      }),
      builtIn,
    };
  } catch (e) {
    throw new ModelInputError(`${which} failed to render: ${(e as Error).message}`);
  }
}

/**
 * A rendered chat as ids: its control-token text ("<|eot_id|>") parsed as control tokens, and BOS put first when
 * the tokenizer adds BOS and the template did not already write it (LLaMA-3's template writes {{ bos_token }};
 * BitNet-2B4T's does not), so a prompt never starts with two BOS tokens.
 */
export function encodeChat(tokenizer: ChatTokenizer & Pick<Tokenizer, "encode" | "addBos">, rendered: string): number[] {
  const bosText = tokenizer.bosId === undefined || !tokenizer.tokenToString ? undefined : tokenizer.tokenToString(tokenizer.bosId);
  const templateWroteBos = bosText !== undefined && bosText.length > 0 && rendered.startsWith(bosText);
  return tokenizer.encode(rendered, { parseSpecial: true, bos: tokenizer.addBos && !templateWroteBos, eos: false });
}
