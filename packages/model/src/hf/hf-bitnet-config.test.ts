import { describe, expect, it } from "vitest";
import { parseModelSpec } from "../model-spec";
import { bitnet2B4TSpec, preset } from "../presets";
import { BITNET_QUANTIZATION_CONFIG, hfBitnetConfig, parseHfBitnetQuantization } from "./hf-bitnet-config";

// microsoft/bitnet-b1.58-2B-4T-bf16's config.json as published (the packed repo differs in quantization_mode: "offline")
const CONFIG_2B4T_BF16 = {
  architectures: ["BitNetForCausalLM"],
  auto_map: { AutoConfig: "configuration_bitnet.BitNetConfig", AutoModelForCausalLM: "modeling_bitnet.BitNetForCausalLM" },
  bos_token_id: 128000,
  eos_token_id: 128001,
  hidden_act: "relu2",
  hidden_size: 2560,
  initializer_range: 0.02,
  intermediate_size: 6912,
  max_position_embeddings: 4096,
  model_type: "bitnet",
  rms_norm_eps: 1e-5,
  num_attention_heads: 20,
  num_hidden_layers: 30,
  num_key_value_heads: 5,
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  use_cache: true,
  vocab_size: 128256,
  quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "online" },
};

describe("HF BitNet config.json", () => {
  it("reads the quantization_config of 2B4T and its -bf16 sibling", () => {
    expect(parseHfBitnetQuantization(CONFIG_2B4T_BF16, "config.json")).toEqual({ linearClass: "autobitlinear", mode: "online", modulesToNotConvert: ["lm_head"] });
    const packed = { ...CONFIG_2B4T_BF16, quantization_config: BITNET_QUANTIZATION_CONFIG };
    expect(parseHfBitnetQuantization(packed, "config.json")).toEqual({ linearClass: "autobitlinear", mode: "offline", modulesToNotConvert: ["lm_head"] });
    // transformers' BitNetQuantConfig defaults when the keys are absent
    expect(parseHfBitnetQuantization({ quantization_config: { quant_method: "bitnet", modules_to_not_convert: ["x"] } }, "c.json")).toEqual({
      linearClass: "bitlinear",
      mode: "offline",
      modulesToNotConvert: ["lm_head", "x"],
    });
  });

  it("refuses configs that are not BitNet-quantized or that onebit cannot compute", () => {
    expect(() => parseHfBitnetQuantization({ ...CONFIG_2B4T_BF16, quantization_config: undefined }, "c.json")).toThrow("c.json: quantization_config: expected a BitNet quantization_config object, found nothing");
    expect(() => parseHfBitnetQuantization({ quantization_config: { quant_method: "gptq" } }, "c.json")).toThrow('c.json: quantization_config.quant_method: expected "bitnet", found "gptq"');
    expect(() => parseHfBitnetQuantization({ quantization_config: { quant_method: "bitnet", linear_class: "x" } }, "c.json")).toThrow(
      'c.json: quantization_config.linear_class: expected "autobitlinear" or "bitlinear", found "x"',
    );
    expect(() => parseHfBitnetQuantization({ quantization_config: { quant_method: "bitnet", use_rms_norm: true } }, "c.json")).toThrow(/use_rms_norm: expected false/);
  });

  it("writes the fields BitNetConfig needs, and onebit reads the spec back unchanged", () => {
    const spec = bitnet2B4TSpec();
    const config = hfBitnetConfig(spec);
    for (const [k, v] of Object.entries(CONFIG_2B4T_BF16)) if (k !== "auto_map" && k !== "quantization_config") expect(config[k], k).toEqual(v);
    expect(config.quantization_config).toEqual({ quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" });
    expect(config.head_dim).toBe(128);
    expect(parseModelSpec(JSON.parse(JSON.stringify(config)))).toEqual(spec);
    expect(parseHfBitnetQuantization(config, "config.json").linearClass).toBe("autobitlinear");
    expect(() => hfBitnetConfig(preset("a4.8", "tiny"))).toThrow('ModelSpec.onebit.variant: transformers\' BitNet runs BitNet b1.58 (ternary weights, int8 activations): expected "b1.58", found "a4.8"');
    expect(() => hfBitnetConfig({ ...spec, onebit: { ...spec.onebit, groups: 4 } })).toThrow(/onebit.groups: transformers' BitNet stores one weight_scale per linear: expected 1, found 4/);
  });
});
