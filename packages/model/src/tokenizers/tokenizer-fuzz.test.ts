/**
 * Tokenizer files under seeded fuzzing, in a worker capped at 256 MiB and 60 s: onebit BPE JSON, Hugging Face
 * tokenizer.json and GGUF tokenizer metadata, 1000 structural mutations each. Every one loads (and then encodes
 * and decodes) or is refused with a ModelFileError naming the file — no crash, no hang.
 */
import { describe, expect, it } from "vitest";
import { runFuzzInWorker } from "../testing/fuzz-harness";

describe("tokenizer fuzzing", () => {
  it("3000 mutated tokenizer files (BPE JSON, tokenizer.json, GGUF metadata): no crash, no hang", async () => {
    const r = await runFuzzInWorker(new URL("./tokenizer-fuzz-target.ts", import.meta.url), { seed: 7, cases: 3000, timeLimitMs: 60_000, caseLimitMs: 1000 });
    console.log(`tokenizer fuzz: ${JSON.stringify({ ...r, failures: r.failures.length })}`);
    // found by this test and fixed: TemplateProcessing "single"/"pair" items that are not template pieces used to
    // load and then fail inside @huggingface/tokenizers at the first encode; hf-post-processor.ts refuses them now
    expect(r.failures).toEqual([]);
    expect(r.crashes).toBe(0);
    expect(r.hangs).toBe(0);
    expect(r.cases).toBe(3000);
    expect(r.accepted).toBeGreaterThan(300);
    expect(r.refused).toBeGreaterThan(1000);
  }, 90_000);
});
