import { describe, expect, it } from "vitest";
import { BUILT_IN_CHAT_TEMPLATE, encodeChat, renderChat } from "./chat-template";

// microsoft/bitnet-b1.58-2B-4T tokenizer_config.json "chat_template" (a LLaMA-3 vocabulary; "Role: content<|eot_id|>")
const BITNET_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";
// meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json "chat_template"
const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/** A tokenizer as the chat functions see it: LLaMA-3's special-token names. */
function fakeTokenizer(chatTemplate: string | undefined) {
  const names: Record<number, string> = { 128000: "<|begin_of_text|>", 128009: "<|eot_id|>" };
  const calls: unknown[] = [];
  return {
    chatTemplate,
    bosId: 128000,
    eosId: 128009,
    addBos: true,
    tokenToString: (id: number) => names[id] ?? "?",
    encode: (text: string, options: unknown) => {
      calls.push([text, options]);
      return [];
    },
    calls,
  };
}

const chat = [
  { role: "system", content: "Be brief." },
  { role: "user", content: " Hi! " },
  { role: "assistant", content: "Hello." },
  { role: "user", content: "2+2?" },
];

describe("chat templates", () => {
  it("renders BitNet-2B4T's template", () => {
    const r = renderChat(fakeTokenizer(BITNET_CHAT_TEMPLATE), chat, { addGenerationPrompt: true });
    expect(r).toEqual({ text: "System: Be brief.<|eot_id|>User: Hi!<|eot_id|>Assistant: Hello.<|eot_id|>User: 2+2?<|eot_id|>Assistant: ", builtIn: false });
    expect(renderChat(fakeTokenizer(BITNET_CHAT_TEMPLATE), chat.slice(0, 2), { addGenerationPrompt: false }).text).toBe("System: Be brief.<|eot_id|>User: Hi!<|eot_id|>");
  });

  it("renders LLaMA-3's template with the tokenizer's BOS text", () => {
    const r = renderChat(fakeTokenizer(LLAMA3_CHAT_TEMPLATE), chat.slice(1, 2), { addGenerationPrompt: true });
    expect(r.text).toBe("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  });

  it("parses special tokens and adds BOS only when the template did not write it", () => {
    const bitnet = fakeTokenizer(BITNET_CHAT_TEMPLATE);
    encodeChat(bitnet, "User: hi<|eot_id|>Assistant: ");
    const llama = fakeTokenizer(LLAMA3_CHAT_TEMPLATE);
    encodeChat(llama, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
    expect(bitnet.calls[0]).toEqual(["User: hi<|eot_id|>Assistant: ", { parseSpecial: true, bos: true, eos: false }]);
    expect((llama.calls[0] as unknown[])[1]).toEqual({ parseSpecial: true, bos: false, eos: false });
  });

  it("falls back to the built-in template only without a model template, and says so", () => {
    const r = renderChat(fakeTokenizer(undefined), chat.slice(1), { addGenerationPrompt: true });
    expect(r).toEqual({ text: "User:  Hi! \nAssistant: Hello.\nUser: 2+2?\nAssistant:", builtIn: true });
    expect(fakeTokenizer(undefined).chatTemplate ?? BUILT_IN_CHAT_TEMPLATE).toBe(BUILT_IN_CHAT_TEMPLATE);
  });

  it("reports template errors and malformed messages", () => {
    expect(() => renderChat(fakeTokenizer("{% if %}"), chat, { addGenerationPrompt: true })).toThrow(/^the model's chat template does not parse: /);
    expect(() => renderChat(fakeTokenizer("{{ raise_exception('roles must alternate') }}"), chat, { addGenerationPrompt: true })).toThrow(
      /^the model's chat template failed to render: .*roles must alternate/,
    );
    expect(() => renderChat(fakeTokenizer(undefined), [{ role: "user" } as never], { addGenerationPrompt: true })).toThrow(
      /renderChat: messages\[0\]: expected \{role: string, content: string\}, found \{"role":"user"\}/,
    );
  });
});
