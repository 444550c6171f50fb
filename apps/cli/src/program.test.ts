/**
 * program.ts promises that `onebit --help` loads no heavy module: the model, kernels, layers, KV cache, training
 * code, fastify and tfjs are imported only inside a command's `run`. A top-level import of any of them in a command
 * module would slow every invocation; this runs `--help` from source with a resolve hook that lists every module.
 */
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOADED " + r.url + "\\n"); return r; }`;
const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;

describe("onebit --help", () => {
  it("loads no model, kernel, training, fastify or tfjs module", () => {
    const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", "--import", `data:text/javascript,${encodeURIComponent(register)}`, "src/bin.ts", "--help"], {
      cwd: cliDir,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: onebit/);
    const loaded = [...r.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1] ?? "");
    expect(loaded.some((u) => u.endsWith("/apps/cli/src/commands/train.ts"))).toBe(true); // the hook saw the commands
    expect(loaded.filter((u) => /\/packages\/(model|kernels|layers|kv|train)\/|fastify|@tensorflow/.test(u))).toEqual([]);
  });
});
