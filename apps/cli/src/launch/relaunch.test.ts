import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const relaunchModule = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), "relaunch.ts")).href;
// a stand-in for the CLI: started plain it relaunches itself with CHILD=1; the child reports the signals it gets
const script = `
if (!process.env.CHILD) {
  const { relaunch } = await import(${JSON.stringify(relaunchModule)});
  relaunch({ ...process.env, CHILD: "1" }, { stdinIsTerminal: process.env.AS_TERMINAL === "1" });
} else {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]]) process.on(signal, () => { process.stdout.write("child got " + signal + "\\n"); process.exit(code); });
  if (process.env.DIE) process.kill(process.pid, process.env.DIE);
  process.stdout.write("child ready " + process.env.CHILD + "\\n");
  setInterval(() => {}, 1000);
}
`;
const file = join(mkdtempSync(join(tmpdir(), "onebit-relaunch-")), "cli.mjs");
writeFileSync(file, script);

/** Start the stand-in; once its child is ready, send `signals` to the parent's pid alone, in turn. */
function run(env: NodeJS.ProcessEnv, signals: NodeJS.Signals[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, ["--import", "tsx", file], { env: { ...process.env, CHILD: "", ...env }, stdio: ["pipe", "pipe", "inherit"] });
    let stdout = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (/child ready/.test(stdout) && signals.length > 0) {
        const [first, ...rest] = signals;
        signals = [];
        p.kill(first);
        // a later signal after a pause: the first must not have ended the child
        if (rest.length > 0) setTimeout(() => p.kill(rest[0]), 400);
      }
    });
    p.on("error", fail);
    p.on("exit", (code, signal) => done({ code, signal, stdout }));
  });
}

describe("relaunch", () => {
  it("passes SIGINT on when stdin is not a terminal (a program interrupting the CLI by its pid); the child's exit status comes back", async () => {
    const r = await run({}, ["SIGINT"]);
    expect(r.stdout).toContain("child ready 1");
    expect(r.stdout).toContain("child got SIGINT");
    expect(r.code).toBe(130);
  }, 30_000);

  it("with a terminal on stdin keeps SIGINT (Ctrl-C reached the child already) but passes SIGTERM on", async () => {
    const r = await run({ AS_TERMINAL: "1" }, ["SIGINT", "SIGTERM"]);
    expect(r.stdout).not.toContain("child got SIGINT");
    expect(r.stdout).toContain("child got SIGTERM");
    expect(r.code).toBe(143);
  }, 30_000);

  it("dies of the signal its child died of", async () => {
    const r = await run({ DIE: "SIGKILL" }, []);
    expect(r.signal).toBe("SIGKILL");
  }, 30_000);
});
