/**
 * `pnpm --filter @onebit/web serve [--port N] [--host H]`: serve the built site (run `build` first) cross-origin
 * isolated, as any production host must (README.md). Defaults: 127.0.0.1:4173.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startStaticServer } from "./static-server";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
if (!existsSync(join(root, "index.html"))) {
  console.error(`${root}: no built site (index.html missing); run pnpm --filter @onebit/web build first`);
  process.exit(1);
}
const port = Number(arg("port") ?? 4173);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: expected an integer in [0, 65535], got ${arg("port")}`);
  process.exit(2);
}
const s = await startStaticServer({ root, port, host: arg("host") ?? "127.0.0.1" });
console.log(`onebit playground at ${s.url} (cross-origin isolated: COOP same-origin, COEP require-corp); Ctrl-C stops`);
