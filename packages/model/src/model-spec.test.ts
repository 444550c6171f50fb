/**
 * parseModelSpec bounds every size before anything allocates: an absurd config.json is refused at once, naming the
 * field that makes it too large and the size it implies, instead of dying of OOM or "Invalid typed array length".
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_MODEL_BYTES_LIMIT, MAX_VOCAB_SIZE, ModelSpecError, parseModelSpec, specParameterCount } from "./model-spec";
import { bitnet2B4TSpec, presetByName } from "./presets";
import { parameterCounts } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";

const base = { vocab_size: 1024, hidden_size: 128, intermediate_size: 344, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2 };

function errorOf(input: unknown): ModelSpecError {
  try {
    parseModelSpec(input);
  } catch (e) {
    if (e instanceof ModelSpecError) return e;
    throw e;
  }
  throw new Error("expected parseModelSpec to throw");
}

describe("parseModelSpec size bounds", () => {
  it("counts parameters in closed form exactly as tensorList does (tied and untied, with and without SubLN)", () => {
    for (const name of ["b1.58-tiny", "a4.8-small", "fp-tiny"]) {
      const spec = presetByName(name);
      expect(specParameterCount(spec)).toBe(parameterCounts(spec).total);
      const untied = parseModelSpec({ ...spec, tie_word_embeddings: false, onebit: { ...spec.onebit, sub_norm: !spec.onebit.sub_norm } });
      expect(specParameterCount(untied)).toBe(parameterCounts(untied).total);
    }
  });

  it("refuses a layer count that would need more than the memory ceiling, naming num_hidden_layers and the size, at once", () => {
    const t0 = performance.now();
    const e = errorOf({ ...base, num_hidden_layers: 1e9 });
    expect(performance.now() - t0).toBeLessThan(100);
    expect(e.field).toBe("num_hidden_layers");
    expect(e.message).toBe(
      "ModelSpec.num_hidden_layers: 1000000000 makes the model 1.820e+14 parameters (662 TiB as float32: embedding 131072 + 1000000000 layers × 181976), over the 64 GiB limit",
    );
  });

  it("names the widest dimension when a single layer or the embedding is already too large", () => {
    expect(errorOf({ ...base, intermediate_size: 2 ** 30 }).field).toBe("intermediate_size");
    expect(errorOf({ ...base, vocab_size: 2 ** 24, hidden_size: 2 ** 12, num_attention_heads: 32, num_key_value_heads: 32, intermediate_size: 2 ** 12 }).field).toBe("vocab_size");
    // one tensor over the typed-array limit fails at allocation even if the total were allowed
    const wide = errorOf({ ...base, hidden_size: 2 ** 20, intermediate_size: 2 ** 13, num_attention_heads: 2 ** 14, num_key_value_heads: 2 ** 14 });
    expect(wide.message).toMatch(/elements, over the 4294967295 a single array can hold/);
  });

  it("accepts real model sizes (BitNet b1.58 2B4T, an 8B LLaMA) and honours a caller's ceiling", () => {
    const llama8b = { vocab_size: 128256, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, max_position_embeddings: 131072, tie_word_embeddings: false };
    const spec = parseModelSpec(llama8b);
    expect(4 * specParameterCount(spec)).toBeLessThan(DEFAULT_MODEL_BYTES_LIMIT);
    expect(() => parseModelSpec(presetByName("bitnet-b1.58-2B-4T"))).not.toThrow();
    expect(() => parseModelSpec(llama8b, { maxModelBytes: 2 ** 30 })).toThrow(/over the 1\.0 GiB limit/);
  });

  it("bounds integers to int32, the vocabulary to 2^24 and the context to 2^24", () => {
    expect(errorOf({ ...base, hidden_size: 2 ** 31 }).message).toBe(`ModelSpec.hidden_size: expected a positive integer ≤ ${2 ** 31 - 1}, got ${2 ** 31}`);
    expect(errorOf({ ...base, vocab_size: MAX_VOCAB_SIZE + 1 }).message).toBe(`ModelSpec.vocab_size: expected a positive integer ≤ ${MAX_VOCAB_SIZE}, got ${MAX_VOCAB_SIZE + 1}`);
    expect(errorOf({ ...base, max_position_embeddings: 2 ** 25 }).field).toBe("max_position_embeddings");
    expect(errorOf({ ...base, num_hidden_layers: 1e300 }).field).toBe("num_hidden_layers");
    expect(errorOf({ ...base, num_hidden_layers: Number.POSITIVE_INFINITY }).message).toBe("ModelSpec.num_hidden_layers: expected a positive integer, got null");
  });

  it("refuses quantization groups that do not divide a projection's split dimension, naming the projection", () => {
    expect(errorOf({ ...base, onebit: { groups: 7 } }).message).toBe(
      "ModelSpec.onebit.groups: 7 does not divide q_proj's out features (num_attention_heads × head_dim) 128; use a divisor of 128",
    );
    expect(errorOf({ ...base, intermediate_size: 344, onebit: { groups: 16 } }).message).toMatch(/16 does not divide gate_proj's out features \(intermediate_size\) 344/);
    expect(parseModelSpec({ ...base, onebit: { groups: 2 } }).onebit.groups).toBe(2);
  });
});

describe("ModelSpec", () => {
  it("parses a Hugging Face BitNet config, ignoring unknown keys", () => {
    const spec = parseModelSpec({ ...bitnet2B4TSpec(), quantization_config: { quant_method: "bitnet" }, torch_dtype: "bfloat16" });
    expect(spec.hidden_size).toBe(2560);
    expect("torch_dtype" in spec).toBe(false);
  });
  it("names the field at fault", () => {
    expect(() => parseModelSpec({ hidden_size: 64, num_attention_heads: 3, num_key_value_heads: 2, vocab_size: 10, intermediate_size: 8, num_hidden_layers: 1 })).toThrow(
      "ModelSpec.num_key_value_heads: 2 must divide num_attention_heads (3)",
    );
    expect(() => parseModelSpec({ ...microSpec("b1.58"), onebit: { variant: "b2" } })).toThrow(/ModelSpec.onebit.variant: expected one of "fp", "bitnet"/);
    expect(() => parseModelSpec({ ...microSpec("b1.58"), hidden_size: -1 })).toThrow("ModelSpec.hidden_size: expected a positive integer, got -1");
  });
});
