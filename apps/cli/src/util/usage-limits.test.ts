/**
 * The multi-flag range checks: each refusal is a usage error (exit 2) naming the flag, the size it implies and the
 * limit, decided before anything is allocated.
 */
import { presetByName } from "@onebit/model";
import { describe, expect, it } from "vitest";
import { checkFormatsSize } from "../commands/formats";
import { checkKernelSizes } from "../commands/bench";
import { CliError } from "./cli-error";
import { checkContext, checkMemory, checkWorkerSplit, parseIntList, parseShape, trainingBytes } from "./usage-limits";

function usageError(f: () => unknown): CliError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(2);
    return e as CliError;
  }
  throw new Error("expected a usage error");
}

const GiB = 2 ** 30;

describe("usage limits", () => {
  it("refuses sizes over the memory limit, naming the flag, the size and the limit", () => {
    expect(usageError(() => checkMemory("--rows 9 × --cols 9", 3 * GiB, "a matrix", 2 * GiB)).message).toBe(
      "--rows 9 × --cols 9: a matrix would need about 3.0 GiB, over the 2.0 GiB this command may use (half of this machine's 4.0 GiB)",
    );
    expect(() => checkMemory("--x", GiB, "a matrix", 2 * GiB)).not.toThrow();
  });

  it("formats: refuses a 100000×100000 matrix by both flags and accepts the default", () => {
    expect(usageError(() => checkFormatsSize(100000, 100000)).message).toMatch(/^--rows 100000 × --cols 100000: the weight matrix would have 1\.000e\+10 elements, over the 4294967295 one array can hold$/);
    expect(usageError(() => checkFormatsSize(50000, 50000, 8 * GiB)).message).toMatch(/^--rows 50000 × --cols 50000: a 50000×50000 float32 matrix and its quantized copies would need about 37 GiB, over the 8\.0 GiB/);
    expect(() => checkFormatsSize(2560, 6912, 8 * GiB)).not.toThrow();
  });

  it("bench: checks --shape and --tokens before any table prints", () => {
    expect(usageError(() => checkKernelSizes("100000x100000", "1")).message).toMatch(/^--shape 100000x100000: the weight matrix would have 1\.000e\+10 elements/);
    expect(usageError(() => checkKernelSizes("2560x6912", "1,1000000")).message).toMatch(/^--tokens 1000000: the activations would have 6\.912e\+9 elements/);
    expect(usageError(() => checkKernelSizes("60000x60000", "1", 2 * GiB)).message).toMatch(/^--shape 60000x60000 with --tokens 1: .* would need about 5\.0 GiB, over the 2\.0 GiB/);
    expect(usageError(() => checkKernelSizes("2560", "1")).message).toBe('--shape: expected <out>x<in> of positive integers ≤ 2147483647, such as 2560x6912, got "2560"');
    expect(usageError(() => checkKernelSizes("0x5", "1")).message).toMatch(/^--shape: /);
    expect(checkKernelSizes("2560x6912", "1,32", 8 * GiB)).toEqual({ outF: 2560, inF: 6912, tokenCounts: [1, 32] });
  });

  it("parses lists and shapes strictly", () => {
    expect(parseIntList("--threads", "1, 2,4", 256)).toEqual([1, 2, 4]);
    expect(usageError(() => parseIntList("--threads", "1,,2")).message).toMatch(/^--threads: expected a comma-separated list/);
    expect(usageError(() => parseIntList("--threads", "1000", 256)).message).toBe('--threads: expected a comma-separated list of integers in 1..256, got "1000"');
    expect(parseShape("--shape", "3x4")).toEqual([3, 4]);
  });

  it("checks token counts against the model's context", () => {
    const spec = presetByName("b1.58-tiny");
    expect(usageError(() => checkContext("--seq-len 600", 600, spec, "sequences of 600 tokens")).message).toBe("--seq-len 600: sequences of 600 tokens exceed the model's context of 512 tokens");
    expect(() => checkContext("--seq-len 512", 512, spec)).not.toThrow();
  });

  it("estimates training memory growing with the square of --seq-len and refuses a worker count that does not split the model", () => {
    const spec = presetByName("b1.58-tiny");
    expect(trainingBytes(spec, 1e6, 8, 64)).toBeLessThan(GiB);
    expect(trainingBytes(spec, 1e6, 8, 100000)).toBeGreaterThan(1000 * GiB);
    expect(usageError(() => checkWorkerSplit(spec, 3)).message).toBe("--workers 3: the model's num_attention_heads 4 does not split into 3 equal shards; use a divisor of 4");
    expect(() => checkWorkerSplit(spec, 2)).not.toThrow();
  });
});
