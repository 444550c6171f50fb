import { describe, expect, it } from "vitest";
import { bitnet2B4TSpec, preset } from "../presets";
import { schemeName, tensorList } from "../tensor-names";
import { ARCHITECTURES, architectureForConfig, architectureForGguf, ggufArchitectureFor, hfArchitectureFor } from "./registry";
import { parseTensorName, TENSOR_KINDS } from "./tensor-kinds";

describe("architecture table", () => {
  it("names every 2B4T tensor as transformers and llama.cpp do, and parses each name back to its kind and layer", () => {
    const spec = bitnet2B4TSpec();
    const list = tensorList(spec);
    // 2B4T: embedding + 30 × (2 norms + 7 projections + 2 sub-norms) + final norm; tied, so no lm_head
    expect(list.length).toBe(1 + 30 * 11 + 1);
    const q3 = list.find((t) => t.kind.id === "attn_q" && t.layer === 3)!;
    expect(q3.name).toBe("model.layers.3.self_attn.q_proj.weight");
    expect(schemeName(q3, "gguf")).toBe("blk.3.attn_q.weight");
    expect(q3.shape).toEqual([2560, 2560]);
    const k0 = list.find((t) => t.kind.id === "attn_k" && t.layer === 0)!;
    expect(k0.shape).toEqual([640, 2560]);
    expect(schemeName(list.find((t) => t.kind.id === "ffn_sub_norm" && t.layer === 29)!, "gguf")).toBe("blk.29.ffn_sub_norm.weight");
    for (const t of list)
      for (const scheme of ["hf", "gguf"] as const) {
        const parsed = parseTensorName(schemeName(t, scheme), scheme);
        expect(parsed?.kind.id).toBe(t.kind.id);
        expect(parsed?.layer).toBe(t.layer);
      }
    expect(parseTensorName("blk.3.attn_q.weight.extra", "gguf")).toBeUndefined();
    expect(parseTensorName("blk.x.attn_q.weight", "gguf")).toBeUndefined();
    expect(parseTensorName("blk.03.attn_q.weight", "gguf")).toBeUndefined();
  });

  it("gives every tensor a tensor-parallel role: column for q/k/v/gate/up and sub-norms, row for o/down, replicated otherwise", () => {
    const roles = Object.fromEntries(TENSOR_KINDS.map((k) => [k.id, k.role]));
    expect(roles).toMatchObject({ attn_q: "column", attn_k: "column", attn_v: "column", ffn_gate: "column", ffn_up: "column", attn_output: "row", ffn_down: "row", attn_sub_norm: "column", ffn_sub_norm: "column", token_embd: "replicated", attn_norm: "replicated", output: "replicated" });
  });

  it("chooses the GGUF architecture a foreign runtime can run, or onebit's own with the reason", () => {
    expect(ggufArchitectureFor(preset("b1.58", "tiny", { hidden_act: "silu" })).architecture.gguf?.arch).toBe("bitnet");
    expect(ggufArchitectureFor(preset("b1.58", "tiny")).architecture.gguf?.arch).toBe("bitnet-b1.58");
    expect(ggufArchitectureFor(preset("fp", "tiny")).architecture.gguf?.arch).toBe("llama");
    const a48 = ggufArchitectureFor(preset("a4.8", "tiny"));
    expect(a48.architecture.gguf?.arch).toBe("onebit");
    expect(a48.reason).toContain("variant a4.8");
    const grouped = ggufArchitectureFor(preset("b1.58", "tiny", { onebit: { groups: 2 } }));
    expect(grouped.architecture.id).toBe("onebit");
    expect(grouped.reason).toContain("2 quantization groups");
    expect(hfArchitectureFor(preset("b1.58", "tiny")).architecture?.id).toBe("hf-bitnet");
    expect(hfArchitectureFor(preset("bitnet", "tiny")).reason).toContain("variant bitnet");
  });

  it("looks architectures up by GGUF arch and by config.json, naming what is supported when nothing matches", () => {
    expect(architectureForGguf("bitnet-b1.58", "m.gguf").id).toBe("bitnet.cpp-bitnet-b1.58");
    expect(() => architectureForGguf("qwen2", "m.gguf")).toThrow(/m\.gguf: general\.architecture "qwen2" is not supported; supported: onebit, bitnet, bitnet-b1\.58, llama/);
    expect(architectureForConfig({ architectures: ["BitNetForCausalLM"], quantization_config: { quant_method: "bitnet" } }, "config.json").id).toBe("hf-bitnet");
    // the quantization method is part of the identity: transformers runs an unquantized BitNetForCausalLM with nn.Linear
    expect(() => architectureForConfig({ architectures: ["BitNetForCausalLM"] }, "config.json")).toThrow(
      'config.json: quantization_config.quant_method: BitNetForCausalLM is read as hf-bitnet (quant_method "bitnet"); found no quantization_config',
    );
    expect(architectureForConfig({ model_type: "llama" }, "config.json").id).toBe("llama");
    expect(() => architectureForConfig({ model_type: "gpt2" }, "x/config.json")).toThrow(/x\/config\.json: model_type "gpt2"/);
    expect(new Set(ARCHITECTURES.map((a) => a.id)).size).toBe(ARCHITECTURES.length);
  });

  it("reads the spec back from the GGUF metadata it writes, for every foreign architecture", () => {
    for (const spec of [preset("b1.58", "tiny", { hidden_act: "silu" }), preset("b1.58", "tiny"), preset("fp", "tiny"), preset("a4.8", "tiny", { onebit: { groups: 2 } })]) {
      const { architecture } = ggufArchitectureFor(spec);
      const meta = new Map<string, unknown>(architecture.toGgufMetadata!(spec).map((kv) => [kv.key, kv.value]));
      meta.set("tokenizer.ggml.bos_token_id", spec.bos_token_id);
      meta.set("tokenizer.ggml.eos_token_id", spec.eos_token_id);
      const back = architecture.specFromGguf!(meta, "m.gguf", !spec.tie_word_embeddings);
      // the HF identity follows the architecture (an fp preset says "bitnet"; read back as llama it says "llama")
      expect(back).toEqual({ ...spec, model_type: back.model_type, architectures: back.architectures });
      expect(back.model_type).toBe(spec.onebit.variant === "fp" ? "llama" : "bitnet");
    }
  });

  it("refuses GGUF metadata of the wrong type naming the key", () => {
    const spec = preset("b1.58", "tiny", { hidden_act: "silu" });
    const { architecture } = ggufArchitectureFor(spec);
    const meta = new Map<string, unknown>(architecture.toGgufMetadata!(spec).map((kv) => [kv.key, kv.value]));
    meta.set("bitnet.block_count", "4");
    expect(() => architecture.specFromGguf!(meta, "m.gguf", false)).toThrow('m.gguf: bitnet.block_count: expected an integer, found "4"');
    meta.delete("bitnet.block_count");
    expect(() => architecture.specFromGguf!(meta, "m.gguf", false)).toThrow("m.gguf: bitnet.block_count: missing");
    meta.set("bitnet.block_count", 0);
    expect(() => architecture.specFromGguf!(meta, "m.gguf", false)).toThrow(/m\.gguf: bitnet\.block_count: expected a positive integer, got 0/);
  });
});
