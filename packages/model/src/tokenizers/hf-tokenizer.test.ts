import { describe, expect, it } from "vitest";
import { trainBpeTokenizer } from "../bpe-tokenizer";
import { ModelFileError } from "../weights/weight-source";
import { onebitBpeToHf } from "./hf-tokenizer-export";
import { HfTokenizer } from "./hf-tokenizer";

type Json = Record<string, unknown>;
/** A small real tokenizer.json (onebit's export of a tiny BPE) to edit. */
function files(): { tokenizer: Json; config: Json } {
  const f = onebitBpeToHf(trainBpeTokenizer("hello hello world, hello there!", { vocabSize: 265 }));
  return JSON.parse(JSON.stringify({ tokenizer: f.tokenizer, config: f.tokenizerConfig }));
}

function fails(edit: (f: { tokenizer: Json; config: Json }) => void, message: RegExp) {
  const f = files();
  edit(f);
  let error: unknown;
  try {
    HfTokenizer.fromJson(f.tokenizer, "t/tokenizer.json", { config: f.config, configFile: "t/tokenizer_config.json" });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ModelFileError);
  expect((error as Error).message).toMatch(message);
}

describe("HfTokenizer", () => {
  it("takes BOS from the post-processor and EOS from tokenizer_config.json", () => {
    const f = files();
    const t = HfTokenizer.fromJson(f.tokenizer, "tokenizer.json", { config: f.config });
    expect([t.bosId, t.eosId, t.addBos]).toEqual([1, 2, true]);
    expect(t.encode("hello")[0]).toBe(1);
    expect(t.decode(t.encode("hello world"))).toBe("hello world");
    expect(t.decode([])).toBe("");
    expect(t.tokenToString(1)).toBe("<bos>");
    expect(() => t.decode([t.vocabSize])).toThrow(`decode ids[0]: expected a token id in [0, ${t.vocabSize}), found ${t.vocabSize}`);
  });

  it("adds no BOS when the post-processor adds none", () => {
    const f = files();
    f.tokenizer.post_processor = null;
    delete f.config.add_bos_token;
    const t = HfTokenizer.fromJson(f.tokenizer, "tokenizer.json", { config: f.config });
    expect([t.addBos, t.bosId]).toEqual([false, 1]); // bos_token still names it
    expect(t.encode("hello")[0]).not.toBe(1);
  });

  it("reads chat templates: a string, the default of a named list, or one given apart", () => {
    const f = files();
    f.config.chat_template = [
      { name: "tool_use", template: "T" },
      { name: "default", template: "D" },
    ];
    expect(HfTokenizer.fromJson(f.tokenizer, "tokenizer.json", { config: f.config }).chatTemplate).toBe("D");
    expect(HfTokenizer.fromJson(f.tokenizer, "tokenizer.json", { config: f.config, chatTemplate: "J" }).chatTemplate).toBe("J");
  });

  it("refuses malformed files and contradictions, naming file and field", () => {
    fails((f) => delete f.tokenizer.model, /^t\/tokenizer\.json: model: expected an object, found undefined/);
    fails((f) => (f.tokenizer.added_tokens = [{ id: "x" }]), /t\/tokenizer\.json: added_tokens\[0\]: expected \{id, content, special\}/);
    fails((f) => (f.tokenizer.model = { type: "Nonsense" }), /t\/tokenizer\.json: \(tokenizer\.json\): @huggingface\/tokenizers cannot load it: Unknown TokenizerModel type: Nonsense/);
    fails(
      (f) => (f.config.add_bos_token = false),
      /t\/tokenizer_config\.json: add_bos_token: says false, but t\/tokenizer\.json's post_processor adds the token; transformers' tokenizer classes disagree/,
    );
    fails((f) => (f.config.eos_token = "<|nope|>"), /t\/tokenizer_config\.json: eos_token: "<\|nope\|>" is not a token of t\/tokenizer\.json/);
    fails((f) => (f.config.chat_template = [{ name: "x", template: "T" }]), /t\/tokenizer_config\.json: chat_template: expected a "default" entry among \["x"\]/);
    fails((f) => ((f.tokenizer.post_processor as Json).type = "RobertaProcessing"), /t\/tokenizer\.json: post_processor\.type: expected ByteLevel, Sequence or TemplateProcessing, found "RobertaProcessing"/);
  });
});
