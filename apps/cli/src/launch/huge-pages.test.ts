import { describe, expect, it } from "vitest";
import { HUGE_PAGES_TUNABLE, hugePagesEnv, runtimeGlibcVersion } from "./huge-pages";
import { runCliWithProbe } from "./run-cli-with-probe";

describe("hugePagesEnv", () => {
  it("adds the tunable on Linux with glibc ≥ 2.35, after any the user set", () => {
    expect(hugePagesEnv({ PATH: "/bin" }, "linux", () => "2.36", ["generate", "m.gguf"])).toEqual({ PATH: "/bin", GLIBC_TUNABLES: HUGE_PAGES_TUNABLE });
    expect(hugePagesEnv({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }, "linux", () => "2.35", ["bench"])?.GLIBC_TUNABLES).toBe(`glibc.malloc.arena_max=2:${HUGE_PAGES_TUNABLE}`);
    expect(hugePagesEnv({}, "linux", () => "3.0", ["bench"])?.GLIBC_TUNABLES).toBe(HUGE_PAGES_TUNABLE);
  });

  it("leaves the process alone where the tunable means nothing, is set already, or is turned off", () => {
    expect(hugePagesEnv({}, "darwin", () => undefined, ["bench"])).toBeUndefined();
    expect(hugePagesEnv({}, "win32", () => undefined, ["bench"])).toBeUndefined();
    expect(hugePagesEnv({}, "linux", () => undefined, ["bench"])).toBeUndefined(); // musl
    expect(hugePagesEnv({}, "linux", () => "2.34", ["bench"])).toBeUndefined();
    expect(hugePagesEnv({}, "linux", () => "1.99", ["bench"])).toBeUndefined();
    expect(hugePagesEnv({ GLIBC_TUNABLES: HUGE_PAGES_TUNABLE }, "linux", () => "2.36", ["bench"])).toBeUndefined(); // the relaunched child
    expect(hugePagesEnv({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }, "linux", () => "2.36", ["bench"])).toBeUndefined(); // the user's choice
    expect(hugePagesEnv({ GLIBC_TUNABLES: "a=1:glibc.malloc.hugetlb=2" }, "linux", () => "2.36", ["bench"])).toBeUndefined();
    expect(hugePagesEnv({ ONEBIT_HUGE_PAGES: "0" }, "linux", () => "2.36", ["bench"])).toBeUndefined();
    // a command that opens no model file, or none at all
    expect(hugePagesEnv({}, "linux", () => "2.36", ["demo"])).toBeUndefined();
    expect(hugePagesEnv({}, "linux", () => "2.36", ["--help"])).toBeUndefined();
    expect(hugePagesEnv({}, "linux", () => "2.36", [])).toBeUndefined();
    // the glibc report (≈ 8 ms) is not asked for where the answer cannot matter
    const unasked = () => {
      throw new Error("glibc version asked");
    };
    for (const [platform, args, env] of [["linux", ["--help"], {}], ["darwin", ["bench"], {}], ["linux", ["bench"], { ONEBIT_HUGE_PAGES: "0" }]] as const)
      expect(hugePagesEnv(env, platform, unasked, args)).toBeUndefined();
  });
});

describe("the CLI started again with the tunable", () => {
  // each process the CLI runs in reports its tunables (an --import the child inherits with the rest of execArgv)
  const probe = `process.stderr.write("TUNABLES " + (process.env.GLIBC_TUNABLES ?? "-") + "\\n");`;
  const cli = (args: string[], env: NodeJS.ProcessEnv) => runCliWithProbe(probe, args, env);
  const linuxGlibc = process.platform === "linux" && hugePagesEnv({}, "linux", runtimeGlibcVersion, ["inspect"]) !== undefined;

  it.runIf(linuxGlibc)("runs the command in a child that has it; output and exit status come through", () => {
    const env = {};
    const ok = cli(["inspect", "--help"], env);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/Usage: onebit inspect/);
    expect([...ok.stderr.matchAll(/^TUNABLES (.*)$/gm)].map((m) => m[1])).toEqual(["-", HUGE_PAGES_TUNABLE]);
    const bad = cli(["inspect", "/no/such/model.gguf"], env);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/no\/such\/model\.gguf/);
  });

  it("runs in one process when turned off (and the young generation's size is the user's own: young-generation.ts)", () => {
    const r = cli(["inspect", "--help"], { ONEBIT_HUGE_PAGES: "0", NODE_OPTIONS: "--max-semi-space-size=16" });
    expect(r.status).toBe(0);
    expect([...r.stderr.matchAll(/^TUNABLES (.*)$/gm)].map((m) => m[1])).toEqual(["-"]);
  });
});
