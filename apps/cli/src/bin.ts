#!/usr/bin/env node
import { main } from "./program";

// `onebit inspect m | head`: a closed pipe ends the command quietly, as Unix tools do
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // worker threads (wasm kernels) are released by each command; exit promptly even if a handle lingers
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err) => {
    process.stderr.write(`onebit: error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
