/** The child process of run-pool.ts: lowers its own priority, runs one config, sends the result back. */
import { setPriority } from "node:os";
import { type RunConfig, trainRun } from "./train-run";

try {
  setPriority(10); // nice 10: the report's training yields to interactive work on a shared machine
} catch {
  // not permitted here: run at the inherited priority
}
process.once("message", async (m) => {
  const { config } = m as { config: RunConfig };
  const result = await trainRun(config, (line) => process.send!({ line }));
  process.send!({ result }, () => process.exit(0));
});
