/**
 * Run this CLI again in a child process with another environment (huge-pages.ts says why) and node flags before
 * this process's own (young-generation.ts), and behave as the child does: the same stdio, its exit status, its
 * death by a signal.
 *
 * Signals. The child shares this process group, so a terminal's Ctrl-C (SIGINT to the whole foreground group) and a
 * kill of the group reach it directly. A signal sent to this process alone must be passed on: SIGTERM and SIGHUP
 * always (service managers, a closed terminal), and SIGINT when stdin is not a terminal — a program that started
 * the CLI and interrupts it by its pid. With a terminal on stdin, SIGINT almost always comes from Ctrl-C, which the
 * child already got; passing it on would interrupt the child twice (`generate` stops at the first and is killed by
 * the second).
 */
import { spawn } from "node:child_process";
import { isatty } from "node:tty";

/** Set in the child's environment: a process that has it never starts again (no loop, whatever its flags). */
export const RELAUNCHED_ENV = "ONEBIT_RELAUNCHED";

// (isatty, not process.stdin.isTTY: touching process.stdin would open a stream on the terminal the child reads)
export function relaunch(env: NodeJS.ProcessEnv, options: { stdinIsTerminal?: boolean; nodeArgs?: readonly string[] } = {}): void {
  const stdinIsTerminal = options.stdinIsTerminal ?? isatty(0);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: "inherit", env: { ...env, [RELAUNCHED_ENV]: "1" } });
  const forwarded: NodeJS.Signals[] = stdinIsTerminal ? ["SIGTERM", "SIGHUP"] : ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  if (stdinIsTerminal) process.on("SIGINT", () => {}); // the child has it; wait for it to finish
  child.on("error", (err) => {
    process.stderr.write(`onebit: error: cannot start ${process.execPath}: ${err.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      // die of the same signal, as a shell expects of the command it ran
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
