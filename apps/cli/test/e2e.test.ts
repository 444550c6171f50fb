import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./built-cli";

beforeAll(() => ensureBuilt(), 600_000);

describe("onebit (built binary)", () => {
  it("prints help listing every command and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: onebit/);
  });
  it("exits 2 with a one-line error for an unknown command", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
  it("formats: prints every weight format with its bits per weight", async () => {
    const r = await runCli(["formats", "--rows", "16", "--cols", "256"]);
    expect(r.code).toBe(0);
    for (const name of ["onebit-t2", "onebit-t1", "onebit-b1", "tq2_0", "tq1_0", "i2_s", "hf-packed", "int4", "fp4"]) expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/tq1_0 .* 1\.6875/);
  });
  it("refuses a bad option value with a one-line error and exit 2", async () => {
    const r = await runCli(["formats", "--rows", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("onebit: error: --rows: expected an integer ≥ 1, got \"0\"");
  });
  it("refuses sizes the machine cannot hold and flags the sampler would refuse, before printing anything (exit 2)", async () => {
    const big = await runCli(["formats", "--rows", "100000", "--cols", "100000"]);
    expect([big.code, big.stdout]).toEqual([2, ""]);
    expect(big.stderr).toMatch(/^onebit: error: --rows 100000 × --cols 100000: the weight matrix would have 1\.000e\+10 elements/);
    const topP = await runCli(["generate", "b1.58-tiny", "--top-p", "0"]);
    expect([topP.code, topP.stdout]).toEqual([2, ""]);
    expect(topP.stderr).toMatch(/--top-p: expected a number > 0 ≤ 1, got "0"/);
    const ctx = await runCli(["bench", "--only", "model", "--model", "b1.58-tiny", "--prompt-tokens", "1000000"]);
    expect([ctx.code, ctx.stdout]).toEqual([2, ""]);
    expect(ctx.stderr).toMatch(/--prompt-tokens 1000000 \+ --decode-tokens 16: 1000016 tokens exceed the model's context of 512 tokens/);
  });
});
