/**
 * The playground as a static site. Workspace packages resolve to their TypeScript ("source" condition), so the site
 * builds without building them first. The headers make the page cross-origin isolated (SharedArrayBuffer, so the
 * wasm backend can run and use threads) in `vite` (dev) and `vite preview`; hosting elsewhere needs the same two
 * headers (README.md). base "./" lets the built site live under any path. appType "mpa": a missing file is a 404,
 * never index.html, so probing a model folder URL for optional files works.
 */
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig, type UserConfig } from "vite";
import { nodeBuiltinStubs } from "./config/node-builtin-stubs.ts";

/** The plugin timing report is noise in a build log. */
const quietLog: NonNullable<NonNullable<UserConfig["build"]>["rolldownOptions"]>["onLog"] = (level, log, handler) => {
  if (log.code === "PLUGIN_TIMINGS") return;
  handler(level, log);
};

const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  base: "./",
  plugins: [nodeBuiltinStubs()],
  appType: "mpa",
  resolve: {
    conditions: ["source", ...defaultClientConditions],
    // @onebit/model joins shard file names with node:path; in the browser a POSIX path module does the same
    // (resolved here: the importing packages do not depend on pathe themselves)
    alias: { "node:path": fileURLToPath(import.meta.resolve("pathe")) },
  },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: "es", plugins: () => [nodeBuiltinStubs()], rolldownOptions: { onLog: quietLog } },
  build: {
    target: "es2022",
    // tfjs (training) and gpu.js (webgl kernels) are large and load in their workers only
    chunkSizeWarningLimit: 4096,
    rolldownOptions: { onLog: quietLog },
  },
});
