/**
 * The built `onebit` binary on a LlamaForCausalLM folder quantized with transformers' BitNet integration
 * (quant_method "bitnet", no sub-norms): `convert` from a onebit folder writes it, `inspect` names its
 * architecture, and `convert` to GGUF falls back to arch onebit and says why.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initWeights, preset, saveCheckpoint } from "@onebit/model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./built-cli";

const dir = mkdtempSync(join(tmpdir(), "onebit-e2e-hf-llama-bitnet-"));
const own = join(dir, "own");
const hf = join(dir, "hf");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  ensureBuilt();
  const spec = preset("b1.58", "tiny", { hidden_act: "silu", vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, onebit: { sub_norm: false } });
  await saveCheckpoint(own, { spec, weights: initWeights(spec, 3) });
}, 600_000);

describe("onebit on a LlamaForCausalLM + quant_method bitnet folder (built binary)", () => {
  it("convert --to hf writes it; inspect prints the architecture id; convert to .gguf falls back to arch onebit with the reason", async () => {
    const w = await runCli(["convert", own, hf, "--to", "hf"]);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/architecture hf-llama-bitnet/);
    const config = JSON.parse(readFileSync(join(hf, "config.json"), "utf8"));
    expect([config.architectures[0], config.quantization_config.quant_method]).toEqual(["LlamaForCausalLM", "bitnet"]);
    const r = await runCli(["inspect", hf]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(hf file, architecture hf-llama-bitnet\)/);
    expect(r.stdout).toMatch(/variant b1\.58 · groups 1 · sub-norm no/);
    const g = await runCli(["convert", hf, join(dir, "m.gguf")]);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/architecture onebit/);
    expect(g.stderr).toMatch(/written as arch "onebit" .*bitnet: sub_norm false \(needs true\)/);
  });
});
