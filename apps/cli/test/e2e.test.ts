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
    for (const name of ["onebit-t2", "onebit-b1", "tq2_0", "tq1_0", "i2_s", "hf-packed", "int4", "fp4"]) expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/tq1_0 .* 1\.6875/);
  });
  it("refuses a bad option value with a one-line error and exit 2", async () => {
    const r = await runCli(["formats", "--rows", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("onebit: error: --rows: expected an integer ≥ 1, got \"0\"");
  });
});
