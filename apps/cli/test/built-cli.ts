/**
 * Helpers for end-to-end tests: they run the BUILT `onebit` binary (dist/bin.js) as a subprocess, the way a
 * user does. `ensureBuilt` builds the CLI and its workspace dependencies through turbo (cached, so cheap when
 * nothing changed) — `pnpm test` on a fresh clone works without a separate build step.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

export const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = resolve(cliDir, "../..");
export const binPath = join(cliDir, "dist", "bin.js");

export function ensureBuilt(): void {
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--filter=@onebit/cli...", "--output-logs=errors-only"], {
    cwd: repoRoot,
    stdio: "pipe",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs?: number; onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void; onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(d.toString(), child);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(d.toString(), child);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
