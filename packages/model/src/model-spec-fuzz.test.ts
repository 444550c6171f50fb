/**
 * config.json / ModelSpec under seeded fuzzing, in a worker capped at 256 MiB and 60 s: every mutation parses
 * cleanly or is refused with ModelSpecError/ModelFileError naming the field or file — no crash, no hang.
 */
import { describe, expect, it } from "vitest";
import { runFuzzInWorker } from "./testing/fuzz-harness";

describe("config.json fuzzing", () => {
  it("4000 mutated configs (parseModelSpec; every 8th through openModel on a folder): no crash, no hang", async () => {
    const r = await runFuzzInWorker(new URL("./model-spec-fuzz-target.ts", import.meta.url), { seed: 41, cases: 4000, timeLimitMs: 60_000, caseLimitMs: 1000 });
    console.log(`config.json fuzz: ${JSON.stringify({ ...r, failures: r.failures.length })}`);
    expect(r.failures).toEqual([]);
    expect(r.cases).toBe(4000);
    expect(r.accepted).toBeGreaterThan(200);
    expect(r.refused).toBeGreaterThan(1000);
  }, 90_000);
});
