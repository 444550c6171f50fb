/** TrainableModel.quantOverride: a training-time ablation replaces the variant's per-projection quantization. */
import { initWeights, preset } from "@onebit/model";
import { describe, expect, it } from "vitest";
import { tf, useTrainBackend } from "./tf-backend";
import { TrainableModel } from "./trainable-model";

describe("TrainableModel.quantOverride", () => {
  it("an a4.8 model at stage 2 with W1.58A8 forced on every projection equals the same model at stage 1", async () => {
    await useTrainBackend("cpu");
    const spec = preset("a4.8", "tiny", { vocab_size: 32, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2 });
    const init = initWeights(spec, 3);
    const ids = tf.tensor2d([[1, 4, 9, 16, 25]], [1, 5], "int32");
    // one model at a time: tfjs variables are named after the tensors
    const logits = (stage: 1 | 2, override?: TrainableModel["quantOverride"]) => {
      const m = new TrainableModel(spec, init);
      m.stage = stage;
      m.quantOverride = override;
      const out = [...(m.forward(ids).dataSync() as Float32Array)];
      m.dispose();
      return out;
    };
    const stage1 = logits(1);
    expect(logits(2, () => ({ weight: "ternary", activation: "int8" }))).toEqual(stage1);
    expect(logits(2)).not.toEqual(stage1); // the override is what made them equal
  });
});
