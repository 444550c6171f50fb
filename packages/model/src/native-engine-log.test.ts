import { describe, expect, it } from "vitest";
import { engineEvalMs } from "./native-engine-log";

// the exit lines as the two engines print them (copied from runs on a 2B4T-shaped file, 2026-12-02)
const BITNET_CPP = `llama_perf_sampler_print:    sampling time =       0.02 ms /     3 runs   (    0.01 ms per token, 150000.00 tokens per second)
llama_perf_context_print:        load time =    2014.22 ms
llama_perf_context_print: prompt eval time =     143.22 ms /     2 tokens (   71.61 ms per token,    13.96 tokens per second)
llama_perf_context_print:        eval time =       0.00 ms /     1 runs   (    0.00 ms per token,      inf tokens per second)
llama_perf_context_print:       total time =    2014.50 ms /     3 tokens`;
const LLAMA_CPP = `0.02.331.772 I common_perf_print:        load time =     127.35 ms
0.02.331.775 I common_perf_print: prompt eval time =     126.92 ms /     2 tokens (   63.46 ms per token,    15.76 tokens per second)
0.02.331.777 I common_perf_print:        eval time =      61.50 ms /     1 runs   (   61.50 ms per token,    16.26 tokens per second)
0.02.331.778 I common_perf_print:       total time =     127.97 ms /     3 tokens`;

describe("engineEvalMs", () => {
  it("sums prompt eval and eval time, not load or total time, in either log format", () => {
    expect(engineEvalMs(BITNET_CPP, "bitnet.cpp")).toBeCloseTo(143.22, 9);
    expect(engineEvalMs(LLAMA_CPP, "llama.cpp")).toBeCloseTo(126.92 + 61.5, 9);
  });

  it("reads eval time even when it comes before prompt eval time", () => {
    const swapped = LLAMA_CPP.split("\n").reverse().join("\n");
    expect(engineEvalMs(swapped, "llama.cpp")).toBeCloseTo(188.42, 9);
  });

  it("names the source and shows the log's end when a line is missing", () => {
    const noEval = BITNET_CPP.split("\n").filter((l) => !/ eval time/.test(l) || /prompt/.test(l)).join("\n");
    expect(() => engineEvalMs(noEval, "/x/llama-cli")).toThrow(/\/x\/llama-cli: no "eval time = … ms" line[\s\S]*total time/);
    expect(() => engineEvalMs("", "/x/llama-cli")).toThrow(/no "prompt eval time = … ms" line/);
  });
});
