/**
 * `--config` files under seeded fuzzing, in a worker capped at 256 MiB and 60 s: every mutation is read cleanly
 * or refused with a usage error (CliError, exit 2) naming the file — no crash, no hang.
 */
import { describe, expect, it } from "vitest";
import { runFuzzInWorker } from "../../../../packages/model/src/testing/fuzz-harness";

describe("--config file fuzzing", () => {
  it("4000 mutated config files: no crash, no hang", async () => {
    const r = await runFuzzInWorker(new URL("./config-file-fuzz-target.ts", import.meta.url), { seed: 3, cases: 4000, timeLimitMs: 60_000, caseLimitMs: 1000 });
    console.log(`--config fuzz: ${JSON.stringify({ ...r, failures: r.failures.length })}`);
    expect(r.failures).toEqual([]);
    expect(r.cases).toBe(4000);
    expect(r.accepted).toBeGreaterThan(100);
    expect(r.refused).toBeGreaterThan(1000);
  }, 90_000);
});
