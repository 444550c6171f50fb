import { createJsBackend } from "@onebit/kernels";
import { describe, expect, it } from "vitest";
import { runtimeReport } from "./runtime-report";
import { initWeights } from "./tensor-names";
import { microSpec } from "./testing/micro-spec";
import { Transformer } from "./transformer";

describe("runtimeReport", () => {
  it("reports memory, sparsity (gate/up combined) and energy", () => {
    const spec = microSpec("a4.8");
    const m = new Transformer(spec, initWeights(spec, 9, 0.2), { backend: createJsBackend() });
    m.forward([1, 2, 3, 4], m.newCache());
    const r = runtimeReport(m);
    expect(r.sparsity.o).toBeCloseTo(0.5, 1); // Top-K 50 % on the output projection's input
    expect(r.sparsity.down).toBeGreaterThan(0.3); // ReLU² zeros
    expect(r.sparsity["gate/up"]).toBeGreaterThanOrEqual(r.sparsity.gate!);
    expect(r.memory.total).toBe(r.memory.embeddings + r.memory.lmHead + r.memory.attention + r.memory.ffn + r.memory.norms);
    // tied: the lookups read the LM head's storage, which the js backend keeps as the f32 array itself
    expect(r.memory.embeddings).toBe(0);
    expect(r.memory.lmHead).toBe(spec.vocab_size * spec.hidden_size * 4);
    expect(r.energy.saving).toBeGreaterThan(50);
  });
});
