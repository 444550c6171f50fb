/**
 * Fuzz target (run by model-spec-fuzz.test.ts in a capped worker): mutated config.json objects through
 * parseModelSpec, and every 8th case a mutated config.json file in a onebit model folder through openModel.
 * Expected refusals: ModelSpecError naming the field, ModelFileError / SafetensorsError naming the file, or
 * loadCheckpoint's ModelInputError prefixed with config.json's path.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveCheckpoint } from "./checkpoint";
import { openModel } from "./load/open-model";
import { ModelInputError } from "./model-input-error";
import { ModelSpecError, parseModelSpec, specParameterCount } from "./model-spec";
import { preset } from "./presets";
import { SafetensorsError } from "./safetensors";
import { initWeights } from "./tensor-names";
import type { FuzzTarget } from "./testing/fuzz-harness";
import { mutateJson, mutateText } from "./testing/json-mutator";
import { ModelFileError } from "./weights/weight-source";

export async function fuzzTarget(): Promise<FuzzTarget> {
  const spec = preset("b1.58", "tiny", { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 });
  const base = { ...spec, quantization_config: { quant_method: "bitnet" }, torch_dtype: "bfloat16" };
  const dir = mkdtempSync(join(tmpdir(), "onebit-fuzz-spec-"));
  await saveCheckpoint(dir, { spec, weights: initWeights(spec, 1) });
  return {
    next(rand, i) {
      const { value, what } = mutateJson(base, rand);
      if (i % 8 !== 7)
        return {
          what,
          run() {
            const parsed = parseModelSpec(value);
            if (!Number.isFinite(specParameterCount(parsed))) throw new Error("accepted a spec whose parameter count is not finite");
          },
        };
      const file = rand() < 0.3 ? mutateText(JSON.stringify(base, null, 2), rand) : { text: JSON.stringify(value), what };
      return {
        what: `config.json: ${file.what}`,
        async run() {
          writeFileSync(join(dir, "config.json"), file.text);
          await openModel(dir);
        },
      };
    },
    refusal(err) {
      if (err instanceof ModelSpecError) return err.message.startsWith(`ModelSpec.${err.field}: `) ? undefined : "message does not name the field";
      if (err instanceof ModelFileError || err instanceof SafetensorsError) return err.message.includes(dir) ? undefined : "message does not name the file";
      // loadCheckpoint re-throws a config's ModelSpecError as a ModelInputError prefixed with the file (by design)
      if (err instanceof ModelInputError && err.message.startsWith(join(dir, "config.json"))) return undefined;
      return "not a ModelSpecError / ModelFileError / SafetensorsError / ModelInputError naming config.json";
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
