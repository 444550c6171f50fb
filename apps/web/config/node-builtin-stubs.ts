/**
 * A vite plugin: Node's built-in modules (node:fs/promises, node:worker_threads, …) become stubs in the browser.
 * @onebit/* packages import them for their Node-only paths (files, worker threads), which a page never takes; but
 * vite's own stand-in throws as soon as a named import is read, which the dev server does when a module is
 * evaluated. The stub exports every name the real module has (read from Node here), each a function that throws if
 * it is ever called, so modules load in dev and build alike and a Node-only path reached by mistake says so.
 * node:path is not stubbed: it is aliased to pathe (vite.config.ts), because the model readers join file names.
 */
import { builtinModules } from "node:module";
import type { Plugin } from "vite";

const PREFIX = "\0onebit-node-stub:";

export function nodeBuiltinStubs(): Plugin {
  return {
    name: "onebit:node-builtin-stubs",
    enforce: "pre",
    resolveId(id) {
      const bare = id.startsWith("node:") ? id.slice(5) : id;
      if (bare === "path" || !builtinModules.includes(bare)) return null;
      return PREFIX + bare;
    },
    async load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const name = id.slice(PREFIX.length);
      const real = (await import(`node:${name}`)) as Record<string, unknown>;
      const names = Object.keys(real).filter((k) => k !== "default" && /^[A-Za-z_$][\w$]*$/.test(k));
      const lines = [
        `const unavailable = (what) => () => { throw new Error(what + " is not available in a browser (a Node-only path of @onebit/* was reached)"); };`,
        ...names.map((n) => `export const ${n} = unavailable(${JSON.stringify(`node:${name}.${n}`)});`),
        "export default {};",
      ];
      return lines.join("\n");
    },
  };
}
