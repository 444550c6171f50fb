/**
 * Runs training configs in child processes, `parallel` at a time (tfjs-wasm trains on one thread, so two runs
 * share the two cores), each under `nice` so the report yields to other work on a shared machine. Every finished
 * run is handed to `onResult` at once (the caller caches it), so an interrupted piece keeps what it finished.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RunConfig, RunResult } from "./train-run";

const childModule = fileURLToPath(new URL("./run-child.ts", import.meta.url));

export async function runPool(configs: RunConfig[], onResult: (r: RunResult) => void, options: { parallel?: number; log?: (s: string) => void } = {}): Promise<void> {
  const log = options.log ?? ((s: string) => console.error(s));
  const queue = [...configs];
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const config = c;
      const started = performance.now();
      log(`start ${config.id}`);
      try {
        const result = await new Promise<RunResult>((resolve, reject) => {
          let got: RunResult | undefined;
          const child = fork(childModule, [], { execArgv: process.execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
          child.on("message", (m) => {
            const msg = m as { line?: string; result?: RunResult };
            if (msg.line) log(msg.line);
            if (msg.result) got = msg.result;
          });
          child.on("exit", (code) => (code === 0 && got ? resolve(got) : reject(new Error(`${config.id}: training process exited with ${code}`))));
          child.send({ config });
        });
        onResult(result);
        log(`done ${config.id}: val ppl ${result.validationPerplexity.toFixed(2)}${result.divergedAtStep ? ` (diverged at step ${result.divergedAtStep})` : ""} in ${((performance.now() - started) / 60000).toFixed(1)} min`);
      } catch (e) {
        failures.push((e as Error).message);
        log(String((e as Error).message));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 2) }, worker));
  if (failures.length) throw new Error(`${failures.length} run(s) failed:\n${failures.join("\n")}`);
}
