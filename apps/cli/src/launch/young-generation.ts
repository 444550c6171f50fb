/**
 * A small young generation for the commands that run a model. V8 grows a heap's new space up to two 16 MiB
 * semi-spaces (32 MiB resident) once enough objects have survived scavenges, and a decode loop gets there: after
 * `onebit bench --only model` on the 2B4T-shaped GGUF, `v8.getHeapSpaceStatistics()` showed new_space at 32 MiB
 * physical with 2 MiB of it in use. Nothing a model run allocates in JavaScript lives long (the weights, KV caches
 * and activations live in wasm memory), so `--max-semi-space-size=1` costs no speed and keeps that memory:
 * on a 2-vCPU AMD EPYC VM, 2 threads, the run's resident memory went from 922 to 885 MB, with the same prefill
 * and decode tokens/s (BENCHMARKS.md). The flag is read only when V8 builds a heap (`v8.setFlagsFromString` later
 * changes nothing), so it is given to the CLI's restarted child (relaunch.ts) and reaches its worker threads too.
 * A user's own `--max-semi-space-size` (in NODE_OPTIONS or on node's command line) is left as it is:
 * `NODE_OPTIONS=--max-semi-space-size=16` restores V8's default.
 */
import { MODEL_COMMANDS } from "./huge-pages";

/** Each semi-space at most 1 MiB (V8's starting size): the new space never grows past 2 MiB. */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=1";

/**
 * The node flags to start the CLI again with for the command line `args`, or undefined when none are needed: not a
 * model command, or the semi-space size already chosen on node's command line (`execArgv`, the restarted child
 * included) or in NODE_OPTIONS.
 */
export function youngGenerationArgs(env: NodeJS.ProcessEnv, execArgv: readonly string[], args: readonly string[]): string[] | undefined {
  if (!MODEL_COMMANDS.includes(args[0] ?? "")) return undefined;
  const named = (s: string) => /(^|\s)--max[-_]semi[-_]space[-_]size(=|\s|$)/.test(s);
  if (execArgv.some(named) || named(env.NODE_OPTIONS ?? "")) return undefined;
  return [YOUNG_GENERATION_FLAG];
}
