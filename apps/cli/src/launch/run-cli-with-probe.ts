/**
 * Tests of the CLI's restart (huge-pages.test.ts, young-generation.test.ts): run `src/bin.ts` from source with a
 * probe script that every process the CLI runs in executes first (an --import, which the restarted child inherits
 * with the rest of execArgv), in an environment cleared of the variables that steer the restart.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const STEERING = ["GLIBC_TUNABLES", "ONEBIT_HUGE_PAGES", "NODE_OPTIONS", "ONEBIT_RELAUNCHED"];

export function runCliWithProbe(probe: string, args: string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const base = { ...process.env };
  for (const name of STEERING) delete base[name];
  return spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", "--import", `data:text/javascript,${encodeURIComponent(probe)}`, "src/bin.ts", ...args], {
    cwd: cliDir,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...base, ...env },
  });
}
