// The command line of `pnpm report` and which scaling runs each level selects (no training, no files written).
import { describe, expect, it } from "vitest";
import { canonicalRule, scalingConfigs, scalingRunId } from "./pieces/scaling-runs";
import { parseReportArgs } from "./report-options";
import { pairedGap } from "./sections/paired-gap";
import { formatGap, seedStats } from "./stats";
import type { RunResult } from "./train/train-run";
import type { TrainingResults } from "./train/training-piece";

describe("parseReportArgs", () => {
  it("reads --only, --seeds, --heavy, --force and --parallel", () => {
    expect(parseReportArgs([])).toEqual({ level: "default", force: false, parallel: 2 });
    expect(parseReportArgs(["--", "--only", "scaling,a48", "--seeds", "--parallel=1"])).toEqual({ only: ["scaling", "a48"], level: "seeds", force: false, parallel: 1 });
    expect(parseReportArgs(["--heavy", "--seeds", "--force", "--parallel", "3"])).toMatchObject({ level: "heavy", force: true, parallel: 3 });
  });
  it("rejects what it does not know with the reason", () => {
    expect(() => parseReportArgs(["--only", "nope"])).toThrow(/unknown piece "nope"/);
    expect(() => parseReportArgs(["--parallel", "0"])).toThrow(/--parallel: give a whole number/);
    expect(() => parseReportArgs(["--parallel"])).toThrow(/--parallel/);
    expect(() => parseReportArgs(["--fast"])).toThrow(/unknown argument "--fast"; usage/);
  });
});

describe("scaling runs", () => {
  it("shares one run between rules that train identically", () => {
    expect(scalingRunId("mup", "b1.58", 128, 1)).toBe("constant-b1.58-w128-s1"); // μP's multiplier is 1 at the base width
    expect(scalingRunId("mup-low", "fp", 64, 2)).toBe("mup-fp-w64-s2"); // fp's base rate is the same under both μP rules
    expect(scalingRunId("mup-low", "fp", 128, 1)).toBe("constant-fp-w128-s1");
    expect(scalingRunId("mup-low", "b1.58", 128, 1)).toBe("mup-low-b1.58-w128-s1"); // 3e-3, not 5e-3
    expect(canonicalRule("mup-low", "b1.58", 32)).toBe("mup-low");
  });
  it("--seeds adds seeds 2 and 3 of the fp / b1.58 grid and nothing of --heavy's", () => {
    const base = scalingConfigs("default").map((c) => c.id);
    const seeds = scalingConfigs("seeds").map((c) => c.id);
    const added = seeds.filter((id) => !base.includes(id));
    expect(added).toHaveLength(32); // 2 seeds × (3 widths × 5 distinct fp / b1.58 runs, less the 2 the base width shares, + 3 block controls)
    expect(added.every((id) => /-(fp|b1\.58|fp-b158block)-w(32|64|128)-s[23]$/.test(id))).toBe(true);
    const heavy = scalingConfigs("heavy").map((c) => c.id);
    expect(seeds.every((id) => heavy.includes(id))).toBe(true);
    expect(heavy.some((id) => id.includes("w256"))).toBe(true);
    const c = scalingConfigs("seeds").find((x) => x.id === "mup-low-b1.58-w64-s3")!;
    expect([c.lr, c.rule, c.baseWidth]).toEqual([3e-3, "mup-low", 128]);
  });
});

describe("the paired 1-bit gap", () => {
  const run = (id: string, ppl: number): RunResult => ({ config: { id, seed: Number(id.at(-1)) }, validationPerplexity: ppl }) as unknown as RunResult;
  const r = { runs: Object.fromEntries([run("constant-fp-w32-s1", 100), run("constant-fp-w32-s2", 200), run("constant-b1.58-w32-s1", 110), run("constant-b1.58-w32-s2", 180), run("constant-b1.58-w32-s3", 1)].map((x) => [x.config.id, x])) } as unknown as TrainingResults;
  it("pairs each seed with the fp run of the same seed and skips unpaired seeds", () => {
    const g = pairedGap(r, "constant", "b1.58", 32);
    expect(g.n).toBe(2);
    expect(g.mean).toBeCloseTo(0, 10); // +10 % and −10 %
    expect(g.std).toBeCloseTo(Math.sqrt(0.02), 10);
    expect(formatGap(g)).toBe("+0.0 ± 14.1 % †");
    expect(formatGap(seedStats([0.05, 0.07, 0.06]))).toBe("+6.0 ± 1.0 %");
  });
});
