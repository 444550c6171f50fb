/**
 * Reading a native engine's log (llama.cpp, bitnet.cpp): the milliseconds a run spent evaluating, from the timing
 * lines both print at exit — `llama_perf_context_print:` (bitnet.cpp's 2024 fork) or `common_perf_print:` (llama.cpp
 * of 2026) — "prompt eval time = X ms / N tokens" and "eval time = Y ms / M runs". `pnpm bench:model` subtracts them
 * from the run's wall time to get the engine's load time (bench/engine-load.ts).
 */
export function engineEvalMs(log: string, source: string): number {
  const ms = (label: string, pattern: string): number => {
    const m = new RegExp(`${pattern}\\s*=\\s*([0-9.]+) ms`).exec(log);
    if (!m) throw new Error(`${source}: no "${label} = … ms" line in its output; its last lines:\n${log.split("\n").slice(-8).join("\n")}`);
    return Number(m[1]);
  };
  // "eval time" that is not the end of "prompt eval time"
  return ms("prompt eval time", "\\bprompt eval time") + ms("eval time", "(?<!prompt )\\beval time");
}
