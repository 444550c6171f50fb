import { describe, expect, it } from "vitest";
import { YOUNG_GENERATION_FLAG, youngGenerationArgs } from "./young-generation";
import { runCliWithProbe } from "./run-cli-with-probe";

describe("youngGenerationArgs", () => {
  it("asks for the flag for a model command that does not have it", () => {
    expect(youngGenerationArgs({}, [], ["bench", "--only", "model"])).toEqual([YOUNG_GENERATION_FLAG]);
    expect(youngGenerationArgs({ NODE_OPTIONS: "--max-old-space-size=4096" }, ["--conditions=source"], ["generate", "m.gguf"])).toEqual([YOUNG_GENERATION_FLAG]);
  });
  it("leaves a command that opens no model, the restarted child and the user's own size alone", () => {
    expect(youngGenerationArgs({}, [], ["demo"])).toBeUndefined();
    expect(youngGenerationArgs({}, [], ["--help"])).toBeUndefined();
    expect(youngGenerationArgs({}, [], [])).toBeUndefined();
    expect(youngGenerationArgs({}, [YOUNG_GENERATION_FLAG, "--import", "tsx"], ["bench"])).toBeUndefined(); // the child
    expect(youngGenerationArgs({}, ["--max-semi-space-size", "8"], ["bench"])).toBeUndefined();
    expect(youngGenerationArgs({}, ["--max_semi_space_size=8"], ["bench"])).toBeUndefined();
    expect(youngGenerationArgs({ NODE_OPTIONS: "--inspect --max-semi-space-size=16" }, [], ["serve"])).toBeUndefined();
  });
});

describe("the CLI started again with a small young generation", () => {
  // each process the CLI runs in fills its new space with short-lived garbage, then reports the new space's size
  const probe = `import v8 from "node:v8";
let keep = [];
for (let i = 0; i < 1e6; i++) { keep.push({ i, a: [i] }); if (keep.length > 40000) keep = []; }
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
process.stderr.write("NEW_SPACE " + ns.physical_space_size + "\\n");`;
  const cli = (args: string[], env: NodeJS.ProcessEnv) => runCliWithProbe(probe, args, { ONEBIT_HUGE_PAGES: "0", ...env });
  const sizes = (stderr: string) => [...stderr.matchAll(/^NEW_SPACE (\d+)$/gm)].map((m) => Number(m[1]));

  it("runs a model command in a child whose new space stays at 2 MiB (V8 grew the parent's past it)", () => {
    const r = cli(["inspect", "--help"], {});
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: onebit inspect/);
    const [parent, child] = sizes(r.stderr);
    expect(sizes(r.stderr)).toHaveLength(2);
    expect(parent).toBeGreaterThan(2 * 2 ** 20);
    expect(child).toBeLessThanOrEqual(2 * 2 ** 20);
  });
  it("starts once, whatever the child's flags (the restart's marker)", () => {
    const r = cli(["inspect", "--help"], { ONEBIT_RELAUNCHED: "1" });
    expect(r.status).toBe(0);
    expect(sizes(r.stderr)).toHaveLength(1);
  });
  it("keeps a size the user chose, in one process", () => {
    const r = cli(["inspect", "--help"], { NODE_OPTIONS: "--max-semi-space-size=4" });
    expect(r.status).toBe(0);
    expect(sizes(r.stderr)).toHaveLength(1);
    expect(sizes(r.stderr)[0]).toBeLessThanOrEqual(8 * 2 ** 20);
  });
});
